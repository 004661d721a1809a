"""A series' statement over HTTP (organisers not limited to chosen events: it spans the series' events): as JSON and
machine CSV in the API, and as a back-office page with its CSV."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.params import FromPath
from litestar.response import Template

from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER
from events.dependencies import BEARER, error_responses
from events.ledger import series_statement, words
from events.ledger.series_statement import SeriesStatement

# Money owed to charities: never from a shared cache, never indexed (as ledger.controllers).
PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
GUARD = [requires_role(ORGANISER, unrestricted=True)]


def _csv(statement: SeriesStatement) -> Response[str]:
    return Response(
        series_statement.series_statement_csv(statement),
        media_type="text/csv",
        headers={**PRIVATE, "Content-Disposition": f'attachment; filename="series-statement-{statement.series}.csv"'},
    )


class SeriesStatementApi(Controller):
    path = "/api/series/{series_slug:str}"
    tags = ["Reconciliation"]
    security = BEARER
    guards = GUARD

    @get("/statement", summary="A series' events added up per partner project, from each event's statement", responses=error_responses(401, 403, 404))
    async def statement(self, series_slug: FromPath[str]) -> SeriesStatement:
        return await series_statement.series_statement(series_slug)

    @get("/statement.csv", summary="The series statement as CSV (pence, a row per partner project)", responses=error_responses(401, 403, 404))
    async def statement_csv(self, series_slug: FromPath[str]) -> Response[str]:
        return _csv(await series_statement.series_statement(series_slug))


class SeriesStatementPages(Controller):
    path = "/manage/series/{series_slug:str}"
    include_in_schema = False
    guards = GUARD

    @get("/statement", name="series_statement")
    async def statement(self, series_slug: FromPath[str]) -> Template:
        statement = await series_statement.series_statement(series_slug)
        return Template("ledger/series_statement.html", context={"statement": statement, "section": "series", "money_words": words}, headers=PRIVATE)

    @get("/statement.csv")
    async def statement_csv(self, series_slug: FromPath[str]) -> Response[str]:
        return _csv(await series_statement.series_statement(series_slug))
