"""The audit log as tests read it: the only organisation's (the default a clean test database has), unless named."""

from __future__ import annotations

from typing import Any

from events.audit import service
from events.audit.service import AuditPage, AuditRecord
from events.organisations import service as organisations


async def list_entries(*, organisation: str | None = None, **filters: Any) -> list[AuditRecord]:
    return await service.list_entries((await organisations.resolve(organisation)).id, **filters)


async def audit_page(event_id: int | None, *, organisation: str | None = None, **options: Any) -> AuditPage:
    return await service.audit_page((await organisations.resolve(organisation)).id, event_id, **options)
