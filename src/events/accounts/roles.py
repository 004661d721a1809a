"""Roles and what each may do. Pure."""

from __future__ import annotations

from dataclasses import dataclass

ADMIN = "admin"
ORGANISER = "organiser"
DOOR = "door"
PARTNER_VIEWER = "partner_viewer"
ROLES = (ADMIN, ORGANISER, DOOR, PARTNER_VIEWER)
DOOR_SCOPE_PREFIX = "door:"


def door_scope(event_id: int) -> str:
    """The scope of a door device's API token: it works only at this event's door."""
    return f"{DOOR_SCOPE_PREFIX}{event_id}"


def door_event_of_scope(scope: str) -> int | None:
    """The event a token's scope limits it to, or None for an unscoped token."""
    if not scope.startswith(DOOR_SCOPE_PREFIX):
        return None
    event_id = scope.removeprefix(DOOR_SCOPE_PREFIX)
    return int(event_id) if event_id.isdigit() else -1  # a malformed door scope opens no door at all


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
    # Set when the request came with a door device's token: it opens only this event's door API, nothing else,
    # whatever the holder's role (AuthenticationMiddleware and checkin.scanning.door_event check it).
    door_event_id: int | None = None
    # Set when the request came with a signed-in session: which of the person's sign-ins it is (accounts.sign_ins),
    # so they can end the others and keep this one.
    sign_in_id: int | None = None

    def has_role(self, *roles: str) -> bool:
        """Admins may do everything; everyone else needs one of the named roles."""
        return self.role == ADMIN or self.role in roles

    @property
    def name(self) -> str:
        return self.display_name or self.email
