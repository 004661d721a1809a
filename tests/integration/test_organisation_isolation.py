"""One organisation never reaches another's data: the isolation sweep.

Two organisations, each with an event, a partner project, a paid order with a ticket, a claim link, a statement and
a team. Every route that needs a signed-in person (pages and API, read from the app's route table) is called by
every role of organisation Alpha, with every path parameter naming Beta's object. A route that names an object
answers 404 (or 403, for a role that may not use the route at all) and never data; a route that names none may
answer, but never with anything of Beta's. Beta's data is unchanged afterwards. Routes anyone may call are listed
by name below, so a new route has to be put on one side or the other.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

import httpx
import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler

from events.accounts import invitations, sign_ins
from events.accounts import service as accounts
from events.accounts.tables import ApiToken, Invitation, Membership, SignIn
from events.announcements import service as announcements
from events.announcements.rules import Draft, Wording
from events.announcements.tables import Announcement
from events.catalogue import access
from events.catalogue.lookup import find_event, partner_id
from events.catalogue.tables import Event, Series, TicketType
from events.checkin import door_team
from events.codes import service as codes
from events.codes.schemas import CodeIn
from events.config import Settings
from events.ledger.tables import Payout
from events.orders import claims
from events.orders.tables import Order
from events.organisations import service as organisations
from events.organisations.rules import OrganisationDetails
from events.payments.tables import Payment, Refund
from events.questions import rules as question_rules
from events.questions import service as questions
from events.questions.tables import Question
from events.series import service as series_service
from events.series.schemas import SeriesIn
from events.tickets.issuing import issue_and_confirm
from events.tickets.statuses import TicketStatus
from events.tickets.tables import Ticket
from events.tickets.views import tickets_of_order
from events.waitlist.tables import WaitingEntry
from tests.factories import make_event
from tests.integration.accounts.test_login import sign_in
from tests.support.waitlist import add_waiting_entry

PASSWORD = "a long enough password"
# Routes anyone may call (guests' pages and the public API), by method and path: they are not swept.
PUBLIC = {
    ("GET", "/"),
    ("GET", "/events/{slug:str}"),
    ("POST", "/events/{slug:str}/buy"),
    # The embeddable ticket form, as the event page; its order pages need the order's access token, checked by the route.
    ("GET", "/embed/events/{slug:str}"),
    ("POST", "/embed/events/{slug:str}/buy"),
    ("GET", "/embed/orders/{reference:str}/pay"),
    ("POST", "/embed/orders/{reference:str}/test-payment"),
    ("POST", "/embed/orders/{reference:str}/change"),
    ("GET", "/embed/orders/{reference:str}/done"),
    ("GET", "/organisations/{slug:str}"),
    ("GET", "/organisations/{slug:str}/logo"),
    ("GET", "/organisations/{slug:str}/theme.css"),
    ("GET", "/series/{series_slug:str}"),
    ("GET", "/api/series/{series_slug:str}"),
    ("GET", "/api/events"),
    ("GET", "/api/events/{slug:str}"),
    ("GET", "/api/organisations/{slug:str}"),
    ("POST", "/api/events/{slug:str}/orders"),
    ("GET", "/api/partners"),
    ("GET", "/api/orders/{reference:str}"),
    ("POST", "/api/orders/{reference:str}/resend"),
    # Changing the name on a ticket: the order's access token, checked by the route (another order's ticket is 404).
    ("POST", "/api/orders/{reference:str}/tickets/{ticket_id:int}/holder"),
    # A cancelled event's refund choice: the order's access token, checked by the route.
    ("GET", "/api/orders/{reference:str}/refund-choice"),
    ("POST", "/api/orders/{reference:str}/refund-choice"),
    ("POST", "/api/claims"),
    # "Can't come?": the ticket's order's access token, checked by the route (another order's ticket is 404).
    ("POST", "/api/tickets/{ticket_id:int}/release"),
    ("POST", "/api/tickets/{ticket_id:int}/transfer"),
    # The waiting list's guest API: joining is public; an entry is reached only with its own secret token.
    ("POST", "/api/events/{slug:str}/waiting-list"),
    ("GET", "/api/waiting-list/{token:str}"),
    ("DELETE", "/api/waiting-list/{token:str}"),
    ("POST", "/api/waiting-list/{token:str}/accept"),
    ("GET", "/claim/{code:str}"),
    ("POST", "/claim/{code:str}"),
    ("GET", "/claim/{code:str}/places"),
    # The ticket a claim link's form just gave: the ticket page's own secret, checked by the route.
    ("GET", "/claim/{code:str}/tickets/{page_secret:str}"),
    ("POST", "/claim/{code:str}/waiting-list"),
    ("POST", "/events/{slug:str}/waiting-list"),
    ("GET", "/door/pair/{code:str}"),
    ("POST", "/door/pair/{code:str}"),
    ("GET", "/door/sw.js"),
    ("GET", "/sw.js"),
    ("GET", "/favicon.ico"),
    ("GET", "/healthz"),
    ("GET", "/.well-known/apple-developer-merchantid-domain-association"),  # the site's Apple Pay file, the same for all
    ("GET", "/language/{code:str}"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/forgot-password"),
    ("POST", "/forgot-password"),
    ("GET", "/reset-password/{token:str}"),
    ("POST", "/reset-password/{token:str}"),
}
# Public routes whose path prefixes are whole families (a guest's order and ticket pages, which need the order's
# or ticket's own secret, and a guest's waiting-list page, which needs its token; Stripe's webhooks, which need Stripe's
# signature; the API reference).
PUBLIC_PREFIXES = ("/orders/", "/tickets/", "/t/", "/webhooks/", "/schema", "/invitations/", "/guest/", "/waiting-list/")


@dataclass
class Organisation:
    slug: str
    event: str
    event_title: str
    partner: str
    reference: str
    ticket_id: int
    type_id: int
    claim_code: str
    member_id: int
    token_id: int
    sign_in_id: int
    guest_name: str
    guest_email: str
    invitation_id: int
    invitee_email: str
    entry_id: int
    waiting_guest: str
    question_id: int
    question: str
    announcement: str  # the subject of a message to the event's guests
    series: str
    series_title: str
    payout_id: int
    payout_reference: str
    sale_code: str
    refund_id: int  # a refund Stripe refused, which an organiser may record as given back another way

    def markers(self) -> list[str]:
        """Text that only this organisation's data contains."""
        return [
            self.event_title,
            self.reference,
            self.guest_name,
            self.guest_email,
            self.claim_code,
            self.invitee_email,
            self.waiting_guest,
            self.question,
            self.announcement,
            self.series_title,
            self.payout_reference,
            self.sale_code,
        ]


