"""Organisations: creating one, finding one, its details and logo, suspending it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from piccolo.columns import Column

from events import db
from events.errors import Conflict, InvalidInput, NotFound
from events.i18n import N_
from events.organisations import rules
from events.organisations.tables import Organisation

# The organisation a new installation starts with: single-organisation deployments use it without ever naming
# it, and the migration that introduced organisations moved every existing event and partner into it.
DEFAULT_SLUG = "main"
DEFAULT_NAME = "Our charity"

_PUBLIC_COLUMNS = (
    Organisation.id,
    Organisation.slug,
    Organisation.name,
    Organisation.contact_email,
    Organisation.accent_colour,
    Organisation.logo_content_type,
    Organisation.charity_name,
    Organisation.charity_number,
    Organisation.gift_aid_reference,
    Organisation.whatsapp_enabled,
    Organisation.widget_origins,
    Organisation.created_at,
    Organisation.suspended_at,
)


@dataclass(frozen=True, slots=True)
class OrganisationRow:
    """An organisation as stored, without its logo's bytes."""

    id: int
    slug: str
    name: str
    contact_email: str
    accent_colour: str
    logo_content_type: str
    charity_name: str
    charity_number: str
    gift_aid_reference: str
    whatsapp_enabled: bool
    # The websites that may frame its events' ticket form, one origin per line (rules.widget_origins).
    widget_origins: str
    created_at: datetime
    suspended_at: datetime | None

    @property
    def has_logo(self) -> bool:
        return bool(self.logo_content_type)

    @property
    def suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def charity_line(self) -> str:
        """ "Refugee Kitchen CIO, registered charity 1234567", or the name alone, for receipts and statements."""
        name = self.charity_name or self.name
        return f"{name}, registered charity {self.charity_number}" if self.charity_number else name

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> OrganisationRow:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


async def create_organisation(slug: str, details: rules.OrganisationDetails) -> OrganisationRow:
    slug = slug.strip().lower()
    problems = rules.details_problems(details)
    if (problem := rules.slug_problem(slug)) is not None:
        problems["slug"] = problem
    if problems:
        raise InvalidInput(next(iter(problems.values())), fields=problems)
    async with db.write_transaction():
        if await Organisation.exists().where(Organisation.slug == slug):
            raise Conflict(f"An organisation with the slug {slug!r} already exists.", code="organisation_slug_taken")
        row = await Organisation.insert(Organisation(slug=slug, **{str(name): value for name, value in _stored(details).items()})).returning(
            *_PUBLIC_COLUMNS
        )
    return OrganisationRow.of(row[0])


async def ensure_default_organisation() -> OrganisationRow:
    """The installation's first organisation, made if there is none (a new database, an emptied test database)."""
    async with db.write_transaction():
        row = await Organisation.select(*_PUBLIC_COLUMNS).order_by(Organisation.id).first()
        if row is None:
            row = (await Organisation.insert(Organisation(slug=DEFAULT_SLUG, name=DEFAULT_NAME)).returning(*_PUBLIC_COLUMNS))[0]
    return OrganisationRow.of(row)


async def update_details(organisation_id: int, details: rules.OrganisationDetails) -> OrganisationRow:
    if problems := rules.details_problems(details):
        raise InvalidInput(next(iter(problems.values())), fields=problems)
    async with db.write_transaction():
        rows = await Organisation.update(_stored(details)).where(Organisation.id == organisation_id).returning(*_PUBLIC_COLUMNS)
    if not rows:
        raise NotFound(N_("We could not find that organisation."), code="organisation_not_found")
    return OrganisationRow.of(rows[0])


async def set_logo(organisation_id: int, data: bytes | None) -> None:
    """Replace the logo (None removes it)."""
    if data is not None and (problem := rules.logo_problem(data)) is not None:
        raise InvalidInput(problem, fields={"logo": problem})
    content_type = rules.logo_content_type(data) if data else ""
    async with db.write_transaction():
        await Organisation.update({Organisation.logo: data, Organisation.logo_content_type: content_type or ""}).where(
            Organisation.id == organisation_id
        )


async def set_widget_origins(organisation_id: int, value: str) -> OrganisationRow:
    """Replace the websites that may frame the organisation's ticket form (refused whole when one is not an origin)."""
    origins, problem = rules.widget_origins(value)
    if problem is not None:
        raise InvalidInput(problem, fields={"widget_origins": problem})
    async with db.write_transaction():
        rows = (
            await Organisation.update({Organisation.widget_origins: "\n".join(origins)})
            .where(Organisation.id == organisation_id)
            .returning(*_PUBLIC_COLUMNS)
        )
    if not rows:
        raise NotFound(N_("We could not find that organisation."), code="organisation_not_found")
    return OrganisationRow.of(rows[0])


