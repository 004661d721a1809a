"""Gift Aid API shapes (msgspec)."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from events import text


class GiftAidIn(Struct, forbid_unknown_fields=True):
    """A UK taxpayer's Gift Aid declaration on the order's contributions and donations (never on tickets or
    booking fees); only for an order that has some. ``confirmed`` must be true: the donor confirms they are
    a UK taxpayer and will pay any difference if their tax is less than the Gift Aid claimed. All but the
    title are needed; a 422 names each missing or wrong field (e.g. ``gift_aid.postcode``)."""

    title: Annotated[str, Meta(max_length=20), text.OPTIONAL_LINE] = ""
    first_name: Annotated[str, Meta(max_length=100), text.OPTIONAL_LINE] = ""
    last_name: Annotated[str, Meta(max_length=100), text.OPTIONAL_LINE] = ""
    house: Annotated[str, Meta(max_length=100), text.OPTIONAL_LINE] = ""
    postcode: Annotated[str, Meta(max_length=20), text.OPTIONAL_LINE] = ""
    confirmed: bool = False
