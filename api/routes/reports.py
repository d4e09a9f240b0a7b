"""/reports/daily: the daily report (日报) the county sends upward, as JSON or the xlsx its office files."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api import models as m
from api.deps import CallerDep, DispatcherDep, SessionDep, SettingsDep
from api.errors import bad_input
from api.services.reports import campaign_summary, campaign_summary_xlsx, daily_report, daily_report_xlsx

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


@router.get("/reports/campaign", responses={200: {"content": {XLSX: {}}}})
def get_campaign_summary(
    session: SessionDep,
    caller: DispatcherDep,
    settings: SettingsDep,
    start: Annotated[m.Day | None, Query(alias="from")] = None,
    end: Annotated[m.Day | None, Query(alias="to")] = None,
    format: Literal["json", "xlsx"] = "json",
) -> Any:
    """The campaign summary (for the county office, at the end): the daily report's figures cumulative from
    ``from`` (default: the first travel date) to ``to`` (default: today), each date's figures, and the cost by
    payer (the county's coaches and tickets, the townships' reimbursements, the subsidies)."""
    last = end or settings.today_here()
    if start is not None and start > last:
        raise bad_input("from is after to", "开始日期晚于结束日期")
    summary = campaign_summary(session, caller, settings.campaign, start, last, m.MAX_CAMPAIGN_DAYS)
    if format == "xlsx":
        return Response(
            campaign_summary_xlsx(summary),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="campaign-{summary.first}-{summary.last}.xlsx"'},
        )
    return summary.as_dict()
