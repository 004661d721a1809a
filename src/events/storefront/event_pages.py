"""The event page with its buy form, in the guest's language; opened with an access or discount code (``?code=``),
it shows the hidden ticket types the code unlocks and the prices after its discount."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from litestar import Controller, Request, get
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Response, Template

from events import page_cache
from events.catalogue.schemas import EventDetailOut
from events.codes.offers import EventWithCode, event_with_code
from events.codes.service import Guesser
from events.config import Settings
from events.errors import EventsError
from events.orders import forms, hold_limits
from events.orders.service import SoldOut

# A random id per browser, so that the people sharing one connection each have their own budget of wrong codes (as
# for claim codes: storefront.claim_controllers). Nothing is stored for it unless a code is wrong.
CODE_BROWSER_COOKIE = "code_browser"
CODE_COOKIE_SECONDS = 24 * 3600
_BROWSER_ID = re.compile(r"[A-Za-z0-9_-]{22}")
# A page opened with a code shows what only its holders may see: kept out of shared caches and search engines.
CODE_PAGE = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex"}


def client_digest(request: Request[Any, Any, Any], settings: Settings) -> str:
    """The client address as the hold limits and the budgets of wrong codes count it: a keyed hash."""
    return hold_limits.client_digest(settings.secret_key, request.client.host if request.client else "unknown")


def code_browser(request: Request[Any, Any, Any]) -> str:
    """The browser's own id for its budget of wrong codes; one without an id is given one (see code_cookies)."""
    browser = request.cookies.get(CODE_BROWSER_COOKIE, "")
    if not _BROWSER_ID.fullmatch(browser):
        browser = request.state.get("code_browser") or secrets.token_urlsafe(16)
        request.state["code_browser"] = browser
    return browser


def guesser(request: Request[Any, Any, Any], settings: Settings) -> Guesser:
    return Guesser(client_digest(request, settings), code_browser(request))


def code_cookies(request: Request[Any, Any, Any], settings: Settings) -> list[Cookie]:
    """The browser's new id, if it was given one."""
    browser = request.state.get("code_browser")
    if not browser:
        return []
    return [
        Cookie(
            key=CODE_BROWSER_COOKIE,
            value=browser,
            path="/events",
            max_age=CODE_COOKIE_SECONDS,
            httponly=True,
            samesite="lax",
            secure=settings.is_production,
        )
    ]


def event_page(
    request: Request[Any, Any, Any],
    page: EventWithCode,
    settings: Settings,
    now: datetime,
    *,
    form: Mapping[str, str] | None = None,
    error: EventsError | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    yours: Mapping[int, int] | None = None,
) -> Template:
    """The event page: with the buyer's form and ``error`` when an order could not be placed; a code's problem goes
    beside the code's field. ``yours``: the places per ticket type of the order the form changes, which ``page``
    counts as available to the guest (codes.offers.event_with_code's ``yours``); the page says which are theirs."""
    code_error = page.error or (error if error is not None and "code" in error.fields else None)
    errors = {name: message for name, message in (error.fields if error else {}).items() if name != "code"}
    buyable = [t for t in page.event.ticket_types if t.on_sale and t.available > 0]
    sold_out = isinstance(error, SoldOut) and form is not None
    return Template(
        "catalogue/event_detail.html",
        context={
            "event": page.event,
            "now": now,
            "form": form or {},
            "errors": errors,
            "error_summary": forms.error_summary(errors, [t.id for t in buyable], form or {}),
            "error": error.message if error is not None and code_error is not error else None,
            "offer": page.offer,
            "code": page.typed,
            "code_error": code_error.message if code_error else None,
            # The waiting list's form asks for a mobile number only where a text can be sent.
            "texts": settings.can_send_texts,
            "yours": dict(yours or {}),
            # Places sold out while the guest filled the form in: what they typed is kept (from this request's form
            # only). Their contribution, if the event takes one without a ticket, in the form (without its tickets)...
            "giving_only": sold_out
            and not buyable
            and forms.has_contribution(form or {}, takes_pay_it_forward=page.event.pay_it_forward_place_pence > 0),
            # ... and their name, email and places in the waiting list's form.
            "waitlist_form": waiting_list_form(form or {}, page.event) if sold_out else None,
        },
        status_code=status_code,
        headers={**(CODE_PAGE if page.typed else {}), **(headers or {})},
        cookies=code_cookies(request, settings),
    )


def waiting_list_form(form: Mapping[str, str], event: EventDetailOut) -> dict[str, str]:
    """The waiting list's form filled in from a buy form refused for want of places: the buyer's name and email, and
    the first ticket type they chose that has a waiting list, with the places they chose if that type's list takes so
    many (waitlist.join_form.read_join_form)."""
    filled = {"name": form.get("name", ""), "email": form.get("email", "")}
    for ticket_type in event.ticket_types:
        quantity = forms.parse_count(form.get(f"quantity_{ticket_type.id}"))
        if ticket_type.waiting_list_open and quantity:
            filled["ticket_type"] = str(ticket_type.id)
            if quantity <= ticket_type.max_per_order:
                filled["quantity"] = str(quantity)
            break
    return filled


class EventPage(Controller):
    path = "/"
    include_in_schema = False

    @get("/events/{slug:str}", name="event_page")
    async def show(
        self,
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
        code: FromQuery[str] = "",
    ) -> Template | Response[str]:
        """``?code=`` (an access or discount code, from the organiser's link or the page's "Have a code?" form) shows
        what it opens; a wrong one is a message beside the code's field, and counts against the guest's budgets."""

        async def render() -> Template:
            who = guesser(request, settings) if code.strip() else Guesser("")
            page = await event_with_code(slug, code[:100], who, now=now)
            status = 429 if page.error is not None and page.error.status_code == 429 else 200
            return event_page(request, page, settings, now, status_code=status, headers=page.error.headers if page.error else None)

        # Without a code, every anonymous guest sees the same page (page_cache); a code's page is the guest's own.
        return await render() if code else await page_cache.anonymous_page(request, render)
