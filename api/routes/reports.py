"""/reports/daily: the daily report (日报) the county sends upward, as JSON or the xlsx its office files."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import Response

from api import models as m
from api.deps import CallerDep, SessionDep, SettingsDep
from api.services.reports import daily_report, daily_report_xlsx

router = APIRouter(tags=["reports"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/reports/daily", responses={200: {"content": {XLSX: {}}}})
def get_daily_report(
    session: SessionDep,
    caller: CallerDep,
    settings: SettingsDep,
    date: m.Day | None = None,
    format: Literal["json", "xlsx"] = "json",
) -> Any:
    """For ``date`` (default: today in Beijing) and cumulative to it: registered, departed by bus, township
    transport and ticket, arrived, 返岗率 and 到岗率, in and out of province, buses, registered-poor workers moved
    and subsidies due; for the county, per township and per factory (a township or factory: its own). The
    definitions are in ``definitions`` and on the sheet."""
    report = daily_report(session, caller, settings.campaign, date or settings.today_here())
    if format == "xlsx":
        return Response(
            daily_report_xlsx(report),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="daily-report-{report.date}.xlsx"'},
        )
    return report.as_dict()
