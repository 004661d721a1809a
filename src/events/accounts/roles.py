"""Roles a person holds in an organisation, and what each may do. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from events.i18n import N_

# An owner does everything an organiser does, and also manages the team (invitations, roles, deactivation), the
# organisation's details and its Stripe account.
OWNER = "owner"
ORGANISER = "organiser"
# A treasurer looks after the money, not the events: every statement (events, series, partner projects) and its
# downloads, checking them against Stripe, where unused pay-it-forward money goes, payouts to partner projects, and
# the Gift Aid schedule (with its donors' names and addresses, which HMRC needs). They do not set events up, see
# orders or guest lists, message guests, work the door or manage the team.
TREASURER = "treasurer"
DOOR = "door"
PARTNER_VIEWER = "partner_viewer"
ROLES = (OWNER, ORGANISER, TREASURER, DOOR, PARTNER_VIEWER)
# How the pages and emails name each role (translated where shown).
ROLE_NAMES = {
    OWNER: N_("owner"),
    ORGANISER: N_("organiser"),
    TREASURER: N_("treasurer"),
    DOOR: N_("door team"),
    PARTNER_VIEWER: N_("partner viewer"),
}
# Roles whose home is the back office (the rest land on their account page).
BACK_OFFICE_ROLES = (ORGANISER, TREASURER)
# Roles that may be limited to chosen events (an organiser's in catalogue.EventAccess, a door member's door team).
RESTRICTABLE_ROLES = (ORGANISER, DOOR)


def restricted_by_default(role: str) -> bool:
    """Door staff work the doors they are put on (the door team) unless an owner lets them scan every event; an
    organiser manages every event unless limited to chosen ones."""
    return role == DOOR


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
class OrganisationChoice:
    """One organisation a signed-in person can act in, for the header's switcher."""

    id: int
    name: str


@dataclass(frozen=True, slots=True)
class CurrentUser:
    """The signed-in person (or API token holder) for one request, acting in one organisation: the one chosen in
    the session (accounts.memberships) or the token's. ``role`` is their role there; with no organisation (none
    left, or theirs suspended) it is empty and no organisation's route lets them in."""

    id: int
    email: str
    display_name: str
    role: str
    partner_id: int | None = None
    organisation_id: int | None = None
    organisation_slug: str = ""
    organisation_name: str = ""
    # An organiser limited to chosen events (catalogue.EventAccess), or a door member to their door team.
    restricted: bool = False
    is_platform_admin: bool = False
    # The API token's label when the request came with one ("Door 1 phone"): which device scanned.
    device: str = ""
    # Set when the request came with a door device's token: it opens only this event's door API, nothing else,
    # whatever the holder's role (AuthenticationMiddleware and checkin.scanning.door_event check it).
    door_event_id: int | None = None
    # Set when the request came with a signed-in session: which of the person's sign-ins it is (accounts.sign_ins),
    # so they can end the others and keep this one.
    sign_in_id: int | None = None
    # Every organisation a signed-in person can act in, by name (empty for API tokens): the header's switcher.
    organisations: tuple[OrganisationChoice, ...] = ()

    def has_role(self, *roles: str) -> bool:
        """Owners may do everything in their organisation; everyone else needs one of the named roles."""
        return self.organisation_id is not None and (self.role == OWNER or self.role in roles)

    @property
    def scans_every_event(self) -> bool:
        """May scan any event of the organisation without being on its door team: an owner, an organiser not
        limited to chosen events, or a door member not limited to their door team."""
        if not self.has_role(ORGANISER, DOOR):
            return False
        return self.role == OWNER or not self.restricted

    @property
    def organisation(self) -> int:
        """The organisation acted in; routes reach here only through a role guard, which needs one."""
        if self.organisation_id is None:
            raise PermissionError("No organisation is being acted in.")
        return self.organisation_id

    @property
    def name(self) -> str:
        return self.display_name or self.email
