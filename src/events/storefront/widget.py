"""The embeddable ticket form (the widget): the code an organiser pastes into their own website, and the links a
framed page keeps inside the frame. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import quote

# Every page of the widget lives under this prefix: the only pages another site may frame (security_headers).
EMBED_PREFIX = "/embed"
# The frame's first height before embed.js has heard from it: the buy form's top on a phone.
FIRST_HEIGHT = 720


@dataclass(frozen=True, slots=True)
class Frame:
    """A widget page's own context: its language (carried in every link, as the frame has no cookie to remember it)
    and the websites that may frame it (its pages post their height to these only)."""

    lang: str
    origins: tuple[str, ...]

    def url(self, path: str) -> str:
        """A site path's counterpart inside the frame: ``/events/x/buy`` -> ``/embed/events/x/buy?lang=fr``."""
        return f"{EMBED_PREFIX}{path}{'&' if '?' in path else '?'}lang={quote(self.lang)}"


def snippet(base_url: str, slug: str, title: str) -> str:
    """The HTML an organiser pastes where the event's ticket form should appear: the frame (``allow="payment"`` lets
    Stripe offer wallets inside it) and embed.js, which sizes the frame to its page and passes on the host page's
    language. Without the script the frame still works, at its first height."""
    frame = escape(f"{base_url}{EMBED_PREFIX}/events/{quote(slug)}")
    label = escape(f"Tickets: {title}")
    return (
        f'<iframe src="{frame}" title="{label}" width="100%" height="{FIRST_HEIGHT}" allow="payment" data-events-widget></iframe>\n'
        f'<script src="{escape(base_url)}/static/js/embed.js" async></script>'
    )
