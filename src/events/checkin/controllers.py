"""Door HTTP: the redeem API (online and offline sync), counts, search, the offline bundle, and the door page
with its two ways to make a phone a door device (sign in, or an organiser's pairing QR)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, URLEncodedBody
from litestar.response import File, Template

from events import i18n
from events.accounts.auth import DOOR_TOKEN_ROUTE, requires_role
from events.accounts.roles import DOOR, ORGANISER, CurrentUser
from events.accounts.sessions import start_session
from events.catalogue.lookup import find_event
from events.checkin import devices, door_team, scanning
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
    TicketEventOut,
)
from events.config import PROJECT_ROOT, Settings
from events.dependencies import BEARER, error_responses
from events.errors import EventsError
from events.orders.schemas import Email
from events.tickets.qr import qr_svg

# Door pages carry a device's token or a pairing code once: never from a shared cache, never indexed.
PRIVATE_PAGE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def _device(user: CurrentUser) -> str:
    """Which door scanned: the token's device name, else the person."""
    return user.device or user.name


def _out(result: scanning.ScanResult) -> RedeemOut:
    ticket = result.ticket
    return RedeemOut(
        status=result.status,  # type: ignore[arg-type]
        reason=result.reason,  # type: ignore[arg-type]
        ticket=ScannedTicketOut(ticket.holder, ticket.type, ticket.checked_in_at, ticket.checked_in_by) if ticket else None,
        ticket_event=TicketEventOut(result.ticket_event.slug, result.ticket_event.title) if result.ticket_event else None,
    )