async def framing_origins(slug: str) -> tuple[str, ...]:
    """The origins that may frame an active organisation's ticket form: none for a suspended or unknown one."""
    row = await Organisation.select(Organisation.widget_origins).where(Organisation.slug == slug, Organisation.suspended_at.is_null()).first()
    return tuple(row["widget_origins"].split()) if row else ()


async def logo(slug: str) -> tuple[bytes, str]:
    """An active organisation's logo and its content type, or a 404."""
    row = (
        await Organisation.select(Organisation.logo, Organisation.logo_content_type)
        .where(Organisation.slug == slug, Organisation.suspended_at.is_null())
        .first()
    )
    if row is None or not row["logo"]:
        raise NotFound(N_("We could not find that organisation."), code="organisation_not_found")
    return bytes(row["logo"]), row["logo_content_type"]


async def set_suspended(slug: str, *, suspended: bool, now: datetime) -> OrganisationRow:
    async with db.write_transaction():
        rows = (
            await Organisation.update({Organisation.suspended_at: now if suspended else None})
            .where(Organisation.slug == slug)
            .returning(*_PUBLIC_COLUMNS)
        )
    if not rows:
        raise NotFound(f"No organisation with the slug {slug!r}.", code="organisation_not_found")
    return OrganisationRow.of(rows[0])


async def by_id(organisation_id: int) -> OrganisationRow:
    row = await Organisation.select(*_PUBLIC_COLUMNS).where(Organisation.id == organisation_id).first()
    if row is None:
        raise NotFound(N_("We could not find that organisation."), code="organisation_not_found")
    return OrganisationRow.of(row)


async def by_ids(organisation_ids: set[int]) -> dict[int, OrganisationRow]:
    if not organisation_ids:
        return {}
    rows = await Organisation.select(*_PUBLIC_COLUMNS).where(Organisation.id.is_in(sorted(organisation_ids)))
    return {row["id"]: OrganisationRow.of(row) for row in rows}


async def find_active(slug: str) -> OrganisationRow:
    """An organisation that is not suspended, for its public page, or a 404."""
    row = await Organisation.select(*_PUBLIC_COLUMNS).where(Organisation.slug == slug, Organisation.suspended_at.is_null()).first()
    if row is None:
        raise NotFound(N_("We could not find that organisation."), code="organisation_not_found")
    return OrganisationRow.of(row)


async def find(slug: str) -> OrganisationRow:
    """Any organisation, suspended or not (platform admin and the command line), or a 404."""
    row = await Organisation.select(*_PUBLIC_COLUMNS).where(Organisation.slug == slug).first()
    if row is None:
        raise NotFound(f"No organisation with the slug {slug!r}.", code="organisation_not_found")
    return OrganisationRow.of(row)


async def all_organisations() -> list[OrganisationRow]:
    return [OrganisationRow.of(row) for row in await Organisation.select(*_PUBLIC_COLUMNS).order_by(Organisation.name)]


async def resolve(slug: str | None) -> OrganisationRow:
    """The organisation a command means: the named one, or the only one when none is named."""
    if slug:
        return await find(slug)
    rows = await Organisation.select(*_PUBLIC_COLUMNS).limit(2)
    if len(rows) == 1:
        return OrganisationRow.of(rows[0])
    if not rows:
        raise NotFound("There is no organisation yet: create one with `events org create SLUG --name NAME`.", code="organisation_not_found")
    raise InvalidInput("There is more than one organisation: name one with --org SLUG.", fields={"org": "Name the organisation."})


def _stored(details: rules.OrganisationDetails) -> dict[Column | str, Any]:
    return {
        "name": details.name.strip(),
        "contact_email": details.contact_email.strip().lower(),
        "accent_colour": details.accent_colour.lower(),
        "charity_name": details.charity_name.strip(),
        "charity_number": rules.normalise_charity_number(details.charity_number),
        "gift_aid_reference": rules.normalise_charity_number(details.gift_aid_reference),
        "whatsapp_enabled": details.whatsapp_enabled,
    }


async def logo_by_id(organisation_id: int) -> bytes | None:
    """An organisation's logo (for its tickets' PDF), or None when it has none."""
    row = await Organisation.select(Organisation.logo).where(Organisation.id == organisation_id).first()
    return bytes(row["logo"]) if row and row["logo"] else None
