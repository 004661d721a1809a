"""Inviting people to an organisation's team, and their accepting: accounts keeps the invitation and its link; here
the layers above it join in, in the same transaction: the chosen events and partner project are checked to be the
organisation's, an organiser is limited to their chosen events (catalogue.access), a door member is put on those
events' door teams (checkin.door_team), and every step is recorded in the organisation's audit log. Here, not in
accounts/: the audit log, the catalogue and the door team are layers above accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from events import db
from events.accounts import invitations
from events.accounts.invitations import Accepted, InvitationView
from events.accounts.roles import DOOR, ORGANISER, CurrentUser
from events.accounts.rules import InvitationState
from events.audit import service as audit
from events.catalogue import access
from events.catalogue.tables import Event, Partner
from events.checkin import door_team
from events.errors import InvalidInput, TooManyAttempts
from events.i18n import N_
from events.ratelimit import service as ratelimit

INVITE_WINDOW_SECONDS = 3600
# Enough for an owner setting up a whole team in an afternoon; few enough that the service cannot be made to
# send a flood of email on anyone's behalf.
INVITES_PER_ORGANISATION = 30
INVITES_PER_CLIENT = 30
TOO_MANY_INVITATIONS = N_("Too many invitations sent in the last hour: try again later.")


@dataclass(frozen=True, slots=True)
class InvitationRequest:
    """What an owner asks for (from the form or the API), checked here."""

    email: str
    role: str
    event_slugs: tuple[str, ...] = ()
    partner_slug: str = ""


@dataclass(frozen=True, slots=True)
class Choices:
    """The organisation's events and partner projects an invitation may name, for the invite form."""

    events: list[tuple[str, str]]  # (slug, title)
    partners: list[tuple[str, str]]  # (slug, name)


async def choices(organisation_id: int) -> Choices:
    events = await Event.select(Event.slug, Event.title).where(Event.organisation == organisation_id).order_by(Event.starts_at, ascending=False)
    partners = await Partner.select(Partner.slug, Partner.name).where(Partner.organisation == organisation_id).order_by(Partner.name)
    return Choices([(row["slug"], row["title"]) for row in events], [(row["slug"], row["name"]) for row in partners])


async def _limit(organisation_id: int, client: str, *, now: datetime) -> None:
    now_epoch = int(now.timestamp())
    decisions = [
        await ratelimit.hit(scope, subject, limit=limit, window_seconds=INVITE_WINDOW_SECONDS, now_epoch=now_epoch)
        for scope, subject, limit in (
            ("invite-organisation", str(organisation_id), INVITES_PER_ORGANISATION),
            ("invite-client", client, INVITES_PER_CLIENT),
        )
    ]
    if refused := [decision for decision in decisions if not decision.allowed]:
        raise TooManyAttempts(TOO_MANY_INVITATIONS, retry_after_seconds=max(decision.retry_after_seconds for decision in refused))


async def _resolve(organisation_id: int, request: InvitationRequest) -> tuple[list[int], int | None]:
    """The ids of the events and partner project the request names, all the organisation's (else bad input, as if
    another organisation's did not exist)."""
    slugs = sorted({slug.strip() for slug in request.event_slugs if slug.strip()})
    event_ids: list[int] = []
    if slugs:
        rows = await Event.select(Event.id, Event.slug).where(Event.slug.is_in(slugs), Event.organisation == organisation_id)
        if len(rows) != len(slugs):
            raise InvalidInput(N_("Choose events of this organisation."), fields={"events": N_("Choose events of this organisation.")})
        event_ids = [row["id"] for row in rows]
    partner_id = None
    if request.partner_slug.strip():
        row = await Partner.select(Partner.id).where(Partner.slug == request.partner_slug.strip(), Partner.organisation == organisation_id).first()
        if row is None:
            raise InvalidInput(
                N_("Choose a partner project of this organisation."), fields={"partner": N_("Choose a partner project of this organisation.")}
            )
        partner_id = row["id"]
    return event_ids, partner_id


async def invite(
    organisation_id: int, request: InvitationRequest, *, invited_by: CurrentUser | None, client: str, locale: str, now: datetime
) -> InvitationView:
    """Invite someone (an owner on the team page or the API, or a platform admin for a new organisation's first
    owner): rate-limited per organisation and per client, recorded in the organisation's audit log."""
    event_ids, partner_id = await _resolve(organisation_id, request)
    await _limit(organisation_id, client, now=now)
    async with db.write_transaction():
        invitation = await invitations.create_invitation(
            organisation_id,
            email=request.email,
            role=request.role,
            partner_id=partner_id,
            event_ids=event_ids,
            invited_by=invited_by.id if invited_by else None,
            locale=locale,
            now=now,
        )
        await audit.record(
            "invitation.sent",
            now=now,
            organisation_id=organisation_id,
            actor=invited_by,
            subject_type="invitation",
            subject_id=invitation.id,
            after={"email": invitation.email, "role": invitation.role, "events": request.event_slugs, "partner": request.partner_slug or None},
        )
    return invitation


async def resend(actor: CurrentUser, invitation_id: int, *, client: str, locale: str, now: datetime) -> InvitationView:
    await _limit(actor.organisation, client, now=now)
    async with db.write_transaction():
        invitation = await invitations.resend_invitation(actor.organisation, invitation_id, locale=locale, now=now)
        await audit.record(
            "invitation.resent",
            now=now,
            subject_type="invitation",
            subject_id=invitation_id,
            after={"email": invitation.email, "role": invitation.role},
        )
    return invitation


async def revoke(actor: CurrentUser, invitation_id: int, *, now: datetime) -> InvitationView:
    async with db.write_transaction():
        before = await invitations.revoke_invitation(actor.organisation, invitation_id, now=now)
        if before.state in (InvitationState.pending, InvitationState.expired):
            await audit.record(
                "invitation.revoked",
                now=now,
                subject_type="invitation",
                subject_id=invitation_id,
                before={"email": before.email, "role": before.role},
                after={"revoked": True},
            )
    return before


async def accept(
    token: str, *, now: datetime, display_name: str = "", password: str = "", signed_in_user_id: int | None = None
) -> Accepted | InvitationState:
    """Accept an invitation and give the new member what it promised, in one transaction: an organiser limited to
    the chosen events, a door member on each chosen event's door team."""
    async with db.write_transaction():
        accepted = await invitations.accept(token, now=now, display_name=display_name, password=password, signed_in_user_id=signed_in_user_id)
        if not isinstance(accepted, Accepted):
            return accepted
        if accepted.event_ids and accepted.role == ORGANISER:
            await access.set_chosen_events(accepted.membership_id, accepted.event_ids, accepted.organisation_id)
        if accepted.role == DOOR:
            own = await Event.select(Event.id).where(Event.id.is_in(accepted.event_ids or [-1]), Event.organisation == accepted.organisation_id)
            for row in own:
                await door_team.assign_door_staff(row["id"], accepted.user_id, now=now)
        await audit.record(
            "invitation.accepted",
            now=now,
            organisation_id=accepted.organisation_id,
            anonymous_actor="invited person",
            subject_type="user",
            subject_id=accepted.user_id,
            after={"invitation": accepted.invitation_id, "role": accepted.role, "new_account": accepted.new_account},
        )
    return accepted
