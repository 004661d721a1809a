"""Apple Pay on the web: the domain association file Apple reads to verify a domain registered with Stripe.

Stripe's dashboard gives the file when a domain is registered for Apple Pay; it is the same for every page of the
site, so it comes from a setting (EVENTS_STRIPE_APPLE_PAY_DOMAIN_ASSOCIATION). It carries nothing about anyone, and
it is served without a session or CSRF cookie (see the exclusions in app.py): Apple's crawler keeps none.
"""

from __future__ import annotations

from litestar import Controller, MediaType, Response, get
from litestar.di import NamedDependency

from events.config import Settings
from events.errors import NotFound
from events.i18n import N_

DOMAIN_ASSOCIATION_PATH = "/.well-known/apple-developer-merchantid-domain-association"


class ApplePayDomainAssociation(Controller):
    path = DOMAIN_ASSOCIATION_PATH
    include_in_schema = False

    @get("/", media_type=MediaType.TEXT)
    async def domain_association(self, settings: NamedDependency[Settings]) -> Response[str]:
        content = settings.stripe.apple_pay_domain_association
        if content is None:
            raise NotFound(N_("This site has not been set up for Apple Pay."))
        return Response(content, media_type=MediaType.TEXT)
