"""Gift Aid HTTP (organisers): the HMRC claim schedule for a period, as CSV (API and back office), and the back
office's page that says whose claim it is and what it adds up to."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Template

from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER, TREASURER, CurrentUser
from events.dependencies import BEARER, error_responses
from events.errors import EventsError
from events.giftaid import rules, service

PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


class GiftAidApi(Controller):
    path = "/api/gift-aid"
    tags = ["Gift Aid"]
    security = BEARER

    @get(
        "/schedule.csv",
        summary="HMRC's Gift Aid schedule for donations paid in a period (organisers and treasurers)",
        description="One row per declared donation of a paid order, less any refund, dated in UK time; the columns of the "
        "Charities Online schedule spreadsheet. `from` and `to` are dates, both included. The token's organisation's "
        "donations only; the file is named with its HMRC charity reference (gift-aid-AB12345-…csv), which the schedule "
        "itself has no place for.",
        guards=[requires_role(ORGANISER, TREASURER, unrestricted=True)],
        responses=error_responses(401, 403, 422),
        media_type="text/csv",
    )
    async def schedule(
        self,
        request: Request[CurrentUser, Any, Any],
        first_day: Annotated[date, QueryParameter(name="from")],
        last_day: Annotated[date, QueryParameter(name="to")],
    ) -> Response[str]:
        schedule = await service.schedule(first_day, last_day, organisation_id=request.user.organisation)
        return Response(schedule.csv, media_type="text/csv", headers=schedule_headers(schedule))


def schedule_headers(schedule: service.Schedule) -> dict[str, str]:
    """The download's name carries the charity's HMRC reference (the schedule has no place for it), and headers
    say whose schedule it is and what it adds up to, for a script that files it."""
    return {
        "Content-Disposition": f'attachment; filename="{schedule.filename}"',
        "X-Gift-Aid-Reference": schedule.gift_aid_reference,
        "X-Charity-Number": schedule.charity_number,
        "X-Donations": str(schedule.donations),
        "X-Donations-Pence": str(schedule.total_pence),
    }


class GiftAidPages(Controller):
    """The back office's Gift Aid page: whose claim it is (the charity, its number and HMRC reference), what a
    period's schedule adds up to, and the schedule to download for Charities Online."""

    path = "/manage/gift-aid"
    include_in_schema = False
    guards = [requires_role(ORGANISER, TREASURER, unrestricted=True)]

    @get("/", name="gift_aid")
    async def page(
        self,
        request: Request[CurrentUser, Any, Any],
        now: NamedDependency[datetime],
        first_day: Annotated[date | None, QueryParameter(name="from")] = None,
        last_day: Annotated[date | None, QueryParameter(name="to")] = None,
    ) -> Template:
        first_day, last_day = first_day or rules.tax_year_start(now.date()), last_day or now.date()
        try:
            schedule = await service.schedule(first_day, last_day, organisation_id=request.user.organisation)
        except EventsError as error:
            return Template(
                "backoffice/gift_aid.html",
                context={"section": "gift_aid", "schedule": None, "period": {"from": first_day, "to": last_day}, "error": error.message},
                status_code=error.status_code,
                headers=PRIVATE,
            )
        return Template(
            "backoffice/gift_aid.html",
            context={"section": "gift_aid", "schedule": schedule, "period": {"from": first_day, "to": last_day}, "error": ""},
            headers=PRIVATE,
        )

    @get("/schedule.csv", name="gift_aid_schedule")
    async def download(
        self,
        request: Request[CurrentUser, Any, Any],
        first_day: Annotated[date, QueryParameter(name="from")],
        last_day: Annotated[date, QueryParameter(name="to")],
    ) -> Response[str]:
        schedule = await service.schedule(first_day, last_day, organisation_id=request.user.organisation)
        return Response(schedule.csv, media_type="text/csv", headers={**PRIVATE, **schedule_headers(schedule)})
