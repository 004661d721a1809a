"""The application factory: routes, templates, sessions, CSRF, auth, OpenAPI and the one error handler."""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar, Request, Router
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

import events.accounts.ownership
import events.catalogue.access
import events.orders.access
import events.tickets.access
import events.waitlist.access  # noqa: F401
from events import __doc__ as description
from events import cpu, db, forms, i18n, malloc
from events.accounts.auth import AuthenticationMiddleware, may_open
from events.accounts.controllers import AccountPages, LoginPages, PasswordResetPages
from events.accounts.sessions import SESSION_COOKIE, SESSION_MAX_AGE, SESSION_STORE, DatabaseStore, SessionConfig
from events.announcements.controllers import AnnouncementPages, AnnouncementsApi
from events.api_reference import ApiReference
from events.backoffice.audit_pages import AuditPages
from events.backoffice.code_pages import CodePages
from events.backoffice.controllers import EventOverviewPages
from events.backoffice.invitation_pages import InvitationPages
from events.backoffice.order_pages import OrderPages as BackOfficeOrderPages
from events.backoffice.organisation_pages import OrganisationPages
from events.backoffice.payout_pages import PayoutPages
from events.backoffice.people_pages import InvitationsApi, PeopleApi, PeoplePages
from events.backoffice.platform_pages import PlatformPages
from events.backoffice.series_pages import EventCopyPages, SeriesManagePages
from events.backoffice.setup_controllers import BackOfficeHome, ClaimLinkPages, DoorStaffPages, EventSetupPages, PartnerPages, TicketTypePages
from events.backoffice.stripe_pages import StripePages
from events.backoffice.waiting_list_pages import WaitingListManagePages
from events.catalogue.controllers import EventPages, EventsApi, PartnersApi
from events.checkin.controllers import CheckinApi, DoorPages, DoorTeamApi
from events.codes.controllers import CodesApi
from events.config import Settings, load_settings
from events.content_type import JsonBodiesOnly
from events.dependencies import DEPENDENCIES
from events.door_sales.controllers import DoorSalesApi
from events.errors import handle_error
from events.giftaid.controllers import GiftAidApi, GiftAidPages
from events.head import answer_head_as_get
from events.jobs.registry import periodic_jobs
from events.jobs.worker import run_forever
from events.ledger.controllers import LedgerApi, StatementPages
from events.ledger.series_controllers import SeriesStatementApi, SeriesStatementPages
from events.malformed import RefuseMalformedRequests
from events.payments.controllers import CancellationApi, RefundChoiceApi, RefundChoicePages, StripeWebhooks
from events.payments.gateway import create_gateway
from events.payments.gateways import Gateways
from events.payments.wallets import ApplePayDomainAssociation
from events.privacy.controllers import GuestDataPages
from events.questions.controllers import GuestAnswerPages, KitchenPages, QuestionPages, QuestionsApi
from events.releases.controllers import OrderReleasePages, ReleasePages, ReleasesApi
from events.security_headers import api_reference_policy, security_headers
from events.series.controllers import EventCopyApi, SeriesApi, SeriesPages
from events.static_assets import StaticFiles
from events.storefront.claim_controllers import ClaimPages, ClaimsApi
from events.storefront.embed_controllers import EmbedPages
from events.storefront.event_pages import EventPage
from events.storefront.order_controllers import OrderPages, OrdersApi
from events.storefront.waitlist_controllers import WaitingListGuestPages
from events.templating import create_template_engine
from events.tickets import keys
from events.tickets.controllers import TicketPages, TicketsApi, TwilioWebhooks
from events.tickets.holder_controllers import HolderApi, HolderPages
from events.waitlist.controllers import WaitingListApi
from events.waitlist.organiser_controllers import WaitingListOrganiserApi
from events.web import Favicon, HealthApi, LanguagePages, ServiceWorker

