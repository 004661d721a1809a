"""A series' statement over HTTP (organisers not limited to chosen events: it spans the series' events): as JSON, machine
CSV and the spreadsheets (CSV and .xlsx, as the event statement's) in the API, and as a back-office page with the same
downloads."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.params import FromPath
from litestar.response import Template

from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER, TREASURER
from events.dependencies import BEARER, error_responses
from events.ledger import series_statement, words
from events.ledger.controllers import XLSX, spreadsheet_csv_response, xlsx_response
from events.ledger.series_statement import SeriesStatement

# Money owed to charities: never from a shared cache, never indexed (as ledger.controllers).
PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
GUARD = [requires_role(ORGANISER, TREASURER, unrestricted=True)]


def _csv(statement: SeriesStatement) -> Response[str]:
    return Response(
        series_statement.series_statement_csv(statement),
        media_type="text/csv",
        headers={**PRIVATE, "Content-Disposition": f'attachment; filename="series-statement-{statement.series}.csv"'},
    )


async def _spreadsheet(slug: str) -> Response[bytes]:
    return spreadsheet_csv_response(await series_statement.series_statement_sheets(slug), f"series-statement-{slug}-spreadsheet.csv")


async def _workbook(slug: str) -> Response[bytes]:
    return xlsx_response(await series_statement.series_statement_sheets(slug), f"series-statement-{slug}.xlsx")


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

    @get(
        "/statement-spreadsheet.csv",
        summary="The series statement as a spreadsheet CSV (pounds and pence, a row per event and partner project, the total)",
        media_type="text/csv",
        responses=error_responses(401, 403, 404),
    )
    async def statement_spreadsheet(self, series_slug: FromPath[str]) -> Response[bytes]:
        return await _spreadsheet(series_slug)

    @get(
        "/statement.xlsx",
        summary="The series statement as an Excel workbook (the spreadsheet CSV's table, then each partner over the series)",
        media_type=XLSX,
        responses=error_responses(401, 403, 404),
    )
    async def statement_xlsx(self, series_slug: FromPath[str]) -> Response[bytes]:
        return await _workbook(series_slug)


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

    @get("/statement-spreadsheet.csv")
    async def statement_spreadsheet(self, series_slug: FromPath[str]) -> Response[bytes]:
        return await _spreadsheet(series_slug)

    @get("/statement.xlsx")
    async def statement_xlsx(self, series_slug: FromPath[str]) -> Response[bytes]:
        return await _workbook(series_slug)
