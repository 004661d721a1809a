"""Memberships: which organisations a person belongs to, with what role, and the organisation they act in for a
request (chosen at sign-in, switched in the header, fixed for an API token)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events import db
from events.accounts.roles import DOOR, OWNER, RESTRICTABLE_ROLES, ROLES, CurrentUser, OrganisationChoice, restricted_by_default
from events.accounts.tables import Membership, User
from events.errors import Conflict, InvalidInput, NotFound
from events.organisations.tables import Organisation


@dataclass(frozen=True, slots=True)
class MembershipView:
    """One organisation a person can act in (active membership, organisation not suspended)."""

    organisation_id: int
    organisation_slug: str
    organisation_name: str
    role: str


async def memberships_of(user_id: int) -> list[MembershipView]:
    """The organisations the person can act in, by name."""
    rows = (
        await Membership.select(Membership.organisation.id, Membership.organisation.slug, Membership.organisation.name, Membership.role)
        .where(Membership.user == user_id, Membership.deactivated_at.is_null(), Membership.organisation.suspended_at.is_null())
        .order_by(Membership.organisation.name)
    )
    return [MembershipView(row["organisation.id"], row["organisation.slug"], row["organisation.name"], row["role"]) for row in rows]


async def first_organisation_id(user_id: int) -> int | None:
    """The organisation a person acts in when they sign in: their only one, or the first by name."""
    memberships = await memberships_of(user_id)
    return memberships[0].organisation_id if memberships else None


async def acting_as(user_id: int, organisation_id: int | None, *, sign_in_id: int | None = None) -> CurrentUser | None:
    """The person acting in ``organisation_id`` (their role there), or with no organisation when they are not an
    active member of it; None when the account is switched off or unknown."""
    person = (
        await User.select(User.id, User.email, User.display_name, User.is_platform_admin).where(User.id == user_id, User.is_active == True).first()  # noqa: E712
    )
    if person is None:
        return None
    # Every organisation the person can act in, in one query: the one acted in, and the others for the switcher.
    rows = (
        await Membership.select(
            Membership.organisation,
            Membership.role,
            Membership.partner,
            Membership.restricted,
            Membership.organisation.slug,
            Membership.organisation.name,
        )
        .where(Membership.user == user_id, Membership.deactivated_at.is_null(), Membership.organisation.suspended_at.is_null())
        .order_by(Membership.organisation.name)
    )
    membership = next((row for row in rows if organisation_id is not None and row["organisation"] == organisation_id), None)
    choices = tuple(OrganisationChoice(row["organisation"], row["organisation.name"]) for row in rows)
    return current_user_of(person, membership, sign_in_id=sign_in_id, organisations=choices)


def current_user_of(
    person: Mapping[str, Any],
    membership: Mapping[str, Any] | None,
    *,
    sign_in_id: int | None = None,
    device: str = "",
    door_event_id: int | None = None,
    organisations: tuple[OrganisationChoice, ...] = (),
) -> CurrentUser:
    """A CurrentUser from a person's row and their membership's (keys as memberships.acting_as selects them)."""
    return CurrentUser(
        id=person["id"],
        email=person["email"],
        display_name=person["display_name"],
        role=membership["role"] if membership else "",
        partner_id=membership["partner"] if membership else None,
        organisation_id=membership["organisation"] if membership else None,
        organisation_slug=membership["organisation.slug"] if membership else "",
        organisation_name=membership["organisation.name"] if membership else "",
        restricted=bool(membership["restricted"]) if membership else False,
        is_platform_admin=bool(person["is_platform_admin"]),
        sign_in_id=sign_in_id,
        device=device,
        door_event_id=door_event_id,
        organisations=organisations,
    )


def role_problem(role: str) -> str | None:
    return None if role in ROLES else f"Role must be one of: {', '.join(ROLES)}."


async def add_membership(user_id: int, organisation_id: int, *, role: str, partner_id: int | None = None, restricted: bool | None = None) -> None:
    """Make the person a member of the organisation with ``role`` (in the caller's transaction, if any). A member
    whose membership was ended is taken back with the new role. ``restricted`` None: the role's default."""
    if (problem := role_problem(role)) is not None:
        raise InvalidInput(problem, fields={"role": "Unknown role."})
    restricted = (restricted_by_default(role) if restricted is None else restricted) and role in RESTRICTABLE_ROLES
    async with db.write_transaction():
        if not await Organisation.exists().where(Organisation.id == organisation_id):
            raise NotFound("No such organisation.", code="organisation_not_found")
        existing = (
            await Membership.select(Membership.id, Membership.deactivated_at)
            .where(Membership.user == user_id, Membership.organisation == organisation_id)
            .first()
        )
        if existing is not None and existing["deactivated_at"] is None:
            raise Conflict("That person is already on this organisation's team.", code="already_member")
        if existing is not None:
            await Membership.update(
                {Membership.role: role, Membership.partner: partner_id, Membership.restricted: restricted, Membership.deactivated_at: None}
            ).where(Membership.id == existing["id"])
        else:
            await Membership(user=user_id, organisation=organisation_id, role=role, partner=partner_id, restricted=restricted).save()


async def membership_of(user_id: int, organisation_id: int) -> Mapping[str, Any] | None:
    """The person's membership of the organisation (ended ones too), or None."""
    return (
        await Membership.select(Membership.id, Membership.role, Membership.partner, Membership.restricted, Membership.deactivated_at)
        .where(Membership.user == user_id, Membership.organisation == organisation_id)
        .first()
    )


async def door_members(organisation_id: int) -> list[dict[str, Any]]:
    """The organisation's active door members, for a door-team form."""
    return (
        await Membership.select(Membership.user.id, Membership.user.email, Membership.user.display_name)
        .where(
            Membership.organisation == organisation_id,
            Membership.role == DOOR,
            Membership.deactivated_at.is_null(),
            Membership.user.is_active == True,  # noqa: E712
        )
        .order_by(Membership.user.email)
    )


async def is_member(user_id: int, organisation_id: int, *, roles: tuple[str, ...] = ROLES) -> bool:
    return await Membership.exists().where(
        Membership.user == user_id,
        Membership.organisation == organisation_id,
        Membership.role.is_in(list(roles)),
        Membership.deactivated_at.is_null(),
    )


async def end_membership(user_id: int, organisation_id: int, *, now: datetime) -> bool:
    """Take the person off the organisation's team (in the caller's transaction); False if they were not on it."""
    async with db.write_transaction():
        ended = (
            await Membership.update({Membership.deactivated_at: now})
            .where(Membership.user == user_id, Membership.organisation == organisation_id, Membership.deactivated_at.is_null())
            .returning(Membership.id)
        )
    return bool(ended)


async def active_owners(organisation_id: int) -> int:
    """How many active owners the organisation has (its last one may not be removed or demoted)."""
    return await Membership.count().where(
        Membership.organisation == organisation_id,
        Membership.role == OWNER,
        Membership.deactivated_at.is_null(),
        Membership.user.is_active == True,  # noqa: E712
    )


async def change_role(user_id: int, organisation_id: int, role: str) -> str:
    """Give an active member another role (in the caller's transaction); returns the role they had. A partner
    viewer's project and a limit to chosen events go with the old role; the new role starts with its default (a door
    member works the door teams they are put on)."""
    if (problem := role_problem(role)) is not None:
        raise InvalidInput(problem, fields={"role": "Unknown role."})
    async with db.write_transaction():
        row = (
            await Membership.select(Membership.id, Membership.role)
            .where(Membership.user == user_id, Membership.organisation == organisation_id, Membership.deactivated_at.is_null())
            .first()
        )
        if row is None:
            raise NotFound("That person is not on this organisation's team.", code="no_such_person")
        if row["role"] != role:
            await Membership.update({Membership.role: role, Membership.partner: None, Membership.restricted: restricted_by_default(role)}).where(
                Membership.id == row["id"]
            )
    return row["role"]