async def seed(slug: str, name: str, now: datetime) -> Organisation:
    """An organisation with an event, a partner project, a paid (free-place) order with its ticket, a claim link, an
    access code, a door member on the event's team, a person with an API token and a sign-in, a guest on the waiting
    list, a message sent to the event's guests, a series the event is in, and a question the event asks its guests."""
    organisation = await organisations.create_organisation(slug, OrganisationDetails(name=name))
    series = await series_service.create_series(
        SeriesIn(title=f"{name} Supper Series", slug=f"{slug}-suppers"), organisation_id=organisation.id, now=now
    )
    event = await make_event(
        now,
        organisation=slug,
        slug=f"{slug}-night",
        title=f"{name} Benefit Night",
        beneficiaries=[{"partner": f"{slug}-partner", "share_bp": 10_000}],
        series=series.slug,
    )
    question = f"{name}asks Which course?"
    asked = await questions.add_question(event, question_rules.Draft(kind="one_choice", label=question, options=("Lamb", "Aubergine")), now=now)
    guest_name, guest_email = f"{name}guest Person", f"guest@{slug}.example"
    claimed = await claims.give_free_place(event, name=guest_name, email=guest_email, issue=issue_and_confirm, now=now)
    code = await claims.create_claim_code(event, partner_name=f"{name} drop-in", places=3, now=now)
    sale_code = await codes.create_code(event, CodeIn(max_uses=5, discount_percent=10, code=f"{slug.upper()}-ONLY-CODE"), now=now)
    event_row = await find_event(event)
    type_id = (await TicketType.select(TicketType.id).where(TicketType.event == event_row.id).first())["id"]
    member = await accounts.create_user(f"member@{slug}.example", role="organiser", password=PASSWORD, organisation_id=organisation.id)
    await accounts.create_api_token(member.email, label="laptop", now=now, organisation_id=organisation.id)
    token = await ApiToken.select(ApiToken.id).where(ApiToken.user == member.id).first()
    sign_in_id = await sign_ins.record_sign_in(member.id, f"session-of-{slug}", browser="Firefox", now=now)
    payout = Payout(
        partner=await partner_id(f"{slug}-partner"),
        event=event_row.id,
        amount_pence=100,
        paid_on=now,
        bank_reference=f"{name}payout Reference",
        override_reason="A grant agreed in advance",
        recorded_by=member.email,
    )
    await payout.save()
    # A £5 card payment on the order, whose refund Stripe refused.
    order_id = (await Order.select(Order.id).where(Order.reference == claimed.order_reference).first())["id"]
    payment = Payment(order_id=order_id, provider="stripe", provider_reference=f"pi_{slug}", amount_pence=500, currency="GBP")
    await payment.save()
    refund = Refund(
        order_id=order_id, payment=payment.id, amount_pence=500, tickets_pence=500, method="stripe", provider_refund_id=f"re_{slug}",
        status="failed", reason="Guest asked", requested_by=member.email, created_at=now,
    )  # fmt: skip
    await refund.save()
    invitee_email = f"invitee@{slug}.example"
    invitation = await invitations.create_invitation(
        organisation.id, email=invitee_email, role="door", partner_id=None, event_ids=[], invited_by=member.id, locale="en", now=now
    )
    return Organisation(
        slug=slug,
        event=event,
        event_title=f"{name} Benefit Night",
        partner=f"{slug}-partner",
        reference=claimed.order_reference,
        ticket_id=claimed.ticket_id,
        type_id=type_id,
        claim_code=code.code,
        member_id=member.id,
        token_id=token["id"],
        sign_in_id=sign_in_id,
        guest_name=guest_name,
        guest_email=guest_email,
        invitation_id=invitation.id,
        invitee_email=invitee_email,
        entry_id=await add_waiting_entry(event, now=now, name=f"{name}waiting Guest", email=f"waiting@{slug}.example"),
        waiting_guest=f"{name}waiting Guest",
        question_id=asked.id,
        question=question,
        announcement=(
            await announcements.send_announcement(
                event, Draft(Wording("en", f"{name}news Venue change", "We have moved.")), sent_by=member.email, now=now
            )
        ).subject,
        series=series.slug,
        series_title=series.title,
        payout_id=payout.id,
        payout_reference=f"{name}payout Reference",
        sale_code=sale_code.code,
        refund_id=refund.id,
    )