# Every path but static files, the service workers, the favicon and the API (see compression_config below).
UNCOMPRESSED = r"^/(?!static/|api/|(door/)?sw\.js$|favicon\.ico$)"
# Litestar warns of an exclude pattern that matches "/" and a made-up path, taking it for one that excludes every
# path; this one does so on purpose and leaves out the paths above.
warnings.filterwarnings("ignore", message="Middleware 'CompressionMiddleware' exclude pattern", module="litestar")


def _with_link_guards(engine: JinjaTemplateEngine) -> JinjaTemplateEngine:
    """Pages ask `may_open(request, path)` before linking to a page their reader's role may not open."""
    engine.engine.globals["may_open"] = may_open
    return engine


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings()
    forms.keep_no_form_bodies()  # no posted password or guest's details left in Litestar's cache of form bodies
    engine = db.create_engine(settings.database_url)
    gateways = Gateways(create_gateway(settings.stripe, production=settings.is_production), settings)

    @contextlib.asynccontextmanager
    async def database_and_worker(app: Litestar) -> AsyncIterator[None]:
        malloc.fix_thresholds()  # a serve worker runs for days: large freed blocks go back to the system
        db.bind(engine)
        keys.use_secret_key(settings.secret_key)  # issuing tickets makes their event's signing key
        await db.open_engine(engine, pool_size=settings.db_pool_size)
        cpu_pool = cpu.start(settings.cpu_processes, timeout_seconds=settings.cpu_timeout_seconds)  # PDFs render in it, off this process's GIL
        stop = asyncio.Event()
        worker = (
            asyncio.create_task(run_forever(periodic_jobs(gateways.environment, settings, gateways=gateways), stop))
            if settings.run_worker_in_process
            else None
        )
        try:
            yield
        finally:
            stop.set()
            try:
                if worker is not None:
                    await worker
            finally:
                try:
                    await cpu_pool.close()
                finally:
                    await db.close_engine(engine)

    # async, so Litestar runs it in the event loop: a plain function would go through sync_to_thread, a
    # thread-pool hop on every request.
    async def choose_locale(request: Request[Any, Any, Any]) -> None:
        opt = request.route_handler.opt
        if opt.get(i18n.STAFF_PAGE):
            request.state.locale = i18n.STAFF_LOCALE
            return
        remembered = None if opt.get(i18n.FRAMED_PAGE) else request.cookies.get(i18n.LOCALE_COOKIE)
        # No query string, no ?lang=: an API call (a door scan) need not have its empty query parsed into a dictionary.
        requested = request.query_params.get("lang") if request.scope.get("query_string") else None
        request.state.locale = i18n.negotiate_locale(requested, remembered, request.headers.get("accept-language"))

    sessions = SessionConfig(
        key=SESSION_COOKIE,
        store=SESSION_STORE,
        max_age=int(SESSION_MAX_AGE.total_seconds()),
        secure=settings.is_production,
        samesite="lax",
        exclude=["^/static/", "^/api/", "^/schema", "^/healthz", "^/sw.js", "^/favicon.ico", "^/embed/", r"^/\.well-known/"],
    )
    api_reference = ApiReference()
    static_files = StaticFiles(settings.static_dir)
    # The organisers' and platform's pages (and statements): in English whatever the guest language (see
    # i18n.STAFF_LOCALE). The door's own pages stay in the door team's language; the organiser's "Pair another
    # phone" page under /door says so itself (checkin.controllers).
    staff_pages = Router(
        path="/",
        route_handlers=[
            EventOverviewPages,
            BackOfficeHome,
            EventSetupPages,
            TicketTypePages,
            PartnerPages,
            ClaimLinkPages,
            CodePages,
            DoorStaffPages,
            BackOfficeOrderPages,
            WaitingListManagePages,
            AnnouncementPages,
            AuditPages,
            PeoplePages,
            StripePages,
            OrganisationPages,
            PlatformPages,
            GuestDataPages,
            GiftAidPages,
            StatementPages,
            QuestionPages,
            KitchenPages,
            SeriesManagePages,
            EventCopyPages,
            SeriesStatementPages,
            PayoutPages,
        ],
        opt={i18n.STAFF_PAGE: True},
    )
    app = Litestar(
        route_handlers=[
            EventPages,
            EventPage,
            EventsApi,
            OrdersApi,
            DoorSalesApi,
            OrderPages,
            EmbedPages,
            StripeWebhooks,
            TwilioWebhooks,
            CheckinApi,
            DoorPages,
            ClaimsApi,
            CodesApi,
            WaitingListApi,
            LedgerApi,
            AnnouncementsApi,
            staff_pages,
            CancellationApi,
            RefundChoiceApi,
            RefundChoicePages,
            PeopleApi,
            InvitationsApi,
            InvitationPages,
            DoorTeamApi,
            GiftAidApi,
            ClaimPages,
            WaitingListGuestPages,
            PartnersApi,
            SeriesApi,
            SeriesPages,
            EventCopyApi,
            SeriesStatementApi,
            WaitingListOrganiserApi,
            LoginPages,
            AccountPages,
            PasswordResetPages,
            LanguagePages,
            HealthApi,
            ServiceWorker,
            Favicon,
            ApplePayDomainAssociation,
            TicketPages,
            TicketsApi,
            HolderPages,
            HolderApi,
            ReleasePages,
            OrderReleasePages,
            ReleasesApi,
            QuestionsApi,
            GuestAnswerPages,
            create_static_files_router(path="/static", directories=[settings.static_dir], include_in_schema=False),
        ],
        dependencies=DEPENDENCIES,
        middleware=[
            RefuseMalformedRequests(),
            sessions.middleware,
            DefineMiddleware(AuthenticationMiddleware, exclude=["^/static/", "^/schema", "^/healthz", "^/favicon.ico", r"^/\.well-known/"]),
            JsonBodiesOnly(),
        ],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_secure=settings.is_production,
            cookie_samesite="lax",
            # The API authenticates with bearer tokens only, never cookies, so it cannot be forged cross-site.
            # The embeddable ticket form (/embed/) runs in a frame on another site, where our cookies are not sent, so
            # it cannot use the CSRF cookie; nor does it need it: its pages are anonymous and read no cookie, so a
            # forged post can do only what anyone may do (place an order, under the same rate limits), and acting on
            # an order takes the order's access token, which travels in the form.
            # Static files and the favicon are kept by shared caches for a year: they set no cookie.
            # Apple's crawler reads the Apple Pay domain file (payments.wallets) and keeps no cookie.
            exclude=["^/api/", "^/webhooks/", "^/schema", "^/healthz", "^/static/", "^/favicon.ico", "^/embed/", r"^/\.well-known/"],
        ),
        # gzip for clients that accept it, unless the reverse proxy compresses (docs/deployment.md). Level 6, not
        # Litestar's 9: nearly as small, for much less CPU per response. Static files, the service worker and the API
        # only: an HTML page holds the browser's CSRF token beside text the visitor's address chose (the event page's
        # `?code=`), which compressed is what BREACH reads a secret from. The pages are a few KiB; the scripts and
        # styles, which carry no secret, are most of what a page costs.
        compression_config=(CompressionConfig(backend="gzip", gzip_compress_level=6, exclude=UNCOMPRESSED) if settings.compress_responses else None),
        stores={SESSION_STORE: DatabaseStore()},
        template_config=TemplateConfig(instance=_with_link_guards(create_template_engine(settings.templates_dir, static_files))),
        exception_handlers={Exception: handle_error},
        before_request=choose_locale,
        before_send=[
            security_headers(settings, reference_policy=api_reference_policy(api_reference.js_url, api_reference.css_url)),
            static_files.caching_headers(),
        ],
        openapi_config=OpenAPIConfig(
            title="events",
            version="0.1.0",
            description=description,
            path="/schema",
            render_plugins=[api_reference],
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(type="http", scheme="bearer", description="An API token from `events token create EMAIL`.")
                }
            ),
        ),
        lifespan=[database_and_worker],
        state=State({"settings": settings, "gateways": gateways}),
    )
    answer_head_as_get(app)
    return app
