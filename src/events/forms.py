"""Reading a posted HTML form into its msgspec struct, for any domain's pages; posted forms kept nowhere, and read as
UTF-8."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import litestar._kwargs.extractors
import litestar.connection.request
import msgspec
from litestar import Request
from litestar.exceptions import ClientException

from events.errors import InvalidInput
from events.i18n import N_

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
    """Parse posted forms with parse_form_body: without Litestar's cache of them, and as UTF-8. Litestar parses an
    url-encoded body through an lru_cache of the last 1,024 bodies (``litestar._parsers.parse_url_encoded_form_data``,
    imported by name where requests' forms and handlers' form data are read), so sign-in passwords and guests' names
    and emails stayed in a worker's memory until 1,024 other forms had pushed them out. No body is ever parsed twice
    (each carries its own CSRF token: the soak's probes counted no hit). Called as the app is made; a Litestar that
    parses forms another way fails tests/integration/test_form_bodies_kept_nowhere.py."""
    litestar.connection.request.parse_url_encoded_form_data = parse_form_body  # type: ignore[assignment]  # replaces an lru_cache wrapper
    litestar._kwargs.extractors.parse_url_encoded_form_data = parse_form_body  # type: ignore[assignment]


def parse_form_body(encoded: bytes) -> dict[str, str | list[str]]:
    """An url-encoded form body as Litestar hands it to handlers (a repeated field's values as a list). Browsers send
    every byte past ASCII percent-encoded; a client that sends UTF-8 as it is (curl's --data, a script) means UTF-8
    too, which Litestar's own parser read as Latin-1 ("Café" stored as "CafÃ©"). Bytes that are not UTF-8 are a 400."""
    try:
        text = encoded.decode("utf-8")
    except UnicodeDecodeError:
        raise ClientException(N_("The form is not valid UTF-8.")) from None
    fields: defaultdict[str, list[str]] = defaultdict(list)
    for name, value in parse_qsl(text, keep_blank_values=True, separator="&"):
        fields[name].append(value)
    return {name: values if len(values) > 1 else values[0] for name, values in fields.items()}