@dataclass
class Role:
    """One of Alpha's people: signed in (pages), and with an API token (the API takes only bearer tokens)."""

    name: str
    client: httpx.AsyncClient
    api: httpx.AsyncClient

    def for_path(self, path: str) -> httpx.AsyncClient:
        return self.api if path.startswith("/api/") else self.client


async def signed_in(app: Litestar, email: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    response = await sign_in(client, email, PASSWORD)
    assert response.status_code == 303, f"{email} signs in"
    # Forms are posted with the CSRF cookie's token in Litestar's header, as the back office's forms send it.
    client.headers["x-csrftoken"] = client.cookies["csrftoken"]
    return client


@pytest.fixture
async def two_organisations(client: httpx.AsyncClient, app: Litestar, now: datetime) -> AsyncIterator[tuple[Organisation, Organisation, list[Role]]]:
    alpha = await seed("alpha", "Alpha", now)
    beta = await seed("beta", "Beta", now)
    alpha_id = (await organisations.find("alpha")).id
    alpha_event = await find_event(alpha.event)
    people = {
        "owner": await accounts.create_user("owner@alpha.example", role="owner", password=PASSWORD, organisation_id=alpha_id),
        "organiser": await accounts.create_user("organiser@alpha.example", role="organiser", password=PASSWORD, organisation_id=alpha_id),
        "limited organiser": await accounts.create_user(
            "limited@alpha.example", role="organiser", password=PASSWORD, organisation_id=alpha_id, restricted=True
        ),
        "treasurer": await accounts.create_user("treasurer@alpha.example", role="treasurer", password=PASSWORD, organisation_id=alpha_id),
        "door": await accounts.create_user("door@alpha.example", role="door", password=PASSWORD, organisation_id=alpha_id),
        "partner viewer": await accounts.create_user(
            "viewer@alpha.example", role="partner_viewer", password=PASSWORD, organisation_id=alpha_id, partner_id=await partner_id(alpha.partner)
        ),
    }
    limited = await Membership.select(Membership.id).where(Membership.user == people["limited organiser"].id).first()
    await access.set_chosen_events(limited["id"], [alpha_event.id], alpha_id)
    await door_team.assign_door_staff(alpha_event.id, people["door"].id, now=now)
    roles = [Role(name, await signed_in(app, person.email), await with_token(app, person.email, alpha_id, now)) for name, person in people.items()]
    try:
        yield alpha, beta, roles
    finally:
        for role in roles:
            await role.client.aclose()
            await role.api.aclose()


async def with_token(app: Litestar, email: str, organisation_id: int, now: datetime) -> httpx.AsyncClient:
    token = await accounts.create_api_token(email, label="script", now=now, organisation_id=organisation_id)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers={"Authorization": f"Bearer {token}"})


