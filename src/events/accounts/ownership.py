"""Whether a person may reach another person named in a path (the team pages, their tokens): someone who is, or
was, on the organisation's team; and an invitation named in a path: one of the organisation's. Registered with the role guards (accounts.auth)."""

from __future__ import annotations

from events.accounts import invitations
from events.accounts.auth import register_ownership_check
from events.accounts.offboarding import NO_SUCH_PERSON
from events.accounts.roles import CurrentUser
from events.accounts.tables import Membership


async def may_reach_person(user: CurrentUser, user_id: object) -> bool:
    if not isinstance(user_id, int) or user.organisation_id is None:
        return False
    return await Membership.exists().where(Membership.user == user_id, Membership.organisation == user.organisation_id)


register_ownership_check("user_id", may_reach_person, message=NO_SUCH_PERSON, code="no_such_person")


async def may_reach_invitation(user: CurrentUser, invitation_id: object) -> bool:
    """One of the organisation's invitations (the team page's and the API's revoke and resend)."""
    if not isinstance(invitation_id, int) or user.organisation_id is None:
        return False
    return await invitations.belongs_to(user.organisation_id, invitation_id)


register_ownership_check("invitation_id", may_reach_invitation, message=invitations.NO_SUCH_INVITATION, code="invitation_not_found")
