"""Messages to guests over HTTP: the organiser's "Message guests" page (write, check who it reaches, confirm, and the
messages sent with how each went) and its API. Each handler reads its input, makes one service call and renders a page
or redirects; a problem goes back next to its field, with what the organiser wrote kept."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Redirect, Template

from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER, CurrentUser
from events.announcements import forms, rules, service
from events.announcements.forms import MessageForm
from events.announcements.rules import Draft, Wording
from events.announcements.schemas import AnnouncementIn, AnnouncementOut, DeliveryOut, VersionOut
from events.announcements.service import AlreadySent, SentMessage
from events.dependencies import BEARER, error_responses
from events.errors import EventsError, InvalidInput
from events.forms import read_form
from events.tickets.texts import ANNOUNCEMENT_TEXT_CHARACTERS

PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
GUARD = [requires_role(ORGANISER)]
NOTICES = ("sent", "already_sent")


def _out(message: SentMessage) -> AnnouncementOut:
    delivery = message.delivery
    return AnnouncementOut(
        id=message.id,
        subject=message.subject,
        body=message.body,
        locale=message.locale,
        ticket_types=list(message.ticket_types),
        versions=[VersionOut(version.locale, version.subject, version.body) for version in message.versions],
        recipients=message.recipients,
        sent_by=message.sent_by,
        created_at=message.created_at,
        delivery=DeliveryOut(delivery.sent, delivery.failed, delivery.waiting, delivery.not_sent),
    )


def _draft(data: AnnouncementIn) -> Draft:
    return Draft(
        message=Wording(data.locale, data.subject, data.body),
        ticket_types=tuple(data.ticket_types),
        versions=tuple(Wording(version.locale, version.subject, version.body) for version in data.versions),
    )


class AnnouncementsApi(Controller):
    path = "/api/events/{slug:str}/announcements"
    tags = ["Messages to guests"]
    guards = GUARD
    security = BEARER

    @post(
        "/",
        status_code=201,
        summary="Write to the event's guests, or to those holding tickets of chosen types (organiser)",
        responses=error_responses(401, 403, 404, 409, 422, 429),
        description="One message per order with a valid ticket (of one of `ticket_types`, when given), to its email "
        "address, or by text to a guest who gave only a mobile number; never with another guest's address. A guest "
        "whose order is in the language of one of `versions` gets that version; anyone else gets `subject` and "
        "`body` (written in `locale`) with the event's details in their own language. 409 `no_recipients` when "
        "nobody could be reached; 429 past 3 messages an hour per event or 10 a day per organisation (`Retry-After`). "
        "Delivery counts fill in as the worker sends.",
    )
    async def send(
        self, request: Request[CurrentUser, Any, Any], slug: FromPath[str], data: JSONBody[AnnouncementIn], now: NamedDependency[datetime]
    ) -> AnnouncementOut:
        return _out(await service.send_announcement(slug, _draft(data), sent_by=request.user.name, now=now))

    @get(
        "/",
        summary="The messages sent to the event's guests, newest first, with how many were sent and failed",
        responses=error_responses(401, 403, 404),
    )
    async def list_sent(self, slug: FromPath[str]) -> list[AnnouncementOut]:
        return [_out(message) for message in await service.sent_messages(slug)]


class AnnouncementPages(Controller):
    path = "/manage/events/{slug:str}/announcements"
    include_in_schema = False
    guards = GUARD

    @get("/", name="event_announcements")
    async def show(self, slug: FromPath[str], notice: FromQuery[str] = "") -> Template:
        return await _messages_page(slug, notice=notice)

    @post("/", status_code=200)
    async def check(self, request: Request[CurrentUser, Any, Any], slug: FromPath[str]) -> Template:
        """The confirmation step: whom the message reaches and how, before anything is sent (or, going back from
        it, the form again to change the message)."""
        form = await read_form(request, MessageForm)
        if form.step == "edit":
            return await _messages_page(slug, form=form)
        draft, problems = forms.draft_of(form)
        try:
            preview = await service.preview(slug, draft)
        except InvalidInput as error:
            return await _messages_page(slug, form=form, errors={**_errors(error), **problems}, status_code=error.status_code)
        if problems:
            return await _messages_page(slug, form=form, errors=problems, status_code=422)
        return Template(
            "announcements/confirm.html",
            context={
                "section": "announcements",
                "event": preview.event,
                "form": forms.form_values(form),
                "draft": preview.draft,
                "audience": preview.audience,
                "chosen_types": preview.ticket_type_names,
                "languages": rules.LANGUAGES,
                "send_token": secrets.token_urlsafe(16),
                "text_characters": ANNOUNCEMENT_TEXT_CHARACTERS,
            },
            headers=PRIVATE,
        )

    @post("/send", status_code=303)
    async def send(self, request: Request[CurrentUser, Any, Any], slug: FromPath[str], now: NamedDependency[datetime]) -> Redirect | Template:
        form = await read_form(request, MessageForm)
        draft, problems = forms.draft_of(form)
        if problems:
            return await _messages_page(slug, form=form, errors=problems, status_code=422)
        try:
            await service.send_announcement(slug, draft, sent_by=request.user.name, now=now, once=form.send_token)
        except AlreadySent:
            return Redirect(f"/manage/events/{slug}/announcements?notice=already_sent", status_code=303)
        except EventsError as error:
            if error.status_code == 404:
                raise
            return await _messages_page(slug, form=form, errors=_errors(error), status_code=error.status_code, headers=error.headers)
        return Redirect(f"/manage/events/{slug}/announcements?notice=sent", status_code=303)


def _errors(error: EventsError) -> dict[str, str]:
    """A service's problems by form field; a problem with no field (a limit, nobody to reach) above the form."""
    return {forms.form_field(name): message for name, message in error.fields.items()} or {"form": error.message}


async def _messages_page(
    slug: str,
    *,
    form: MessageForm | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    page = await service.messages_page(slug)
    return Template(
        "announcements/messages.html",
        context={
            "section": "announcements",
            "event": page.event,
            "ticket_types": page.ticket_types,
            "everyone": page.everyone,
            "sent": page.sent,
            "languages": rules.LANGUAGES,
            "form": forms.form_values(form or MessageForm()),
            "errors": errors or {},
            "notice": notice if notice in NOTICES else "",
            "per_event": rules.PER_EVENT,
            "per_organisation": rules.PER_ORGANISATION,
            "text_characters": ANNOUNCEMENT_TEXT_CHARACTERS,
        },
        status_code=status_code,
        headers={**PRIVATE, **(headers or {})},
    )