def swept_routes(app: Litestar) -> list[tuple[str, str]]:
    """(method, path) of every route that needs someone signed in; fails on a public route not listed above."""
    swept: list[tuple[str, str]] = []
    unlisted: list[tuple[str, str]] = []
    for route in app.routes:
        for handler in route.route_handlers:
            if not isinstance(handler, HTTPRouteHandler) or "static" in (handler.name or "") or route.path.startswith("/static"):
                continue
            guards = [guard for layer in handler.ownership_layers for guard in (getattr(layer, "guards", None) or [])]
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                if (method, route.path) in PUBLIC:  # a guard there checks where a post comes from, not who sends it
                    continue
                if guards:
                    swept.append((method, route.path))
                elif (method, route.path) not in PUBLIC and not route.path.startswith(PUBLIC_PREFIXES):
                    unlisted.append((method, route.path))
    assert not unlisted, f"routes anyone may call that this sweep does not know: {unlisted}"
    return swept


def beta_path(path: str, beta: Organisation) -> tuple[str, bool]:
    """The path with each parameter naming Beta's object, and whether it names any object at all."""
    values = {
        "slug": beta.event,
        "partner_slug": beta.partner,
        "reference": beta.reference,
        "ticket_id": str(beta.ticket_id),
        "type_id": str(beta.type_id),
        "code": beta.claim_code,
        "user_id": str(beta.member_id),
        "token_id": str(beta.token_id),
        "sign_in_id": str(beta.sign_in_id),
        "invitation_id": str(beta.invitation_id),
        "entry_id": str(beta.entry_id),
        "question_id": str(beta.question_id),
        "series_slug": beta.series,
        "payout_id": str(beta.payout_id),
        "organisation_slug": beta.slug,
        "refund_id": str(beta.refund_id),
        "action": "publish",
    }
    names = re.findall(r"\{(\w+):\w+\}", path)
    unknown = [name for name in names if name not in values]
    assert not unknown, f"{path}: no object of Beta's for {unknown}"
    filled = re.sub(r"\{(\w+):\w+\}", lambda match: values[match.group(1)], path)
    # A sign-in id names one of the person's own sign-ins, not an organisation's object: someone else's is "gone"
    # (checked below: it still exists).
    return filled, any(name not in ("action", "sign_in_id") for name in names)


