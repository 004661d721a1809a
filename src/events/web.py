"""Small site-wide routes: choosing a language, the service worker, the favicon and the health check."""

from __future__ import annotations

import msgspec
from litestar import Controller, get
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery
from litestar.response import File, Redirect

from events import i18n
from events.accounts.controllers import safe_next
from events.catalogue.tables import Event
from events.config import PROJECT_ROOT
from events.errors import NotFound
from events.i18n import N_

ONE_YEAR_SECONDS = 365 * 24 * 3600
ONE_DAY_SECONDS = 24 * 3600


class Health(msgspec.Struct):
    status: str
    database: str


class LanguagePages(Controller):
    path = "/language"
    include_in_schema = False

    @get("/{code:str}")
    async def choose_language(self, code: FromPath[str], next: FromQuery[str] = "/") -> Redirect:
        if code not in i18n.SUPPORTED_LOCALES:
            raise NotFound(N_("We do not have that language yet."))
        return Redirect(
            safe_next(next),
            cookies=[Cookie(key=i18n.LOCALE_COOKIE, value=code, max_age=ONE_YEAR_SECONDS, samesite="lax", httponly=True)],
        )


class ServiceWorker(Controller):
    path = "/sw.js"
    include_in_schema = False

    @get("/", media_type="text/javascript")
    async def service_worker(self) -> File:
        # Served from the root so it may look after every ticket page.
        return File(PROJECT_ROOT / "static" / "js" / "sw.js", content_disposition_type="inline", headers={"Cache-Control": "no-cache"})


class Favicon(Controller):
    path = "/favicon.ico"
    include_in_schema = False

    @get("/", media_type="image/x-icon")
    async def favicon(self) -> File:
        # Where browsers (and other clients) look for it whatever a page says: pages link the versioned copy under
        # /static/, so this one may be kept only for a day.
        return File(
            PROJECT_ROOT / "static" / "favicon.ico",
            content_disposition_type="inline",
            headers={"Cache-Control": f"public, max-age={ONE_DAY_SECONDS}"},
        )


class HealthApi(Controller):
    path = "/healthz"
    tags = ["Operations"]

    @get("/", summary="Liveness and database reachability")
    async def health(self) -> Health:
        await Event.count()
        return Health(status="ok", database="ok")
