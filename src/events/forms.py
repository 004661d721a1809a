"""Reading a posted HTML form into its msgspec struct, for any domain's pages; posted forms kept nowhere."""

from __future__ import annotations

from typing import Any, TypeVar

import litestar._kwargs.extractors
import litestar._parsers
import litestar.connection.request
import msgspec
from litestar import Request

from events.errors import InvalidInput

Form = TypeVar("Form", bound=msgspec.Struct)


async def read_form(request: Request[Any, Any, Any], kind: type[Form]) -> Form:
    """A posted form as its struct: repeated fields (ticket checkboxes) become lists, the rest single values."""
    form = await request.form()
    list_fields = {f.name for f in msgspec.structs.fields(kind) if getattr(f.type, "__origin__", None) is list}
    raw = {key: form.getall(key) if key in list_fields else form.get(key) for key in form if not key.startswith("_")}
    try:
        return msgspec.convert(raw, kind, strict=False)
    except msgspec.ValidationError as error:
        raise InvalidInput(str(error)) from None


def keep_no_form_bodies() -> None:
    """Parse posted forms without Litestar's cache of them. Litestar parses an url-encoded body through an lru_cache of
    the last 1,024 bodies (``litestar._parsers.parse_url_encoded_form_data``, imported by name where requests' forms and
    handlers' form data are read), so sign-in passwords and guests' names and emails stayed in a worker's memory until
    1,024 other forms had pushed them out. No body is ever parsed twice (each carries its own CSRF token: the soak's
    probes counted no hit), so the same parser is used without the cache. Called as the app is made; a Litestar that
    parses forms another way fails tests/integration/test_form_bodies_kept_nowhere.py."""
    parse = litestar._parsers.parse_url_encoded_form_data
    uncached = getattr(parse, "__wrapped__", parse)
    litestar.connection.request.parse_url_encoded_form_data = uncached
    litestar._kwargs.extractors.parse_url_encoded_form_data = uncached