async def test_no_role_of_one_organisation_reaches_anything_of_another(
    app: Litestar, two_organisations: tuple[Organisation, Organisation, list[Role]]
) -> None:
    _, beta, roles = two_organisations
    routes = swept_routes(app)
    assert len(routes) > 60, "the sweep reads the whole route table"
    leaks: list[str] = []
    for method, path in routes:
        url, names_object = beta_path(path, beta)
        for role in roles:
            response = await role.for_path(path).request(method, url, json={} if path.startswith("/api/") and method != "GET" else None)
            # Pages link back to where they are (the language choice, sign-in's next): the path asked for is no answer.
            answer = response.text.replace(url, "").replace(quote(url, safe=""), "")
            shown = [marker for marker in beta.markers() if marker in answer]
            if response.status_code >= 500:
                leaks.append(f"{role.name} {method} {url}: {response.status_code}")
            elif shown:
                leaks.append(f"{role.name} {method} {url}: answered with Beta's {shown}")
            elif names_object and response.status_code not in (403, 404):
                leaks.append(f"{role.name} {method} {url}: {response.status_code} instead of 404")
    assert not leaks, "\n".join(leaks)

    # Nothing of Beta's changed: its event is still on sale, its order paid, its ticket valid, its member active.
    assert (await Event.select(Event.status).where(Event.slug == beta.event).first())["status"] == "on_sale"
    assert (await Order.select(Order.status).where(Order.reference == beta.reference).first())["status"] == "paid"
    assert (await Ticket.select(Ticket.status).where(Ticket.id == beta.ticket_id).first())["status"] == TicketStatus.valid
    member = await Membership.select(Membership.deactivated_at).where(Membership.user == beta.member_id).first()
    assert member["deactivated_at"] is None
    assert (await ApiToken.select(ApiToken.revoked_at).where(ApiToken.id == beta.token_id).first())["revoked_at"] is None
    assert await SignIn.exists().where(SignIn.id == beta.sign_in_id)
    invitation = await Invitation.select(Invitation.revoked_at, Invitation.accepted_at).where(Invitation.id == beta.invitation_id).first()
    assert invitation == {"revoked_at": None, "accepted_at": None}
    assert (await organisations.find(beta.slug)).suspended_at is None
    assert (await WaitingEntry.select(WaitingEntry.status).where(WaitingEntry.id == beta.entry_id).first())["status"] == "waiting"
    assert (await Event.select(Event.waiting_list_open).where(Event.slug == beta.event).first())["waiting_list_open"] is True
    beta_question = await Question.select(Question.label, Question.position, Question.removed_at).where(Question.id == beta.question_id).first()
    assert beta_question == {"label": beta.question, "position": 0, "removed_at": None}
    assert await Announcement.count().where(Announcement.event.slug == beta.event) == 1  # nobody wrote to Beta's guests
    assert (await Series.select(Series.title).where(Series.slug == beta.series).first())["title"] == beta.series_title
    assert await Event.count().where(Event.organisation == (await organisations.find(beta.slug)).id) == 1  # nothing copied into it
    assert not await Payout.exists().where(Payout.reverses == beta.payout_id)  # Beta's payout is not reversed
    assert (await Refund.select(Refund.status).where(Refund.id == beta.refund_id).first())["status"] == "failed"  # not recorded as given back
    [beta_code] = await codes.list_codes(beta.event)
    assert beta_code.code == beta.sale_code and not beta_code.revoked


async def test_each_role_still_reaches_its_own_organisation(two_organisations: tuple[Organisation, Organisation, list[Role]]) -> None:
    """The sweep's answers are refusals of Beta's objects, not of everything: Alpha's people reach Alpha's."""
    alpha, _, roles = two_organisations
    by_name = {role.name: role.client for role in roles}
    owner, limited, door, viewer = by_name["owner"], by_name["limited organiser"], by_name["door"], by_name["partner viewer"]
    assert (await owner.get(f"/manage/events/{alpha.event}")).status_code == 200
    assert (await owner.get(f"/manage/orders/{alpha.reference}")).status_code == 200
    apis = {role.name: role.api for role in roles}
    assert (await apis["owner"].get(f"/api/events/{alpha.event}/reconciliation")).status_code == 200
    assert [q["label"] for q in (await apis["organiser"].get(f"/api/events/{alpha.event}/questions")).json()] == [alpha.question]
    assert (await owner.get(f"/manage/events/{alpha.event}/questions/{alpha.question_id}/edit")).status_code == 200
    alpha_codes = await apis["limited organiser"].get(f"/api/events/{alpha.event}/codes")
    assert alpha_codes.status_code == 200 and [code["code"] for code in alpha_codes.json()] == [alpha.sale_code]
    assert alpha.sale_code in (await owner.get(f"/manage/events/{alpha.event}/codes")).text
    assert (await limited.get(f"/manage/events/{alpha.event}")).status_code == 200
    assert (await apis["door"].get(f"/api/checkin/events/{alpha.event}/counts")).status_code == 200
    assert (await apis["partner viewer"].get(f"/api/partners/{alpha.partner}/statement")).status_code == 200
    assert (await owner.get(f"/manage/partners/{alpha.partner}/payouts")).status_code == 200
    assert (await apis["owner"].get(f"/api/partners/{alpha.partner}/payouts")).json()[0]["id"] == alpha.payout_id
    assert (await door.get(f"/door/{alpha.event}")).status_code == 200
    assert (await viewer.get(f"/manage/partners/{alpha.partner}/statement")).status_code == 200
    treasurer = by_name["treasurer"]
    assert (await treasurer.get(f"/manage/events/{alpha.event}/statement")).status_code == 200
    assert (await treasurer.get(f"/manage/partners/{alpha.partner}/payouts")).status_code == 200
    assert (await apis["treasurer"].get(f"/api/partners/{alpha.partner}/payouts")).json()[0]["id"] == alpha.payout_id
    assert (await treasurer.get(f"/manage/orders/{alpha.reference}")).status_code == 403  # the money, not the guests
    messages = await limited.get(f"/manage/events/{alpha.event}/announcements")
    assert messages.status_code == 200 and alpha.announcement in messages.text
    assert [sent["subject"] for sent in (await apis["organiser"].get(f"/api/events/{alpha.event}/announcements")).json()] == [alpha.announcement]
    assert (await door.get(f"/manage/events/{alpha.event}/announcements")).status_code == 403
    assert (await owner.get(f"/manage/series/{alpha.series}/statement")).status_code == 200
    assert (await apis["owner"].get(f"/api/series/{alpha.series}/statement")).status_code == 200
    copied = await apis["organiser"].post(
        f"/api/events/{alpha.event}/copy", json={"slug": "alpha-night-again", "starts_at": "2031-01-01T19:00:00", "ends_at": "2031-01-01T22:00:00"}
    )
    assert copied.status_code == 201, copied.text
    home = await owner.get("/manage")
    assert alpha.event_title in home.text


