"""The back office's Codes page for an event: its access and discount codes with their uses, making one, revoking one.

Each handler reads its form, makes one service call and renders the page or redirects; a service's field messages go
back next to the fields, with the person's values kept."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER
from events.backoffice import forms
from events.catalogue import service as catalogue
from events.catalogue.lookup import find_event
from events.codes import service as codes
from events.codes.schemas import CodeIn
from events.errors import EventsError

Form = URLEncodedBody[dict[str, str]]
NOTICES = ("created", "revoked")
NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def _errors(error: EventsError) -> dict[str, str]:
    """A service's field messages, by the form's field names (the whole form's message when it names none)."""
    return {forms.form_field(name): message for name, message in error.fields.items()} or {"form": error.message}


class CodePages(Controller):
    path = "/manage/events/{slug:str}/codes"
    include_in_schema = False
    guards = [requires_role(ORGANISER)]

    async def _render(
        self,
        slug: str,
        now: datetime,
        *,
        form: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        notice: str = "",
        status_code: int = 200,
    ) -> Template:
        event = await find_event(slug)
        types = await catalogue.ticket_types_for_organisers(slug)
        return Template(
            "backoffice/codes.html",
            context={
                "section": "codes",
                "event": event,
                "codes": await codes.list_codes(slug),
                "type_names": {t.id: t.name for t in types},
                "hidden_types": [t for t in types if t.hidden],
                "form": form if form is not None else {"discount": "none", "max_uses": "10"},
                "errors": errors or {},
                "notice": notice if notice in NOTICES else "",
                "now": now,
            },
            status_code=status_code,
            headers=NO_STORE,
        )

    @get("/", name="event_codes")
    async def show(self, slug: FromPath[str], now: NamedDependency[datetime], notice: FromQuery[str] = "") -> Template:
        return await self._render(slug, now, notice=notice)

    @post("/")
    async def create(self, slug: FromPath[str], data: Form, now: NamedDependency[datetime]) -> Template | Redirect:
        hidden = [t.id for t in await catalogue.ticket_types_for_organisers(slug) if t.hidden]
        values, errors = forms.code_values(data, hidden)
        status = 422
        if not errors:
            code, errors = forms.convert(values, CodeIn)
            if code is not None:
                try:
                    made = await codes.create_code(slug, code, now=now)
                except EventsError as error:
                    errors, status = _errors(error), error.status_code
                else:
                    return Redirect(f"/manage/events/{slug}/codes?notice=created#code-{made.id}", status_code=303)
        return await self._render(slug, now, form=data, errors=errors, status_code=status)

    @post("/{code:str}/revoke")
    async def revoke(self, slug: FromPath[str], code: FromPath[str], now: NamedDependency[datetime]) -> Redirect:
        await codes.revoke_code(slug, code, now=now)
        return Redirect(f"/manage/events/{slug}/codes?notice=revoked", status_code=303)
