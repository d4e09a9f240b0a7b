"""The daily report (日报) the county sends upward: for a date and cumulative to it, per township, per factory and
for the county. Definitions (stated on the sheet too):

- registered: registrations not cancelled, made by the end of the date (Beijing time); on the date: made that day.
- departed by bus: boarded (or later arrived) on a bus whose date is not after the report's; by township
  transport or ticket: planned with that mode on a travel date not after the report's and not cancelled (no one
  confirms their boarding, so their travel date counts).
- tickets used: free-ticket travellers whose code was scanned at boarding (or who later arrived).
- arrived: confirmed at the factory gate by the end of the date.
- 返岗率 (return-to-work rate) = departed / registered; 到岗率 (arrival rate) = arrived / departed.
- in / out of province: departed to a factory in / outside the county's province.
- buses: published buses (not released) of the date, or up to it; for a township or factory, those its travellers
  ride.
- registered-poor moved: departed travellers with the registered-poor flag; subsidies due: the subsidies granted
  (on arrival), in CNY.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass, field, fields
from typing import Any

import openpyxl
from openpyxl.styles import Font
from sqlalchemy import func
from sqlmodel import Session, select

from api import models as m
from api.convert import load_rules
from api.deps import Caller
from api.errors import bad_input
from api.routes.scope import traveller_filters
from api.settings import BEIJING, beijing_minute
from scheduler.spreadsheet import safe_row

# A fallback traveller whose code was scanned when the township's vehicle or the free ticket was used is boarded.
FALLBACK_DEPARTED = {"planned", "boarded", "arrived", "went_elsewhere"}
USED = {"boarded", "arrived", "went_elsewhere"}
BUS_DEPARTED = {"boarded", "arrived", "went_elsewhere"}


@dataclass(slots=True)
class Figures:
    """One row of the report, for one period (the date, or cumulative to it)."""

    registered: int = 0
    by_bus: int = 0
    by_township_transport: int = 0
    by_ticket: int = 0
    tickets_used: int = 0
    departed: int = 0
    arrived: int = 0
    in_province: int = 0
    out_of_province: int = 0
    registered_poor_moved: int = 0
    subsidies_cny: float = 0.0
    bus_ids: set[str] = field(default_factory=set, repr=False)

    def count_departure(self, t: m.Traveller, mode: str, in_province: bool) -> None:
        self.by_bus += mode == "bus"
        self.by_township_transport += mode == "township_transport"
        self.by_ticket += mode == "free_ticket"
        self.tickets_used += mode == "free_ticket" and t.status in USED
        self.departed += 1
        self.in_province += in_province
        self.out_of_province += not in_province
        self.registered_poor_moved += t.registered_poor
        if t.bus_id:
            self.bus_ids.add(t.bus_id)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "bus_ids"}
        data["buses"] = len(self.bus_ids)
        data["subsidies_cny"] = round(self.subsidies_cny, 2)
        data["return_rate"] = round(self.departed / self.registered, 4) if self.registered else 0.0
        data["arrival_rate"] = round(self.arrived / self.departed, 4) if self.departed else 0.0
        return data


# Column, Chinese header (English beside it), for the sheet and the page.
COLUMNS: list[tuple[str, str]] = [
    ("registered", "登记人数 registered"),
    ("by_bus", "包车出发 by bus"),
    ("by_township_transport", "乡镇自行组织 township transport"),
    ("by_ticket", "免费车票 by ticket"),
    ("tickets_used", "免费车票已使用 tickets used"),
    ("departed", "已出发 departed"),
    ("arrived", "已到岗 arrived"),
    ("return_rate", "返岗率 return rate"),
    ("arrival_rate", "到岗率 arrival rate"),
    ("in_province", "省内 in province"),
    ("out_of_province", "省外 out of province"),
    ("buses", "车辆数 buses"),
    ("registered_poor_moved", "脱贫人口（建档立卡）出行 registered-poor moved"),
    ("subsidies_cny", "应发补贴（元） subsidies due CNY"),
]

DEFINITIONS: list[tuple[str, str]] = [
    ("登记人数", "截至报告日（北京时间）登记且未取消的人数；“当日”为当日新登记人数。"),
    ("包车出发", "已在包车上确认上车（或其后已到岗）的人数，车辆日期不晚于报告日。"),
    (
        "乡镇自行组织 / 免费车票",
        "安排为该方式、出行日期不晚于报告日且未取消的人数（此类出行无上车确认，按出行日期计）。",
    ),
    ("免费车票已使用", "免费车票人员中，上车时已扫码（或其后已到岗）的人数。"),
    ("已到岗", "截至报告日企业已确认到岗的人数。"),
    ("返岗率", "已出发 ÷ 登记人数。"),
    ("到岗率", "已到岗 ÷ 已出发。"),
    ("省内 / 省外", "已出发人员中，目的企业在本县所在省份之内 / 之外的人数。"),
    ("车辆数", "已发布（未退回）的包车数；乡镇、企业为其人员乘坐的车辆数。"),
    ("脱贫人口出行", "已出发人员中标记为建档立卡（脱贫）人口的人数。"),
    ("应发补贴", "已到岗的建档立卡人员一次性补贴金额（元）。"),
]


@dataclass(slots=True)
class DailyReport:
    date: dt.date
    county: str
    generated: str
    county_total: dict[str, Figures]
    townships: list[tuple[str, str, dict[str, Figures]]]
    factories: list[tuple[str, str, dict[str, Figures]]]

    def as_dict(self) -> dict[str, Any]:
        def periods(figures: dict[str, Figures]) -> dict[str, Any]:
            return {period: f.as_dict() for period, f in figures.items()}

        return {
            "date": self.date.isoformat(),
            "county": self.county,
            "generated": self.generated,
            "definitions": dict(DEFINITIONS),
            "county_total": periods(self.county_total),
            "townships": [{"id": i, "name": n, **periods(f)} for i, n, f in self.townships],
            "factories": [{"id": i, "name": n, **periods(f)} for i, n, f in self.factories],
        }


def _beijing_date(moment: dt.datetime | None) -> dt.date | None:
    if moment is None:
        return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(BEIJING).date()


def daily_report(session: Session, caller: Caller, campaign: str, day: dt.date) -> DailyReport:
    """The report for ``day`` as ``caller`` may see it (a township its own row, a factory its own)."""
    rules = load_rules(session)
    towns = dict(session.exec(select(m.Township.id, m.Township.name)).all())
    factories = {f.id: f for f in session.exec(select(m.Factory)).all()}
    live_buses = {
        b.id: b.date for b in session.exec(select(m.Bus).where(m.Bus.status != "released")).all() if b.date <= day
    }
    subsidies: dict[int, tuple[float, dt.date | None]] = {
        s.traveller_id: (s.amount, _beijing_date(s.created_at))
        for s in session.exec(select(m.Subsidy).where(m.Subsidy.campaign == campaign)).all()
    }
    rows = defaultdict(lambda: {"day": Figures(), "cumulative": Figures()})
    total = {"day": Figures(), "cumulative": Figures()}
    query = select(m.Traveller).where(m.Traveller.campaign == campaign, *traveller_filters(caller))
    for t in session.exec(query).all():
        if t.status == m.TravellerStatus.cancelled:
            continue
        registered_on = _beijing_date(t.created_at)
        if registered_on is None or registered_on > day:
            continue
        buckets = [total, rows[("township", t.township_id)], rows[("factory", t.factory_id)]]
        on_day = registered_on == day
        departed = _departure(t, day, live_buses)
        arrived_on = _beijing_date(t.arrived_at) if t.status == m.TravellerStatus.arrived else None
        factory = factories.get(t.factory_id)
        in_province = factory is not None and factory.province == rules.province
        subsidy = subsidies.get(t.id or 0)
        for bucket in buckets:
            for period, figures in bucket.items():
                figures.registered += on_day if period == "day" else 1
                if departed is not None and _in_period(period, departed[1], day):
                    figures.count_departure(t, departed[0], in_province)
                if _in_period(period, arrived_on, day):
                    figures.arrived += 1
                if subsidy is not None and _in_period(period, subsidy[1], day):
                    figures.subsidies_cny += subsidy[0]
    if caller.sees_whole_county:
        for bus_id, bus_day in live_buses.items():
            total["cumulative"].bus_ids.add(bus_id)
            if bus_day == day:
                total["day"].bus_ids.add(bus_id)
    return DailyReport(
        date=day,
        county=rules.county,
        generated=beijing_minute(m.utcnow()),
        county_total=total,
        townships=[(key[1], towns.get(key[1], key[1]), f) for key, f in sorted(rows.items()) if key[0] == "township"],
        factories=[
            (key[1], factories[key[1]].name if key[1] in factories else key[1], f)
            for key, f in sorted(rows.items())
            if key[0] == "factory"
        ],
    )


def _in_period(period: str, moment: dt.date | None, day: dt.date) -> bool:
    """``moment`` falls on ``day`` (period "day") or on or before it ("cumulative")."""
    return moment == day if period == "day" else moment is not None and moment <= day


def _departure(t: m.Traveller, day: dt.date, live_buses: dict[str, dt.date]) -> tuple[str, dt.date] | None:
    """How and on which date ``t`` departed by the end of ``day``, or None."""
    if t.travel_date is None or t.travel_date > day:
        return None
    if t.mode == "bus":
        return ("bus", t.travel_date) if t.status in BUS_DEPARTED and t.bus_id in live_buses else None
    if t.mode in ("township_transport", "free_ticket") and t.status in FALLBACK_DEPARTED:
        return (t.mode, t.travel_date)
    return None


def daily_report_xlsx(report: DailyReport) -> bytes:
    """The report as the county's office files it: one sheet per level, the date's and cumulative figures side by
    side, and the definitions on a sheet of their own."""
    book = openpyxl.Workbook()
    sheets = [
        ("全县 County", [("", report.county or "全县", report.county_total)]),
        ("乡镇 Townships", report.townships),
        ("企业 Factories", report.factories),
    ]
    first = True
    for title, rows in sheets:
        sheet = book.active if first else book.create_sheet()
        first = False
        sheet.title = title
        sheet.append(
            safe_row(
                [f"{report.county} 返岗复工日报  {report.date:%Y年%m月%d日}  （生成于北京时间 {report.generated}）"]
            )
        )
        sheet["A1"].font = Font(bold=True, size=13)
        sheet.append(
            safe_row(["编号 id", "名称 name", *(f"当日 {h}" for _, h in COLUMNS), *(f"累计 {h}" for _, h in COLUMNS)])
        )
        for ident, name, figures in rows:
            day, total = figures["day"].as_dict(), figures["cumulative"].as_dict()
            sheet.append(safe_row([ident, name, *(day[k] for k, _ in COLUMNS), *(total[k] for k, _ in COLUMNS)]))
        for cell in sheet[2]:
            cell.font = Font(bold=True)
    notes = book.create_sheet("口径说明 Definitions")
    notes.append(["指标", "口径"])
    for name, text in DEFINITIONS:
        notes.append(safe_row([name, text]))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------- the campaign


@dataclass(slots=True)
class CampaignSummary:
    """The campaign's figures to its last date (the daily report's cumulative ones), each date's, and what it
    cost whom."""

    first: dt.date
    last: dt.date
    report: DailyReport
    days: list[tuple[dt.date, Figures]]
    costs: list[tuple[str, str, float]]  # payer and item (Chinese), amount in CNY

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            **{k: v for k, v in self.report.as_dict().items() if k not in ("date",)},
            "days": [{"date": d.isoformat(), **f.as_dict()} for d, f in self.days],
            "costs": [{"payer": p, "item": i, "cny": round(a, 2)} for p, i, a in self.costs],
            "total_cost_cny": round(total_cost(self.costs), 2),
        }


def campaign_summary(
    session: Session, caller: Caller, campaign: str, first: dt.date | None, last: dt.date, max_days: int
) -> CampaignSummary:
    """The summary from ``first`` (default: the first travel date, at most ``max_days`` before ``last``) to
    ``last``, for the county office.

    Raises:
        ApiError: 422 for a range of more than ``max_days`` dates (a campaign is two to four weeks).
    """
    if first is not None and (last - first).days + 1 > max_days:
        raise bad_input(
            f"a campaign summary covers at most {max_days} dates", f"返岗总结最多涵盖 {max_days} 天，请缩短日期范围"
        )
    first_travel = session.exec(select(func.min(m.Traveller.travel_date)).where(m.Traveller.campaign == campaign)).one()
    first = first or max(first_travel or last, last - dt.timedelta(days=max_days - 1))
    report = daily_report(session, caller, campaign, last)
    days = _county_by_date(session, caller, campaign, first, last)
    return CampaignSummary(first, last, report, days, _costs(session, campaign, first, last))


def _county_by_date(
    session: Session, caller: Caller, campaign: str, first: dt.date, last: dt.date
) -> list[tuple[dt.date, Figures]]:
    """For each date from ``first`` to ``last``, the county's figures of that date, as ``daily_report`` of the
    date has them, in one pass over the travellers (a report per date took a second each at 20,000)."""
    rules = load_rules(session)
    provinces = dict(session.exec(select(m.Factory.id, m.Factory.province)).all())
    live = {b.id: b.date for b in session.exec(select(m.Bus).where(m.Bus.status != "released")).all()}
    subsidies = {
        s.traveller_id: (s.amount, _beijing_date(s.created_at))
        for s in session.exec(select(m.Subsidy).where(m.Subsidy.campaign == campaign)).all()
    }
    by_date = {first + dt.timedelta(days=i): Figures() for i in range((last - first).days + 1)}
    query = select(m.Traveller).where(m.Traveller.campaign == campaign, *traveller_filters(caller))
    for t in session.exec(query).all():
        registered_on = _beijing_date(t.created_at)
        if t.status == m.TravellerStatus.cancelled or registered_on is None or registered_on > last:
            continue
        if registered_on in by_date:
            by_date[registered_on].registered += 1
        # An event of a date before the registration is not in that date's report (nobody was registered yet).
        departed = _departure(t, last, live)
        if departed is not None and departed[1] in by_date and departed[1] >= registered_on:
            by_date[departed[1]].count_departure(t, departed[0], provinces.get(t.factory_id) == rules.province)
        arrived_on = _beijing_date(t.arrived_at) if t.status == m.TravellerStatus.arrived else None
        if arrived_on in by_date and arrived_on >= registered_on:
            by_date[arrived_on].arrived += 1
        subsidy = subsidies.get(t.id or 0)
        if subsidy is not None and subsidy[1] in by_date and subsidy[1] >= registered_on:
            by_date[subsidy[1]].subsidies_cny += subsidy[0]
    if caller.sees_whole_county:
        for bus_id, bus_day in live.items():
            if bus_day in by_date:
                by_date[bus_day].bus_ids.add(bus_id)
    return sorted(by_date.items())


def _costs(session: Session, campaign: str, first: dt.date, last: dt.date) -> list[tuple[str, str, float]]:
    buses = session.exec(select(m.Bus).where(m.Bus.status != "released", m.Bus.date >= first, m.Bus.date <= last))
    charter = sum(float(b.data.get("cost") or 0.0) for b in buses)
    moved = session.exec(
        select(m.Traveller).where(
            m.Traveller.campaign == campaign,
            m.Traveller.travel_date >= first,  # type: ignore[operator]
            m.Traveller.travel_date <= last,  # type: ignore[operator]
            m.Traveller.status.in_(FALLBACK_DEPARTED),  # type: ignore[attr-defined]
        )
    ).all()
    due = sum(t.est_cost or 0.0 for t in moved if t.mode == "township_transport")
    tickets = sum(t.est_cost or 0.0 for t in moved if t.mode == "free_ticket")
    receipts = session.exec(select(m.Receipt)).all()
    approved = sum(r.amount for r in receipts if r.status == "approved")
    waiting = sum(r.amount for r in receipts if r.status == "submitted")
    subsidies = sum(s.amount for s in session.exec(select(m.Subsidy).where(m.Subsidy.campaign == campaign)).all())
    return [
        ("县财政（包车）", "包车费用（按计划计价）", charter),
        ("县财政（免费车票）", "免费车票（按规定票价估算）", tickets),
        ("乡镇（凭票报销）", "自行组织运送：按规定可报销上限", due),
        ("乡镇（凭票报销）", "其中已批准报销", approved),
        ("乡镇（凭票报销）", "其中待审核", waiting),
        ("人社部门（就业补贴）", "建档立卡人员一次性补贴", subsidies),
    ]


def total_cost(costs: list[tuple[str, str, float]]) -> float:
    """The campaign's cost: the rows that are not a part of another ("其中": of which)."""
    return sum(amount for _, item, amount in costs if not item.startswith("其中"))