async def test_an_organiser_limited_to_one_event_cannot_see_export_or_refund_another(
    client: httpx.AsyncClient, app: Litestar, now: datetime, two_organisations: tuple[Organisation, Organisation, list[Role]]
) -> None:
    alpha, _, roles = two_organisations
    other = await make_event(
        now, organisation="alpha", slug="alpha-other", title="Alpha Other Night", beneficiaries=[{"partner": "alpha-partner", "share_bp": 10_000}]
    )
    claimed = await claims.give_free_place(
        other, name="Other Guest", email="other@alpha.example", issue=issue_and_confirm, now=now + timedelta(seconds=1)
    )
    limited = {role.name: role.client for role in roles}["limited organiser"]
    limited_api = {role.name: role.api for role in roles}["limited organiser"]
    home = await limited.get("/manage")
    assert home.status_code == 200 and alpha.event_title in home.text and "Alpha Other Night" not in home.text
    assert (await limited.get(f"/manage/events/{other}")).status_code == 404
    assert (await limited.get(f"/manage/events/{other}/attendees.csv")).status_code == 404
    assert (await limited.get(f"/manage/orders/{claimed.order_reference}")).status_code == 404
    refund = await limited_api.post(f"/api/orders/{claimed.order_reference}/refunds", json={"amount_pence": 0, "reason": "test"})
    assert refund.status_code == 404
    assert (await limited_api.get(f"/api/events/{other}/reconciliation.csv")).status_code == 404
    # What spans every event of the organisation is not theirs either.
    assert (await limited_api.get("/api/gift-aid/schedule.csv", params={"from": "2020-01-01", "to": "2040-01-01"})).status_code == 403
    assert (await limited_api.get(f"/api/partners/{alpha.partner}/statement")).status_code == 403
    assert (await limited.get("/manage/guests")).status_code == 403


async def test_one_organisations_door_cannot_scan_anothers_tickets(
    settings: Settings, now: datetime, two_organisations: tuple[Organisation, Organisation, list[Role]]
) -> None:
    """Scans name their event in the body, not the path: the door checks the organisation itself. Beta's signed
    ticket at Beta's event is not found for Alpha's people; at Alpha's own door it is just not a ticket for this
    door, without saying whose it is."""
    alpha, beta, roles = two_organisations
    [ticket] = await tickets_of_order(beta.reference, secret_key=settings.secret_key, now=now)
    apis = {role.name: role.api for role in roles}
    for name in ("owner", "organiser", "door"):
        there = await apis[name].post("/api/checkin/redeem", json={"event": beta.event, "secret": ticket.code, "nonce": f"nonce-{name}-1"})
        assert there.status_code == 404, (name, there.text)
        synced = await apis[name].post(
            "/api/checkin/sync",
            json={"event": beta.event, "scans": [{"secret": ticket.code, "nonce": f"nonce-{name}-2", "scanned_at": now.isoformat(), "result": "ok"}]},
        )
        assert synced.status_code == 404, (name, synced.text)
        here = await apis[name].post("/api/checkin/redeem", json={"event": alpha.event, "secret": ticket.code, "nonce": f"nonce-{name}-3"})
        assert here.status_code == 200 and here.json()["reason"] == "wrong_event", (name, here.text)
        assert here.json().get("ticket_event") is None and beta.event_title not in here.text and beta.guest_name not in here.text
    assert (await Ticket.select(Ticket.checked_in_at).where(Ticket.id == beta.ticket_id).first())["checked_in_at"] is None


