"""Recording and reading audit entries. Call record() inside the transaction that makes the change, so the
entry and the change commit (or roll back) together."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from events.accounts.roles import CurrentUser
from events.audit.context import current_actor
from events.audit.tables import AuditEntry

SYSTEM_ACTOR = "system"


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
) -> None:
    """Append one entry. The actor defaults to the request's signed-in user (or "system" for the worker)."""
    who = actor or current_actor()
    await AuditEntry.insert(
        AuditEntry(
            at=now,
            actor_id=who.id if who else None,
            actor=who.name if who else SYSTEM_ACTOR,
            device=who.device if who else "",
            action=action,
            event=event_id,
            subject_type=subject_type,
            subject_id=str(subject_id),
            before=json.dumps(_plain(before or {}), sort_keys=True),
            after=json.dumps(_plain(after or {}), sort_keys=True),
        )
    )


async def list_entries(*, event_id: int | None = None, action: str = "", limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """Newest first; filtered to one event and/or one action."""
    query = AuditEntry.select().order_by(AuditEntry.id, ascending=False).limit(limit).offset(offset)
    if event_id is not None:
        query = query.where(AuditEntry.event == event_id)
    if action:
        query = query.where(AuditEntry.action == action)
    rows = await query
    for row in rows:
        for key in ("before", "after"):
            if isinstance(row[key], str):
                row[key] = json.loads(row[key] or "{}")
    return rows
