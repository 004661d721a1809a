"""Emails to a person about their account (a password-reset link, an invitation to a team), in the language they asked in. Built from plain
data; the email outbox (tickets/outbox.py) sends them with the order emails' retries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

from jinja2 import Environment

from events import i18n
from events.accounts.roles import ROLE_NAMES
from events.i18n import N_
from events.templating import create_environment

SUBJECTS = {"password_reset": N_("Set a new password"), "invitation": N_("You are invited to join a team on Events")}


@dataclass(frozen=True, slots=True)
class PasswordResetEmail:
    locale: str
    name: str
    link: str  # absolute; carries the single-use token
    minutes: int  # how long the link works


@dataclass(frozen=True, slots=True)
class InvitationEmail:
    locale: str
    organisation: str
    role: str  # as a person reads it ("door team")
    inviter: str  # who invited them; "" when made on the command line or the platform page
    link: str  # absolute; carries the single-use token
    days: int  # how long the link works
    # A door-team invitation's door pages, (event title, absolute link), for the events it puts the person on.
    door_pages: tuple[tuple[str, str], ...] = ()


def build_password_reset_email(content: PasswordResetEmail, *, sender: str, recipient: str, templates_dir: Path, now: datetime) -> EmailMessage:
    return _build("password_reset", content, sender=sender, recipient=recipient, templates_dir=templates_dir, now=now)


def build_invitation_email(content: InvitationEmail, *, sender: str, recipient: str, templates_dir: Path, now: datetime) -> EmailMessage:
    return _build("invitation", content, sender=sender, recipient=recipient, templates_dir=templates_dir, now=now)


def _build(
    kind: str, content: PasswordResetEmail | InvitationEmail, *, sender: str, recipient: str, templates_dir: Path, now: datetime
) -> EmailMessage:
    locale = content.locale if content.locale in i18n.SUPPORTED_LOCALES else i18n.DEFAULT_LOCALE
    # The templates' gettext reads the language from request.state, as on the web.
    context = {"request": SimpleNamespace(state=SimpleNamespace(locale=locale)), "mail": content, "locale": locale}
    environment = _environment(templates_dir)
    message = EmailMessage()
    message["Subject"] = i18n.translations(locale).gettext(SUBJECTS[kind])
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(environment.get_template(f"emails/{kind}.txt").render(context))
    message.add_alternative(environment.get_template(f"emails/{kind}.html").render(context), subtype="html")
    return message


def role_name(role: str, locale: str) -> str:
    """A role as the person reads it, in their language."""
    return i18n.translations(locale if locale in i18n.SUPPORTED_LOCALES else i18n.DEFAULT_LOCALE).gettext(ROLE_NAMES.get(role, role))


@lru_cache(maxsize=4)
def _environment(templates_dir: Path) -> Environment:
    return create_environment(templates_dir)
