"""Door HTTP: the redeem API (online and offline sync), counts, search and the offline bundle."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from events.accounts.auth import requires_role
from events.accounts.roles import DOOR, ORGANISER, CurrentUser
from events.checkin import service
from events.checkin.schemas import (
    CountsOut,
    OfflineBundle,
    RedeemIn,
    RedeemOut,
    ScannedTicketOut,
    SearchHit,
    SyncedScan,
    SyncIn,
    SyncOut,
)
from events.dependencies import BEARER, error_responses


def _out(result: service.ScanResult) -> RedeemOut:
    ticket = result.ticket
    return RedeemOut(
        status=result.status,  # type: ignore[arg-type]
        reason=result.reason,  # type: ignore[arg-type]
        ticket=ScannedTicketOut(ticket.holder, ticket.type, ticket.checked_in_at, ticket.checked_in_by) if ticket else None,
    )


class CheckinApi(Controller):
    path = "/api/checkin"
    tags = ["Door check-in"]
    guards = [requires_role(DOOR, ORGANISER)]
    security = BEARER

    @post("/redeem", status_code=200, summary="Scan a ticket at the door", responses=error_responses(401, 403, 404, 422))
    async def redeem(self, request: Request[Any, Any, Any], data: JSONBody[RedeemIn], now: NamedDependency[datetime]) -> RedeemOut:
        user: CurrentUser = request.user
        event = await service.door_event(data.event, user)
        result = await service.redeem(
            event, data.secret, data.nonce, device=user.name, scanned_at=data.scanned_at or now, now=now, direction=data.direction
        )
        return _out(result)

    @post("/sync", status_code=200, summary="Upload scans made offline; conflicts are flagged", responses=error_responses(401, 403, 404, 422))
    async def sync(self, request: Request[Any, Any, Any], data: JSONBody[SyncIn], now: NamedDependency[datetime]) -> SyncOut:
        user: CurrentUser = request.user
        event = await service.door_event(data.event, user)
        results = [
            (scan.nonce, await service.redeem(
                event, scan.secret, scan.nonce, device=user.name, scanned_at=scan.scanned_at, now=now,
                direction=scan.direction, offline_result=scan.result,
            ))
            for scan in sorted(data.scans, key=lambda s: s.scanned_at)
        ]
        synced = [SyncedScan(nonce, r.status, r.reason, r.conflict) for nonce, r in results]  # type: ignore[arg-type]
        return SyncOut(scans=synced, conflicts=sum(1 for s in synced if s.conflict))

    @get("/events/{slug:str}/offline", summary="Keys, ticket index and revocation list for offline scanning", responses=error_responses(401, 403, 404))
    async def offline(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> OfflineBundle:
        bundle = await service.offline_bundle(await service.door_event(slug, request.user))
        return msgspec.convert(bundle, OfflineBundle)

    @get("/events/{slug:str}/counts", summary="Admitted and expected", responses=error_responses(401, 403, 404))
    async def counts(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> CountsOut:
        return CountsOut(**await service.counts(await service.door_event(slug, request.user)))

    @get("/events/{slug:str}/search", summary="Find tickets by name or order reference", responses=error_responses(401, 403, 404))
    async def search(self, request: Request[Any, Any, Any], slug: FromPath[str], q: FromQuery[str] = "") -> list[SearchHit]:
        hits = await service.search(await service.door_event(slug, request.user), q)
        return [SearchHit(**hit) for hit in hits]
