"""Reading a posted HTML form into its msgspec struct, for any domain's pages."""

from __future__ import annotations

from typing import Any, TypeVar

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
