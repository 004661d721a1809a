"""The organisation's settings page, /manage/organisation: its public details, charity details and logo. Owners
change them; organisers see them. (Its Stripe account has pages of its own, under /manage/organisation/stripe.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER, OWNER, CurrentUser
from events.backoffice import organisation
from events.config import Settings
from events.errors import EventsError, InvalidInput
from events.organisations import rules
from events.organisations import service as organisations
from events.organisations.service import OrganisationRow

NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
NOTICES = {"saved": "Details saved.", "logo": "Logo saved.", "logo_removed": "Logo removed.", "widget": "Websites saved."}


# The form's checkboxes: sent as "on" when ticked, left out when not.
SWITCHES = ("whatsapp_enabled",)


def _form(row: OrganisationRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in organisation.AUDITED_FIELDS}


def _details(data: dict[str, str]) -> rules.OrganisationDetails:
    values: dict[str, Any] = {name: data.get(name, "").strip() for name in organisation.AUDITED_FIELDS if name not in SWITCHES}
    values |= {name: data.get(name) == "on" for name in SWITCHES}
    return rules.OrganisationDetails(**values)


async def _page(
    user: CurrentUser,
    settings: Settings,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
    status_code: int = 200,
    widget_origins: str | None = None,
) -> Template:
    row = await organisations.by_id(user.organisation)
    form = form if form is not None else _form(row)
    form = {**form, "widget_origins": row.widget_origins if widget_origins is None else widget_origins}
    if not settings.twilio.whatsapp_ready:
        form = {**form, "whatsapp_enabled": row.whatsapp_enabled}  # the switch is disabled: it shows what is stored
    return Template(
        "backoffice/organisation.html",
        context={
            "section": "organisation",
            "organisation": row,
            "form": form,
            "errors": errors or {},
            "notice": notice,
            "may_edit": user.has_role(OWNER),
            "logo_max_kb": rules.LOGO_MAX_BYTES // 1024,
            "widget_origins_max": rules.WIDGET_ORIGINS_MAX,
            # Without the service's WhatsApp sender and approved template, WhatsApp cannot be turned on and texts go by
            # SMS whatever the switch says: the page tells owners so.
            "whatsapp_ready": settings.twilio.whatsapp_ready,
        },
        status_code=status_code,
        headers=NO_STORE,
    )


async def _uploaded_logo(request: Request[CurrentUser, Any, Any]) -> bytes:
    """The file sent as ``logo``, read no further than one byte past the limit (rules.logo_problem refuses it)."""
    form = await request.form()
    upload = form.get("logo")
    if not isinstance(upload, UploadFile):
        raise InvalidInput("Choose an image file.", fields={"logo": "Choose an image file."})
    return await upload.read(rules.LOGO_MAX_BYTES + 1)


class OrganisationPages(Controller):
    path = "/manage/organisation"
    include_in_schema = False

    @get("/", name="organisation_settings", guards=[requires_role(ORGANISER)])
    async def show(self, request: Request[CurrentUser, Any, Any], settings: NamedDependency[Settings], notice: FromQuery[str] = "") -> Template:
        return await _page(request.user, settings, notice=notice if notice in NOTICES else "")

    @post("/", guards=[requires_role(OWNER)])
    async def save(
        self,
        request: Request[CurrentUser, Any, Any],
        data: URLEncodedBody[dict[str, str]],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        try:
            await organisation.update_organisation(
                request.user.organisation, _details(data), whatsapp_available=settings.twilio.whatsapp_ready, now=now
            )
        except EventsError as error:
            return await _page(request.user, settings, form=data, errors=error.fields or {"form": error.message}, status_code=error.status_code)
        return Redirect("/manage/organisation?notice=saved", status_code=303)

    @post("/logo", guards=[requires_role(OWNER)])
    async def upload_logo(
        self, request: Request[CurrentUser, Any, Any], now: NamedDependency[datetime], settings: NamedDependency[Settings]
    ) -> Template | Redirect:
        try:
            await organisation.change_logo(request.user.organisation, await _uploaded_logo(request), now=now)
        except EventsError as error:
            return await _page(request.user, settings, errors=error.fields or {"logo": error.message}, status_code=error.status_code)
        return Redirect("/manage/organisation?notice=logo", status_code=303)

    @post("/logo/remove", guards=[requires_role(OWNER)])
    async def remove_logo(self, request: Request[CurrentUser, Any, Any], now: NamedDependency[datetime]) -> Redirect:
        await organisation.change_logo(request.user.organisation, None, now=now)
        return Redirect("/manage/organisation?notice=logo_removed", status_code=303)

    @post("/widget", guards=[requires_role(OWNER)])
    async def save_widget_origins(
        self,
        request: Request[CurrentUser, Any, Any],
        data: URLEncodedBody[dict[str, str]],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        """The websites that may show the organisation's ticket form in a frame (the embeddable widget)."""
        typed = data.get("widget_origins", "")
        try:
            await organisation.change_widget_origins(request.user.organisation, typed, now=now)
        except EventsError as error:
            errors = error.fields or {"widget_origins": error.message}
            return await _page(request.user, settings, errors=errors, status_code=error.status_code, widget_origins=typed)
        return Redirect("/manage/organisation?notice=widget", status_code=303)
