"""Gift Aid HTTP (organisers): the HMRC claim schedule for a period, as CSV."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter

from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER, CurrentUser
from events.dependencies import BEARER, error_responses
from events.giftaid import service


class GiftAidApi(Controller):
    path = "/api/gift-aid"
    tags = ["Gift Aid"]
    security = BEARER

    @get(
        "/schedule.csv",
        summary="HMRC's Gift Aid schedule for donations paid in a period (organiser)",
        description="One row per declared donation of a paid order, less any refund, dated in UK time; the columns of the "
        "Charities Online schedule spreadsheet. `from` and `to` are dates, both included.",
        guards=[requires_role(ORGANISER, unrestricted=True)],
        responses=error_responses(401, 403, 422),
        media_type="text/csv",
    )
    async def schedule(
        self,
        request: Request[CurrentUser, Any, Any],
        first_day: Annotated[date, QueryParameter(name="from")],
        last_day: Annotated[date, QueryParameter(name="to")],
    ) -> Response[str]:
        text = await service.schedule_csv(first_day, last_day, organisation_id=request.user.organisation)
        filename = f"gift-aid-{first_day.isoformat()}-to-{last_day.isoformat()}.csv"
        return Response(text, media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'})
