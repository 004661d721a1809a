"""The organisation table: who runs events, how they look, and the charity details receipts and statements carry."""

from piccolo.columns import Boolean, Bytea, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Organisation(Table, tablename="organisation"):
    """A charity or group running events here. Its Stripe account is the payments package's (StripeAccount); its
    people are the accounts package's (Membership)."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    slug = Varchar(length=60, unique=True, index=True)
    name = Varchar(length=200)
    contact_email = Varchar(length=254, default="")
    # Branding: the colour of buttons, links and the page header (checked for contrast with white text), and a
    # small PNG or JPEG logo, served from /organisations/{slug}/logo.
    accent_colour = Varchar(length=7, default="#0b5c4a")
    logo = Bytea(null=True, default=None)
    logo_content_type = Varchar(length=20, default="")
    # Charity details, printed on receipts, partner statements and the Gift Aid schedule.
    charity_name = Varchar(length=200, default="")
    charity_number = Varchar(length=20, default="")
    gift_aid_reference = Varchar(length=20, default="")
    # Texts to guests who gave only a mobile number go by WhatsApp instead of SMS (the organisation's choice).
    whatsapp_enabled = Boolean(default=False)
    # The charity's own websites that may frame its events' ticket form (the embeddable widget): one origin per
    # line, e.g. "https://example.org". Every other page, and the widget for any other site, refuses framing.
    widget_origins = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    # A suspended organisation's pages and events are hidden and its people cannot act for it (platform admin).
    suspended_at = Timestamptz(null=True, default=None)