class CheckinApi(Controller):
    path = "/api/checkin"
    tags = ["Door check-in"]
    guards = [requires_role(DOOR, ORGANISER)]
    security = BEARER
    opt = {DOOR_TOKEN_ROUTE: True}  # a door device's token works here, for its own event (scanning.door_event)

    @post("/redeem", status_code=200, summary="Scan a ticket at the door", responses=error_responses(401, 403, 404, 409, 422))
    async def redeem(self, request: Request[Any, Any, Any], data: JSONBody[RedeemIn], now: NamedDependency[datetime]) -> RedeemOut:
        user: CurrentUser = request.user
        result = await scanning.redeem(
            data.event,
            user,
            data.secret,
            data.nonce,
            device=_device(user),
            scanned_at=data.scanned_at or now,
            now=now,
            direction=data.direction,
        )
        return _out(result)

    @post("/sync", status_code=200, summary="Upload scans made offline; conflicts are flagged", responses=error_responses(401, 403, 404, 409, 422))
    async def sync(self, request: Request[Any, Any, Any], data: JSONBody[SyncIn], now: NamedDependency[datetime]) -> SyncOut:
        user: CurrentUser = request.user
        event = await scanning.door_event(data.event, user)
        results = [
            (
                scan.nonce,
                await scanning.redeem(
                    event.slug,
                    user,
                    scan.secret,
                    scan.nonce,
                    device=_device(user),
                    scanned_at=scan.scanned_at,
                    now=now,
                    direction=scan.direction,
                    offline_result=scan.result,
                ),
            )
            for scan in sorted(data.scans, key=lambda s: s.scanned_at)
        ]
        outs = [(nonce, r, _out(r)) for nonce, r in results]
        synced = [SyncedScan(nonce, r.status, r.reason, r.conflict, out.ticket, out.ticket_event) for nonce, r, out in outs]  # type: ignore[arg-type]
        return SyncOut(scans=synced, conflicts=sum(1 for s in synced if s.conflict))

    @get(
        "/events/{slug:str}/offline", summary="Keys, ticket index and revocation list for offline scanning", responses=error_responses(401, 403, 404)
    )
    async def offline(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> OfflineBundle:
        return await scanning.offline_bundle(await scanning.door_event(slug, request.user))

    @get("/events/{slug:str}/counts", summary="Admitted and expected", responses=error_responses(401, 403, 404))
    async def counts(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> CountsOut:
        return await scanning.counts(await scanning.door_event(slug, request.user))

    @get("/events/{slug:str}/search", summary="Find tickets by name or order reference", responses=error_responses(401, 403, 404))
    async def search(self, request: Request[Any, Any, Any], slug: FromPath[str], q: FromQuery[str] = "") -> list[SearchHit]:
        return await scanning.search(await scanning.door_event(slug, request.user), q, locale=request.state.locale)


class DeviceForm(msgspec.Struct):
    device: str = ""


def _door_template(
    request: Request[Any, Any, Any],
    page: devices.DoorPage,
    *,
    new_token: str | None = None,
    device: str = "",
    error: EventsError | None = None,
    pair_error: EventsError | None = None,
) -> Template:
    user: CurrentUser = request.user
    return Template(
        "checkin/door.html",
        context={
            "page": page,
            "event": page.event,
            "door_user": user,
            "can_pair": user.has_role(ORGANISER),
            "new_token": new_token,
            "device": device,
            "error": error,
            "pair_error": pair_error,
            "pairing_minutes": devices.PAIRING_MINUTES,
        },
        status_code=error.status_code if error else pair_error.status_code if pair_error else 200,
        headers=PRIVATE_PAGE,
    )


class DoorPages(Controller):
    """The door page for people. The page itself is signed-in only; its script talks to /api with a
    device token kept in the browser, so scanning carries on when the session or the network is gone."""

    path = "/door"
    include_in_schema = False

    @get("/{slug:str}", name="door_page", guards=[requires_role(DOOR, ORGANISER)])
    async def door(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
        return _door_template(request, await devices.door_page(slug, request.user))

    @post("/{slug:str}/device", status_code=200, guards=[requires_role(DOOR, ORGANISER)])
    async def use_this_device(
        self, request: Request[Any, Any, Any], slug: FromPath[str], data: URLEncodedBody[DeviceForm], now: NamedDependency[datetime]
    ) -> Template:
        page = await devices.door_page(slug, request.user)
        try:
            token = await devices.register_device(request.user, page.event, data.device, now=now)
        except EventsError as error:
            return _door_template(request, page, device=data.device, error=error)
        return _door_template(request, page, new_token=token, device=" ".join(data.device.split()))

    # The organiser's page (in English like the back office: i18n.STAFF_LOCALE); the door team's pages keep their language.
    @post("/{slug:str}/pairings", status_code=201, guards=[requires_role(ORGANISER)], opt={i18n.STAFF_PAGE: True})
    async def pair_a_phone(
        self,
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        data: URLEncodedBody[DeviceForm],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
    ) -> Template:
        page = await devices.door_page(slug, request.user)
        try:
            pairing = await devices.create_pairing(page.event, data.device, created_by=request.user.name, paired_by=request.user.id, now=now)
        except EventsError as error:
            return _door_template(request, page, pair_error=error)
        url = f"{settings.base_url}/door/pair/{pairing.code}"
        return Template(
            "checkin/pairing.html",
            context={"pairing": pairing, "url": url, "qr": qr_svg(url), "minutes": devices.PAIRING_MINUTES},
            status_code=201,
            headers=PRIVATE_PAGE,
        )

    @get("/pair/{code:str}", name="door_pairing")
    async def pairing_offer(self, code: FromPath[str], now: NamedDependency[datetime]) -> Template:
        # Opening the link only shows it: link previews and prefetchers must not spend the one use.
        pairing = await devices.pending_pairing(code, now=now)
        return Template("checkin/pair.html", context={"pairing": pairing}, headers=PRIVATE_PAGE)

    @post("/pair/{code:str}", status_code=200)
    async def accept_pairing(self, request: Request[Any, Any, Any], code: FromPath[str], now: NamedDependency[datetime]) -> Template:
        paired = await devices.use_pairing(code, now=now)
        # The phone is signed in as its own door account (as at /login, with a fresh session id) so that
        # it can open the door page; the page's script keeps the token for the API.
        await start_session(request, paired.user.id, now=now, organisation_id=paired.user.organisation_id)
        return Template(
            "checkin/paired.html",
            context={"paired": paired, "next": f"/door/{paired.event_slug}"},
            headers=PRIVATE_PAGE,
        )

    @get("/sw.js", media_type="text/javascript")
    async def service_worker(self) -> File:
        # Served from /door/ so that its scope is the door pages only.
        return File(PROJECT_ROOT / "static" / "js" / "door-sw.js", content_disposition_type="inline", headers={"Cache-Control": "no-cache"})


class DoorTeamIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email


class DoorMemberOut(msgspec.Struct):
    id: int
    email: str
    name: str
    device: bool  # a paired phone's account
    active: bool


def _team_out(team: list[door_team.DoorMember]) -> list[DoorMemberOut]:
    return [DoorMemberOut(member.id, member.email, member.name, member.device, member.active) for member in team]


class DoorTeamApi(Controller):
    """Who may scan an event, by API (organisers): add or remove a door member by email."""

    path = "/api/events/{slug:str}/door-team"
    tags = ["Door check-in"]
    guards = [requires_role(ORGANISER)]
    security = BEARER

    @get("/", summary="The event's door team (people and paired phones)", responses=error_responses(401, 403, 404))
    async def team(self, slug: FromPath[str]) -> list[DoorMemberOut]:
        event = await find_event(slug)
        return _team_out((await door_team.door_team(event.id, event.organisation))[0])

    @post(
        "/",
        summary="Add a door member of the event's organisation to its door team, by email",
        status_code=200,
        responses=error_responses(401, 403, 404, 422),
    )
    async def add(self, slug: FromPath[str], data: JSONBody[DoorTeamIn], now: NamedDependency[datetime]) -> list[DoorMemberOut]:
        return _team_out(await door_team.add_to_door_team(slug, data.email, now=now))

    @delete(
        "/",
        summary="Take someone off the event's door team, by email (their door-device tokens for it stop working)",
        status_code=200,
        responses=error_responses(401, 403, 404, 422),
    )
    async def remove(self, slug: FromPath[str], data: JSONBody[DoorTeamIn], now: NamedDependency[datetime]) -> list[DoorMemberOut]:
        return _team_out(await door_team.remove_from_door_team(slug, data.email, now=now))
