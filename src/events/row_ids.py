"""A row's id as a client may send it: a path or query parameter, or a JSON field. Ids are PostgreSQL integers, so a
number outside 1 to MAX_ROW_ID names no row: it is refused at the boundary (422, or 404 where the route says "no such
thing") rather than reaching the database, which would fail the statement."""

from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter
from msgspec import Meta

MAX_ROW_ID = 2_147_483_647  # PostgreSQL's integer, the type of every id

# In a JSON body.
RowId = Annotated[int, Meta(ge=1, le=MAX_ROW_ID)]
# In a path or a query string.
RowIdParameter = Annotated[int, Parameter(ge=1, le=MAX_ROW_ID)]
