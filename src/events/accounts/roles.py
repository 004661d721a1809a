"""Roles and what each may do. Pure."""

from __future__ import annotations

from dataclasses import dataclass

ADMIN = "admin"
ORGANISER = "organiser"
DOOR = "door"
PARTNER_VIEWER = "partner_viewer"
ROLES = (ADMIN, ORGANISER, DOOR, PARTNER_VIEWER)


@dataclass(frozen=True, slots=True)
class CurrentUser:
    """The signed-in person (or API token holder) for one request."""

    id: int
    email: str
    display_name: str
    role: str
    partner_id: int | None = None
    # The API token's label when the request came with one ("Door 1 phone"): which device scanned.
    device: str = ""

    def has_role(self, *roles: str) -> bool:
        """Admins may do everything; everyone else needs one of the named roles."""
        return self.role == ADMIN or self.role in roles

    @property
    def name(self) -> str:
        return self.display_name or self.email
