"""Free-place HTTP: the claim page in the guest's language, the claims API, and the organiser's claim links."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any, TypeVar

from litestar import Controller, Request, delete, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, URLEncodedBody
from litestar.response import Redirect, Response, Template

from events import i18n
from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER
from events.config import Settings
from events.dependencies import BEARER, error_responses
from events.errors import EventsError, NotFound, TooManyAttempts
from events.i18n import N_
from events.orders import claims
from events.orders.codes import SECRET_ALPHABET, claim_pass, claim_pass_matches
from events.orders.schemas import ClaimCodeIn, ClaimCodeOut, FreeTicketIn, TicketOut
from events.questions import forms as answer_forms
from events.questions import service as questions
from events.questions.schemas import given_answers
from events.storefront.schemas import ClaimWithAnswers
from events.tickets.issuing import issue_and_confirm
from events.tickets.qr import qr_svg
from events.tickets.secrets import TICKET_SECRET_LENGTH
from events.tickets.statuses import TicketStatus
from events.tickets.views import TicketView, order_details, ticket_by_id, ticket_by_page_secret

ONE_YEAR_SECONDS = 365 * 24 * 3600
AnyResponse = TypeVar("AnyResponse", bound=Response[Any])
# A random id per browser, so that the people sharing one connection each have their own budget of wrong codes;
# and a pass per claim code, so that a browser which opened a code's page keeps it working (see claims.Claimant).
# Neither is a session: nothing is stored for them unless a code is wrong.
CLAIM_BROWSER_COOKIE = "claim_browser"
CLAIM_PASS_COOKIE = "claim_pass"
CLAIM_COOKIE_SECONDS = 24 * 3600
_BROWSER_ID = re.compile(r"[A-Za-z0-9_-]{22}")
# The tickets claimed with a link in this browser (their pages' keys, newest last), for the link's page to offer again:
# a guest who gave no email or phone, and whose tab was closed or reloaded, finds their ticket there rather than claiming
# a second place. Kept for the link's pages only, and only until the day after the event ends (a shared phone does not
# show a guest's name to the next person to open the link for long): no more than the browser's history holds.
CLAIMED_COOKIE = "claimed"
CLAIMED_COOKIE_SECONDS = 90 * 24 * 3600  # at most
CLAIMED_KEPT_AFTER_EVENT = timedelta(days=1)
CLAIMED_KEPT = 5
_PAGE_SECRET = re.compile(f"[{SECRET_ALPHABET}]{{{TICKET_SECRET_LENGTH}}}")


def _client(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


def claimant_of(request: Request[Any, Any, Any], code: str, settings: Settings) -> claims.Claimant:
    """The claimant of a claim page; a browser without an id of its own is given one (see claim_cookies)."""
    browser = request.cookies.get(CLAIM_BROWSER_COOKIE, "")
    if not _BROWSER_ID.fullmatch(browser):
        browser = request.state.get("claim_browser") or secrets.token_urlsafe(16)
        request.state["claim_browser"] = browser
    has_pass = claim_pass_matches(settings.secret_key, code, request.cookies.get(CLAIM_PASS_COOKIE))
    return claims.Claimant(_client(request), browser, has_pass)


def claim_cookies(request: Request[Any, Any, Any], template: AnyResponse, settings: Settings, *, valid_code: str | None) -> AnyResponse:
    """The browser's new id, if it was given one, and the pass of a code it has just opened for real."""
    secure = settings.is_production
    if browser := request.state.get("claim_browser"):
        template.cookies.append(
            Cookie(
                key=CLAIM_BROWSER_COOKIE,
                value=browser,
                path="/claim",
                max_age=CLAIM_COOKIE_SECONDS,
                httponly=True,
                samesite="lax",
                secure=secure,
            )
        )
    if valid_code and not claim_pass_matches(settings.secret_key, valid_code, request.cookies.get(CLAIM_PASS_COOKIE)):
        template.cookies.append(
            Cookie(
                key=CLAIM_PASS_COOKIE,
                value=claim_pass(settings.secret_key, valid_code),
                path=f"/claim/{valid_code}",
                max_age=CLAIM_COOKIE_SECONDS,
                httponly=True,
                samesite="lax",
                secure=secure,
            )
        )
    return template


def _claimed_here(request: Request[Any, Any, Any]) -> list[str]:
    """The keys of the ticket pages this browser claimed with the link whose page this is, oldest first."""
    return [key for key in request.cookies.get(CLAIMED_COOKIE, "").split(".") if _PAGE_SECRET.fullmatch(key)][-CLAIMED_KEPT:]


