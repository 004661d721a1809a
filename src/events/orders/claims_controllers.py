"""Free-place HTTP: the claim page in the guest's language, the claims API, and the organiser's claim links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, delete, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, URLEncodedBody
from litestar.response import Template

from events import i18n
from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER
from events.config import Settings
from events.dependencies import BEARER, error_responses
from events.errors import EventsError
from events.orders import claims
from events.orders.schemas import ClaimCodeIn, ClaimCodeOut, ClaimIn, FreeTicketIn, TicketOut
from events.orders.views import order_details
from events.tickets.qr import qr_svg
from events.tickets.views import ticket_by_secret

ONE_YEAR_SECONDS = 365 * 24 * 3600


def _client(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


def _claim_url(settings: Settings, code: str) -> str:
    return f"{settings.base_url}/claim/{code}"


def _code_out(settings: Settings, row: dict[str, Any]) -> ClaimCodeOut:
    return ClaimCodeOut(
        code=row["code"],
        url=_claim_url(settings, row["code"]),
        partner_name=row["partner_name"],
        places=row["places"],
        claimed=row["claimed"],
        revoked=row["revoked_at"] is not None,
    )


async def _ticket_of(reference: str) -> TicketOut:
    return (await order_details(reference)).tickets[0]


class ClaimsApi(Controller):
    path = "/api"
    tags = ["Pay it forward"]

    @post("/claims", summary="Claim a free place with a referral partner's code", responses=error_responses(404, 409, 422, 429))
    async def claim(self, request: Request[Any, Any, Any], data: JSONBody[ClaimIn], now: NamedDependency[datetime]) -> TicketOut:
        claimed = await claims.claim_place(
            data.code,
            name=data.name,
            email=data.email,
            phone=data.phone,
            locale=data.locale or request.state.locale,
            client=_client(request),
            now=now,
        )
        return await _ticket_of(claimed.order_reference)

    @post(
        "/events/{slug:str}/claim-codes",
        summary="Give a referral partner a claim link with an allocation of places (organiser)",
        guards=[requires_role(ORGANISER)],
        security=BEARER,
        responses=error_responses(401, 403, 404, 422),
    )
    async def create_code(
        self, slug: FromPath[str], data: JSONBody[ClaimCodeIn], now: NamedDependency[datetime], settings: NamedDependency[Settings]
    ) -> ClaimCodeOut:
        row = await claims.create_claim_code(slug, partner_name=data.partner_name, places=data.places, now=now)
        return _code_out(settings, row)

    @get(
        "/events/{slug:str}/claim-codes",
        summary="Claim links with their claimed counts (organiser)",
        guards=[requires_role(ORGANISER)],
        security=BEARER,
        responses=error_responses(401, 403, 404),
    )
    async def list_codes(self, slug: FromPath[str], settings: NamedDependency[Settings]) -> list[ClaimCodeOut]:
        return [_code_out(settings, row) for row in await claims.list_claim_codes(slug)]

    @delete(
        "/events/{slug:str}/claim-codes/{code:str}",
        summary="Revoke a claim link (organiser)",
        guards=[requires_role(ORGANISER)],
        security=BEARER,
        responses=error_responses(401, 403, 404),
    )
    async def revoke_code(self, slug: FromPath[str], code: FromPath[str], now: NamedDependency[datetime]) -> None:
        await claims.revoke_claim_code(slug, code, now=now)

    @post(
        "/events/{slug:str}/free-tickets",
        summary="Give a free place directly to a named guest (organiser)",
        guards=[requires_role(ORGANISER)],
        security=BEARER,
        responses=error_responses(401, 403, 404, 409, 422),
    )
    async def give(self, slug: FromPath[str], data: JSONBody[FreeTicketIn], now: NamedDependency[datetime]) -> TicketOut:
        claimed = await claims.give_free_place(slug, name=data.name, email=data.email, now=now)
        return await _ticket_of(claimed.order_reference)


class ClaimPages(Controller):
    path = "/claim"
    include_in_schema = False

    @get("/{code:str}", name="claim_page")
    async def claim_form(self, request: Request[Any, Any, Any], code: FromPath[str], lang: FromQuery[str | None] = None) -> Template:
        usage = await claims.claim_code_usage(code)
        return _remember_language(
            Template("orders/claim.html", context={"code": code, "usage": usage, "form": {}, "errors": {}}), lang
        )

    @post("/{code:str}", status_code=200)
    async def claim(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: URLEncodedBody[dict[str, str]],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
    ) -> Template:
        try:
            claimed = await claims.claim_place(
                code,
                name=data.get("name", ""),
                email=data.get("email", ""),
                phone=data.get("phone", ""),
                locale=request.state.locale,
                client=_client(request),
                now=now,
            )
        except EventsError as error:
            usage = await claims.claim_code_usage(code)
            return Template(
                "orders/claim.html",
                context={"code": code, "usage": usage, "form": data, "errors": error.fields, "error": error.message},
                status_code=error.status_code,
                headers=error.headers,
            )
        ticket = await _ticket_of(claimed.order_reference)
        view = await ticket_by_secret(ticket.secret, secret_key=settings.secret_key, now=now)
        return Template("orders/claimed.html", context={"ticket": view, "qr": qr_svg(view.code), "email": data.get("email", "")})

    @get("/{code:str}/places", name="claim_usage")
    async def usage(self, code: FromPath[str]) -> Template:
        return Template("orders/claim_usage.html", context={"usage": await claims.claim_code_usage(code)})


def _remember_language(template: Template, lang: str | None) -> Template:
    """A link given as /claim/CODE?lang=ar opens in Arabic and stays in Arabic."""
    if lang in i18n.SUPPORTED_LOCALES:
        template.cookies.append(Cookie(key=i18n.LOCALE_COOKIE, value=lang, max_age=ONE_YEAR_SECONDS, samesite="lax", httponly=True))
    return template
