"""Whether a person may reach a payout named in a path: one to a partner project of their organisation (a partner
viewer: only their own project's). Registered with the role guards (accounts.auth)."""

from __future__ import annotations

from events.accounts.auth import register_ownership_check
from events.accounts.roles import PARTNER_VIEWER, CurrentUser
from events.i18n import N_
from events.ledger.tables import Payout


async def may_reach_payout(user: CurrentUser, payout_id: object) -> bool:
    if not isinstance(payout_id, int) or user.organisation_id is None:
        return False
    row = await Payout.select(Payout.partner, Payout.partner.organisation).where(Payout.id == payout_id).first()
    if row is None or row["partner.organisation"] != user.organisation_id:
        return False
    return user.role != PARTNER_VIEWER or row["partner"] == user.partner_id


register_ownership_check("payout_id", may_reach_payout, message=N_("We could not find that payout."), code="payout_not_found")
