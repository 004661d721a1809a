"""What an organisation's details must be: slug, colours a reader can read, a charity number, a logo. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

from events import text

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX = 60
COLOUR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")
# White text on the accent colour (buttons, the page header) must meet WCAG 2.2 AA for normal text.
MINIMUM_CONTRAST = 4.5
# Charity numbers: England and Wales (1234567, or 1234567-1 for a linked charity), Scotland (SC012345), Northern
# Ireland (NIC101234 or the older XR12345); a company number is accepted too, as some charities use it.
CHARITY_NUMBER_PATTERN = re.compile(r"^(?:\d{6,8}(?:-\d{1,2})?|SC0\d{5}|NIC1\d{5}|X[A-Z]\d{5}|[A-Z]{2}\d{6})$")
# HMRC's charity reference for Gift Aid claims (e.g. AB12345 or X12345).
GIFT_AID_REFERENCE_PATTERN = re.compile(r"^[A-Z]{1,2}\d{3,6}$")
# The site's own accent colour: a new organisation's, and the one pages fall back to.
DEFAULT_ACCENT = "#0b5c4a"
LOGO_MAX_BYTES = 256 * 1024
LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


@dataclass(frozen=True, slots=True)
class OrganisationDetails:
    """What an organiser (or the platform admin) can set."""

    name: str
    contact_email: str = ""
    accent_colour: str = DEFAULT_ACCENT
    charity_name: str = ""
    charity_number: str = ""
    gift_aid_reference: str = ""
    # Texts to guests who gave only a mobile number go by WhatsApp rather than SMS (where the service has a
    # WhatsApp sender): free to receive on a foreign SIM or over Wi-Fi, which many of a charity's guests rely on.
    whatsapp_enabled: bool = False


WHATSAPP_UNAVAILABLE = (
    "WhatsApp cannot be turned on yet: it only takes messages from us in a template WhatsApp has approved, "
    "and the platform must set one up first. Until then texts go by SMS."
)


def whatsapp_choice(requested: bool, current: bool, *, available: bool) -> bool | None:
    """What the WhatsApp switch becomes: as asked while the service can send WhatsApp; otherwise the switch is
    disabled and the stored choice stands (a disabled box is not sent with the form), and None when asked to turn
    it on, which cannot be done yet."""
    if available:
        return requested
    if requested and not current:
        return None
    return current


def slug_problem(slug: str) -> str | None:
    if not SLUG_PATTERN.fullmatch(slug) or len(slug) > SLUG_MAX:
        return f"Use lower-case letters, digits and single hyphens (at most {SLUG_MAX}), e.g. kitchen-collective."
    return None


def contrast_with_white(colour: str) -> float:
    """WCAG 2 contrast ratio of white text on ``colour`` ("#rrggbb")."""
    channels = [int(colour[index : index + 2], 16) / 255 for index in (1, 3, 5)]
    linear = [channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4 for channel in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


def theme_colour(colour: str) -> str:
    """The accent colour a page may be given: the organisation's if it is #rrggbb white text can be read on, else
    the site's own."""
    if COLOUR_PATTERN.fullmatch(colour) and contrast_with_white(colour) >= MINIMUM_CONTRAST:
        return colour.lower()
    return DEFAULT_ACCENT


def normalise_charity_number(value: str) -> str:
    return "".join(value.split()).upper()


def details_problems(details: OrganisationDetails) -> dict[str, str]:
    """Field -> message for every rule the details break (empty when valid)."""
    problems: dict[str, str] = {}
    if (problem := text.line_problem(details.name)) is not None or len(details.name) > 200:
        problems["name"] = problem or "Use at most 200 characters."
    email = details.contact_email
    if email and ("@" not in email or len(email) > 254 or text.line_problem(email) is not None or " " in email):
        problems["contact_email"] = "Give an email address guests can write to, or leave it empty."
    if not COLOUR_PATTERN.fullmatch(details.accent_colour):  # fullmatch: "$" would let a trailing newline through
        problems["accent_colour"] = "Give a colour as # and six hexadecimal digits, e.g. #0b5c4a."
    elif contrast_with_white(details.accent_colour) < MINIMUM_CONTRAST:
        ratio = contrast_with_white(details.accent_colour)
        problems["accent_colour"] = (
            f"White text on this colour is hard to read (contrast {ratio:.1f}:1, at least 4.5:1 is needed): choose a darker one."
        )
    if (problem := text.line_problem(details.charity_name, required=False)) is not None or len(details.charity_name) > 200:
        problems["charity_name"] = problem or "Use at most 200 characters."
    if details.charity_number and not CHARITY_NUMBER_PATTERN.fullmatch(normalise_charity_number(details.charity_number)):
        problems["charity_number"] = "Give the registered charity number, e.g. 1234567, SC012345 or NIC101234."
    if details.gift_aid_reference and not GIFT_AID_REFERENCE_PATTERN.fullmatch(normalise_charity_number(details.gift_aid_reference)):
        problems["gift_aid_reference"] = "Give HMRC's charity reference, e.g. AB12345."
    return problems


def logo_content_type(data: bytes) -> str | None:
    """The logo's type from its first bytes (PNG or JPEG only: no SVG, which can carry script), or None."""
    for magic, content_type in LOGO_TYPES.items():
        if data.startswith(magic):
            return content_type
    return None


def logo_problem(data: bytes) -> str | None:
    if not data:
        return "Choose an image file."
    if len(data) > LOGO_MAX_BYTES:
        return f"The logo must be at most {LOGO_MAX_BYTES // 1024} KB."
    if logo_content_type(data) is None:
        return "The logo must be a PNG or JPEG image."
    return None


# The charity's websites that may frame its events' ticket form (the embeddable widget). Browsers match a
# frame-ancestors source by scheme, host and port, so an origin is exactly that: no path, query or wildcard. Plain
# http is allowed for a local test page only: a public site framing the form over http could be rewritten on the
# way and its guests shown a false page around a real payment form.
WIDGET_ORIGINS_MAX = 20
_WIDGET_ORIGIN = re.compile(r"^(https)://([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+)(?::(\d{1,5}))?$")
_LOCAL_ORIGIN = re.compile(r"^(https?)://(localhost|127\.0\.0\.1)(?::(\d{1,5}))?$")


def widget_origins(value: str) -> tuple[list[str], str | None]:
    """The origins typed one per line (blank lines and trailing slashes dropped, lower-cased, duplicates once), and
    the first problem with them, or None: an origin is https://host[:port], or http(s)://localhost or 127.0.0.1 with a
    port for testing; at most WIDGET_ORIGINS_MAX."""
    if (problem := text.text_problem(value, required=False)) is not None:
        return [], problem
    if len(value) > WIDGET_ORIGINS_MAX * 210:
        return [], f"List at most {WIDGET_ORIGINS_MAX} websites."
    origins: list[str] = []
    for line in value.splitlines():
        typed = line.strip().removesuffix("/").lower()
        if not typed:
            continue
        match = _WIDGET_ORIGIN.fullmatch(typed) or _LOCAL_ORIGIN.fullmatch(typed)
        port = match.group(3) if match else None
        if match is None or (port is not None and not 0 < int(port) < 65536) or len(typed) > 200:
            return (
                [],
                f"{line.strip()[:80]} is not a website address we can allow. Give one origin per line: https:// and the site's name, e.g. https://example.org, with no path.",
            )
        if typed not in origins:
            origins.append(typed)
    if len(origins) > WIDGET_ORIGINS_MAX:
        return [], f"List at most {WIDGET_ORIGINS_MAX} websites."
    return origins, None