async def _tickets_claimed_here(request: Request[Any, Any, Any], settings: Settings, now: datetime) -> list[TicketView]:
    """This browser's tickets from the link, still valid: what the link's page offers before its form."""
    found = []
    for key in _claimed_here(request):
        try:
            ticket = await ticket_by_page_secret(key, secret_key=settings.secret_key, now=now)
        except NotFound:
            continue
        if ticket.order_channel == "claim" and ticket.status == TicketStatus.valid:
            found.append(ticket)
    return found


def _claimed_ticket_path(code: str, page_secret: str) -> str:
    return f"/claim/{code}/tickets/{page_secret}"


def _claim_url(settings: Settings, code: str) -> str:
    return f"{settings.base_url}/claim/{code}"


def _code_out(settings: Settings, row: claims.ClaimCodeRow) -> ClaimCodeOut:
    return ClaimCodeOut(
        code=row.code,
        url=_claim_url(settings, row.code),
        partner_name=row.partner_name,
        places=row.places,
        claimed=row.claimed,
        revoked=row.revoked_at is not None,
        closes_at=row.closes_at,
    )


async def _ticket_of(reference: str) -> TicketOut:
    return (await order_details(reference)).tickets[0]


class ClaimsApi(Controller):
    path = "/api"
    tags = ["Pay it forward"]

    @post(
        "/claims",
        summary="Claim a free place with a referral partner's code",
        responses=error_responses(404, 409, 422, 429),
        description=(
            "`phone` (a mobile number, for the ticket's link by text) is refused with 422 where this service cannot send "
            "text messages, rather than kept and never used: leave it out, or give `email`. `answers` (optional, as on an "
            "order) answer the event's questions; none is required of a free place, and a wrong one is a 422 naming the "
            "question, with no place claimed."
        ),
    )
    async def claim(
        self, request: Request[Any, Any, Any], data: JSONBody[ClaimWithAnswers], now: NamedDependency[datetime], settings: NamedDependency[Settings]
    ) -> TicketOut:
        # An API client has no browser id: each call is held by its address's budget of wrong codes.
        claimed = await claims.claim_place(
            data.code,
            name=data.name,
            email=data.email,
            phone=data.phone,
            locale=data.locale or request.state.locale,
            claimant=claims.Claimant(_client(request), secrets.token_urlsafe(16)),
            issue=issue_and_confirm,
            now=now,
            texts_available=settings.can_send_texts,
            on_placed=questions.claim_recorder(given_answers(data.answers), locale=data.locale or request.state.locale, now=now),
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
        row = await claims.create_claim_code(slug, partner_name=data.partner_name, places=data.places, now=now, closes_at=data.closes_at)
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
        claimed = await claims.give_free_place(slug, name=data.name, email=data.email, issue=issue_and_confirm, now=now)
        return await _ticket_of(claimed.order_reference)


class ClaimPages(Controller):
    """A claim link's pages. Every answer, refusals included, carries the browser's id, so that a person's own
    wrong codes are counted against their own budget (see claimant_of)."""

    path = "/claim"
    include_in_schema = False
    # A claim link's URL is its code: its pages (refusals included) are kept by no cache and no search engine.
    response_headers = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}

    @get("/{code:str}", name="claim_page")
    async def claim_form(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
        lang: FromQuery[str | None] = None,
    ) -> Template:
        try:
            usage = await claims.open_claim_link(code, claimant_of(request, code, settings), now=now)
        except EventsError as error:
            return claim_cookies(request, refusal_page(error), settings, valid_code=None)
        # Asked in the page's language (the one the link chose with ?lang=, else the guest's).
        asking = await questions.claim_asking(code, request.state.locale)
        context = {
            "code": code,
            "usage": usage,
            "form": {},
            "errors": {},
            "texts": settings.can_send_texts,
            "asking": asking,
            "claimed_here": [
                (ticket.holder, _claimed_ticket_path(code, ticket.page_secret)) for ticket in await _tickets_claimed_here(request, settings, now)
            ],
        }
        page = Template("orders/claim.html", context=context)
        return claim_cookies(request, _remember_language(page, lang), settings, valid_code=code)

    @post("/{code:str}", status_code=200)
    async def claim(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: URLEncodedBody[dict[str, str]],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        """A claimed place goes on to its ticket's own address (303), which a reload, the Back button or a bookmark
        shows again without claiming another place; the browser remembers it for the link's page."""
        # The questions are read for the code as posted, before the claim checks it: an unknown code asks none, and the
        # claim then answers it as it always has (questions.service.claim_asking).
        asking = await questions.claim_asking(code, request.state.locale)
        given = answer_forms.given_from_form(data, asking.slots) if asking else []
        try:
            claimed = await claims.claim_place(
                code,
                name=data.get("name", ""),
                email=data.get("email", ""),
                phone=data.get("phone", ""),
                locale=request.state.locale,
                claimant=claimant_of(request, code, settings),
                issue=issue_and_confirm,
                now=now,
                texts_available=settings.can_send_texts,
                on_placed=questions.claim_recorder(given, locale=request.state.locale, now=now),
            )
        except TooManyAttempts as error:
            # Told without looking the code up: a refused try learns nothing about it.
            page = Template(
                "orders/claim.html",
                context={"code": code, "usage": None, "form": data, "errors": {}, "error": error.message, "texts": settings.can_send_texts},
                status_code=error.status_code,
                headers=error.headers,
            )
            return claim_cookies(request, page, settings, valid_code=None)
        except NotFound as error:
            if error.code == "claim_code_not_found":
                return claim_cookies(request, refusal_page(error), settings, valid_code=None)
            raise
        except EventsError as error:  # the code is real: the form again, with what to change
            page = Template(
                "orders/claim.html",
                context={
                    "code": code,
                    "usage": await claims.claim_code_usage(code, now),
                    "form": data,
                    "errors": error.fields,
                    "error": error.message,
                    "texts": settings.can_send_texts,
                    # No free place left for the link: it may offer its waiting list.
                    "no_places": isinstance(error, claims.NoPlacesLeft),
                    "asking": asking,
                },
                status_code=error.status_code,
                headers=error.headers,
            )
            return claim_cookies(request, page, settings, valid_code=code)
        view = await ticket_by_id(claimed.ticket_id, secret_key=settings.secret_key, now=now)
        remembered = ".".join([*(key for key in _claimed_here(request) if key != view.page_secret), view.page_secret][-CLAIMED_KEPT:])
        code = code.strip().lower()  # as the claim read it: the link's own address, whatever case or spaces it came with
        to_ticket = Redirect(
            _claimed_ticket_path(code, view.page_secret),
            status_code=303,
            cookies=[
                Cookie(
                    key=CLAIMED_COOKIE,
                    value=remembered,
                    path=f"/claim/{code}",
                    max_age=max(0, min(CLAIMED_COOKIE_SECONDS, int((view.ends_at + CLAIMED_KEPT_AFTER_EVENT - now).total_seconds()))),
                    httponly=True,
                    samesite="lax",
                    secure=settings.is_production,
                )
            ],
        )
        return claim_cookies(request, to_ticket, settings, valid_code=None)

    @get("/{code:str}/tickets/{page_secret:str}", name="claimed_ticket")
    async def claimed_ticket(
        self, code: FromPath[str], page_secret: FromPath[str], now: NamedDependency[datetime], settings: NamedDependency[Settings]
    ) -> Template | Redirect:
        """The ticket a link's form has just given, at an address of its own: shown again, never claimed again. Its
        key is the ticket page's, which already shows the ticket to whoever has it; a ticket no longer valid (given
        back, refunded) goes to that page, which says so."""
        ticket = await ticket_by_page_secret(page_secret, secret_key=settings.secret_key, now=now)
        if ticket.order_channel != "claim":
            raise NotFound(N_("We could not find that page."), code="not_found")
        if ticket.status != TicketStatus.valid:
            return Redirect(ticket.url, status_code=303)
        emailed, texted = await claims.claimed_contact(ticket.order_reference)
        # A text is promised only where one can be sent (a phone is refused otherwise, so this is belt and braces).
        context = {"ticket": ticket, "qr": qr_svg(ticket.code), "email": emailed, "phone": texted and settings.can_send_texts, "code": code}
        return Template("orders/claimed.html", context=context)

    @get("/{code:str}/places", name="claim_usage")
    async def usage(
        self, request: Request[Any, Any, Any], code: FromPath[str], now: NamedDependency[datetime], settings: NamedDependency[Settings]
    ) -> Template:
        try:
            usage = await claims.open_claim_link(code, claimant_of(request, code, settings), now=now)
        except EventsError as error:
            return claim_cookies(request, refusal_page(error), settings, valid_code=None)
        return claim_cookies(request, Template("orders/claim_usage.html", context={"usage": usage}), settings, valid_code=None)


def refusal_page(error: EventsError) -> Template:
    """The friendly error page the one error handler would show, answered here so it can carry the cookies."""
    return Template(
        "errors/error.html",
        context={"status_code": error.status_code, "code": error.code, "detail": error.message},
        status_code=error.status_code,
        headers=error.headers,
    )


def _remember_language(template: Template, lang: str | None) -> Template:
    """A link given as /claim/CODE?lang=ar opens in Arabic and stays in Arabic."""
    if lang in i18n.SUPPORTED_LOCALES:
        template.cookies.append(Cookie(key=i18n.LOCALE_COOKIE, value=lang, max_age=ONE_YEAR_SECONDS, samesite="lax", httponly=True))
    return template
