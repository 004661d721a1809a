"""Emails to buyers: plain text with an HTML alternative in the order's language, tickets attached as one PDF.

Built from plain data (no database): the outbox gathers what an email says, this module writes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

from jinja2 import Environment

from events import i18n
from events.i18n import N_
from events.orders.receipts import Receipt
from events.templating import create_environment

TICKET_KINDS = ("order_confirmation", "tickets_resent", "tickets_reissued")
REFUND_KINDS = ("late_payment_refunded",)
# Kinds that are not ticket emails, and the template (under emails/) each one uses.
OTHER_TEMPLATES = {"late_payment_refunded": "refunded", "event_cancelled": "cancelled"}
SUBJECTS = {
    "order_confirmation": N_("Your tickets for %(event)s"),
    "tickets_resent": N_("Your tickets for %(event)s"),
    "tickets_reissued": N_("Your updated tickets for %(event)s"),
    "late_payment_refunded": N_("Your payment for %(event)s has been refunded"),
    "event_cancelled": N_("%(event)s is cancelled"),
}


@dataclass(frozen=True, slots=True)
class TicketLink:
    holder: str
    type_name: str
    url: str  # absolute: the mobile ticket page


# The organisation's logo travels inside the email (multipart/related, shown by its Content-ID) rather than as a
# link to /organisations/{slug}/logo: most mail clients hold back remote images until the reader allows them
# (a fetched image tells the sender the email was opened), the logo is small (at most 256 KB), and an email
# read years later still shows the logo it was sent with, whatever the organisation changes or removes since.
LOGO_CID = "organisation-logo"


@dataclass(frozen=True, slots=True)
class EmailOrganisation:
    """Who runs the event, as its emails show it: name and logo in their colour at the top, and the charity line
    and contact address at the bottom (a receipt names the charity it was paid to)."""

    name: str
    url: str  # absolute: the organisation's public page
    accent_colour: str  # "#rrggbb", checked when it was saved (organisations.rules)
    charity_name: str = ""
    charity_number: str = ""
    contact_email: str = ""
    logo: bytes | None = None
    logo_content_type: str = ""  # image/png or image/jpeg

    @property
    def registered_name(self) -> str:
        return self.charity_name or self.name


@dataclass(frozen=True, slots=True)
class OrderEmail:
    """What one email says about an order. Links are absolute, dates in the event's time zone."""

    kind: str
    reference: str
    locale: str
    buyer_name: str
    event_title: str
    starts_at: datetime
    venue: str
    order_url: str
    tickets: Sequence[TicketLink] = ()
    refunded_pence: int = 0
    currency: str = "GBP"
    paid_pence: int = 0
    organisation: EmailOrganisation | None = None
    # What the order paid for and how (ticket emails): the same receipt as the order's pages show.
    receipt: Receipt | None = None


def build_email(content: OrderEmail, *, sender: str, recipient: str, pdf: bytes | None, templates_dir: Path, now: datetime) -> EmailMessage:
    """The message, ready to send: text and HTML alternatives, and the tickets PDF when there is one."""
    locale = content.locale if content.locale in i18n.SUPPORTED_LOCALES else i18n.DEFAULT_LOCALE
    # The templates' gettext and date filters read the language from request.state, as on the web.
    context = {"request": SimpleNamespace(state=SimpleNamespace(locale=locale)), "mail": content, "locale": locale}
    environment = _environment(templates_dir)
    name = "tickets" if content.kind in TICKET_KINDS else OTHER_TEMPLATES[content.kind]

    message = EmailMessage()
    message["Subject"] = i18n.translations(locale).gettext(SUBJECTS[content.kind]) % {"event": content.event_title}
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(environment.get_template(f"emails/{name}.txt").render(context))
    message.add_alternative(environment.get_template(f"emails/{name}.html").render(context), subtype="html")
    organisation = content.organisation
    if organisation is not None and organisation.logo:
        maintype, _, subtype = organisation.logo_content_type.partition("/")
        html = message.get_body(preferencelist=("html",))
        assert isinstance(html, EmailMessage)
        html.add_related(organisation.logo, maintype=maintype, subtype=subtype, cid=f"<{LOGO_CID}>", disposition="inline")
    if pdf is not None:
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"tickets-{content.reference}.pdf")
    return message


@lru_cache(maxsize=4)
def _environment(templates_dir: Path) -> Environment:
    return create_environment(templates_dir)
