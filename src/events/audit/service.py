"""Recording and reading audit entries. Call record() inside the transaction that makes the change, so the
entry and the change commit (or roll back) together."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from events import db
from events.accounts.roles import CurrentUser
from events.audit import display
from events.audit.context import current_actor
from events.audit.tables import AuditEntry

SYSTEM_ACTOR = "system"
# The organisation an event's entries belong to (the event table is the catalogue's, a layer above: the audit entry
# names it lazily, and reads it with one line of SQL rather than importing it). Argument: the event id.
EVENT_ORGANISATION = "SELECT organisation FROM event WHERE id = {}"
PER_PAGE = 50


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audit entry as recorded, with its event's slug and title (None for entries about no event)."""

    id: int
    at: datetime
    actor_id: int | None
    actor: str
    device: str
    action: str
    event: int | None
    subject_type: str
    subject_id: str
    before: dict[str, Any]  # the values the action changed, as they were (JSON)
    after: dict[str, Any]  # and as they became
    event_slug: str | None
    event_title: str | None
    # The event's, for showing its amounts and times (display.shown_changes); a UK charity's defaults for the rest.
    event_currency: str = "GBP"
    event_timezone: str = "Europe/London"

    @property
    def changes(self) -> list[tuple[str, Any, Any]]:
        """(name, before, after) for every value the entry names, in the order it names them."""
        keys = list(dict.fromkeys([*self.before, *self.after]))
        return [(key, self.before.get(key), self.after.get(key)) for key in keys]

    @property
    def shown_changes(self) -> list[display.ShownChange]:
        """The changes as the log page shows them: pounds, per cent, local times, yes and no; empty ones left out."""
        return display.shown_changes(self.changes, currency=self.event_currency, timezone=self.event_timezone)


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of the log, newest first, with the actions it can be filtered by."""

    entries: list[AuditRecord]
    actions: list[str]
    action: str
    page: int
    pages: int
    total: int


def _plain(value: Any) -> Any:
    """JSON-friendly copies of the values an action changed (dates as ISO text)."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(item) for item in value]
    return value


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose value differs, as (before, after): an edit of one field logs one field."""
    keys = [key for key in after if before.get(key) != after.get(key)]
    return {key: before.get(key) for key in keys}, {key: after.get(key) for key in keys}


async def record(
    action: str,
    *,
    now: datetime,
    event_id: int | None = None,
    subject_type: str = "",
    subject_id: str | int = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    actor: CurrentUser | None = None,
    anonymous_actor: str = SYSTEM_ACTOR,
    organisation_id: int | None = None,
) -> None:
    """Append one entry to an organisation's log: the event's organisation's, else ``organisation_id``, else the
    one the actor is acting in (none: a platform admin's action on the service). The actor defaults to the
    request's signed-in user; with nobody signed in it is ``anonymous_actor`` ("system" for the worker, e.g.
    "guest" for a buyer using their order link)."""
    who = actor or current_actor()
    if event_id is not None:
        rows = await db.run(EVENT_ORGANISATION, event_id)
        organisation_id = rows[0]["organisation"] if rows else organisation_id
    elif organisation_id is None and who is not None:
        organisation_id = who.organisation_id
    await AuditEntry.insert(
        AuditEntry(
            at=now,
            actor_id=who.id if who else None,
            actor=who.name if who else anonymous_actor,
            device=who.device if who else "",
            action=action,
            organisation=organisation_id,
            event=event_id,
            subject_type=subject_type,
            subject_id=str(subject_id),
            before=json.dumps(_plain(before or {}), sort_keys=True),
            after=json.dumps(_plain(after or {}), sort_keys=True),
        )
    )


async def list_entries(
    organisation_id: int, *, event_id: int | None = None, action: str = "", limit: int = 100, offset: int = 0
) -> list[AuditRecord]:
    """One organisation's log, newest first; filtered to one event and/or one action. Each row carries its event's
    slug and title."""
    query = (
        AuditEntry.select(
            *AuditEntry.all_columns(), AuditEntry.event.slug, AuditEntry.event.title, AuditEntry.event.currency, AuditEntry.event.timezone
        )
        .where(AuditEntry.organisation == organisation_id)
        .order_by(AuditEntry.id, ascending=False)
        .limit(limit)
        .offset(offset)
    )
    if event_id is not None:
        query = query.where(AuditEntry.event == event_id)
    if action:
        query = query.where(AuditEntry.action == action)
    return [_record(row) for row in await query]


def _record(row: dict[str, Any]) -> AuditRecord:
    before, after = (json.loads(row[key] or "{}") if isinstance(row[key], str) else row[key] for key in ("before", "after"))
    return AuditRecord(
        id=row["id"],
        at=row["at"],
        actor_id=row["actor_id"],
        actor=row["actor"],
        device=row["device"],
        action=row["action"],
        event=row["event"],
        subject_type=row["subject_type"],
        subject_id=row["subject_id"],
        before=before,
        after=after,
        event_slug=row["event.slug"],
        event_title=row["event.title"],
        event_currency=row.get("event.currency") or "GBP",
        event_timezone=row.get("event.timezone") or "Europe/London",
    )


async def count_entries(organisation_id: int, *, event_id: int | None = None, action: str = "") -> int:
    query = AuditEntry.count().where(AuditEntry.organisation == organisation_id)
    if event_id is not None:
        query = query.where(AuditEntry.event == event_id)
    if action:
        query = query.where(AuditEntry.action == action)
    return await query


async def recorded_actions(organisation_id: int, *, event_id: int | None = None) -> list[str]:
    """Every action name in the organisation's log (for one event), for the filter's choices."""
    query = AuditEntry.select(AuditEntry.action).where(AuditEntry.organisation == organisation_id).distinct().order_by(AuditEntry.action)
    if event_id is not None:
        query = query.where(AuditEntry.event == event_id)
    return [row["action"] for row in await query]


def paging(total: int, page: int, per_page: int) -> tuple[int, int, int]:
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    return page, pages, (page - 1) * per_page


async def audit_page(organisation_id: int, event_id: int | None, *, action: str = "", page: int = 1, per_page: int = PER_PAGE) -> AuditPage:
    """One page of the organisation's log (all of it, or one event's), newest first, with the actions it can be
    filtered by."""
    actions = await recorded_actions(organisation_id, event_id=event_id)
    action = action if action in actions else ""
    total = await count_entries(organisation_id, event_id=event_id, action=action)
    page, pages, offset = paging(total, page, per_page)
    entries = await list_entries(organisation_id, event_id=event_id, action=action, limit=per_page, offset=offset)
    return AuditPage(entries=entries, actions=actions, action=action, page=page, pages=pages, total=total)