def campaign_summary_xlsx(summary: CampaignSummary) -> bytes:
    """The campaign's figures (the daily report's sheets, cumulative), a sheet per date, and the costs by payer."""
    book = openpyxl.load_workbook(io.BytesIO(daily_report_xlsx(summary.report)))
    for sheet in book.worksheets[:3]:
        sheet["A1"] = (
            f"{summary.report.county} 返岗复工总结  {summary.first:%Y年%m月%d日}—{summary.last:%Y年%m月%d日}  "
            f"（生成于北京时间 {summary.report.generated}；“当日”为 {summary.last:%m月%d日}）"
        )
    daily = book.create_sheet("逐日 By date", 3)
    daily.append(safe_row(["日期 date", *(h for _, h in COLUMNS)]))
    for day, figures in summary.days:
        values = figures.as_dict()
        daily.append(safe_row([day.isoformat(), *(values[k] for k, _ in COLUMNS)]))
    costs = book.create_sheet("费用 Costs by payer", 4)
    costs.append(["承担方 payer", "项目 item", "金额（元） CNY"])
    for payer, item, amount in summary.costs:
        costs.append(safe_row([payer, item, round(amount, 2)]))
    costs.append(["", "合计（包车 + 车票 + 报销上限 + 补贴）", round(total_cost(summary.costs), 2)])
    for sheet in (daily, costs):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