async def test_taking_an_organiser_off_the_team_switches_off_the_phones_they_paired(
    app: Litestar, two_organisations: tuple[Organisation, Organisation, list[Role]]
) -> None:
    """A door phone paired by someone opens the door only while they are on the team: taking them off revokes the
    phones' tokens, and a code they made but nobody used pairs nothing."""
    alpha, _, roles = two_organisations
    by_name = {role.name: role for role in roles}
    organiser, owner = by_name["organiser"], by_name["owner"]

    async def pairing_code(device: str) -> str:
        made = await organiser.client.post(f"/door/{alpha.event}/pairings", data={"device": device})
        assert made.status_code == 201, made.text[:300]
        return re.search(r"/door/pair/([A-Za-z0-9_-]+)", made.text).group(1)  # type: ignore[union-attr]

    async def pair(code: str) -> httpx.Response:
        phone = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        await phone.get(f"/door/pair/{code}")
        phone.headers["x-csrftoken"] = phone.cookies.get("csrftoken", "")
        answer = await phone.post(f"/door/pair/{code}")
        await phone.aclose()
        return answer

    used, kept = await pairing_code("Door 1"), await pairing_code("Spare")
    token = re.search(r'data-token="([^"]+)"', (await pair(used)).text).group(1)  # type: ignore[union-attr]
    phone = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers={"Authorization": f"Bearer {token}"})
    assert (await phone.get(f"/api/checkin/events/{alpha.event}/offline")).status_code == 200

    member = await Membership.select(Membership.user).where(Membership.user.email == "organiser@alpha.example").first()
    assert (await owner.api.post(f"/api/users/{member['user']}/deactivate")).status_code == 200

    assert (await phone.get(f"/api/checkin/events/{alpha.event}/offline")).status_code == 401
    assert 'data-token="' not in (await pair(kept)).text
    await phone.aclose()


async def test_a_limited_organiser_moves_money_only_between_their_own_events_and_does_not_see_the_team(
    now: datetime, two_organisations: tuple[Organisation, Organisation, list[Role]]
) -> None:
    alpha, _, roles = two_organisations
    limited = {role.name: role for role in roles}["limited organiser"]
    other = await make_event(
        now, organisation="alpha", slug="alpha-gala", title="Alpha Gala", beneficiaries=[{"partner": "alpha-partner", "share_bp": 10_000}]
    )
    await Event.update({Event.status: "sales_closed"}).where(Event.slug == alpha.event)
    moved = await limited.api.post(f"/api/events/{alpha.event}/pay-it-forward/unused", json={"decision": "carry_over", "target_event": other})
    assert moved.status_code == 422 and "Alpha Gala" not in moved.text
    assert (await limited.api.get("/api/users")).status_code == 403
    assert (await limited.client.get("/manage/people")).status_code == 403


async def test_a_ticket_of_another_organisation_scanned_at_the_door_is_not_named_in_the_scan_log(
    two_organisations: tuple[Organisation, Organisation, list[Role]],
) -> None:
    alpha, beta, roles = two_organisations
    by_name = {role.name: role for role in roles}
    secret = (await Ticket.select(Ticket.secret).where(Ticket.id == beta.ticket_id).first())["secret"]
    scanned = await by_name["door"].api.post("/api/checkin/redeem", json={"event": alpha.event, "secret": secret, "nonce": "wrong-door-0001"})
    assert scanned.status_code == 200 and scanned.json()["reason"] == "wrong_event"
    log = await by_name["organiser"].client.get(f"/manage/events/{alpha.event}/scans")
    assert log.status_code == 200 and beta.reference not in log.text
