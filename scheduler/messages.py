"""What the planner tells people, as data: a code and its figures, rendered in Chinese and in English.

A fallback line, a progress report or an assumption the planner made about the home county carries a
``code`` and ``params`` (plain JSON values); the sentences are rendered from them here and nowhere else, so
pages and exports can show the Chinese one, and a program can act on the code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Params = Mapping[str, Any]
Text = Callable[[Params], str]


@dataclass(frozen=True, slots=True)
class Message:
    """A message to a person: ``code`` names what happened, ``params`` its figures."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in _TEXTS:
            raise ValueError(f"Expected a known message code, got {self.code!r}.")

    @property
    def en(self) -> str:
        return _TEXTS[self.code][0](self.params)

    @property
    def zh(self) -> str:
        return _TEXTS[self.code][1](self.params)


# ------------------------------------------------------------------------------------------ fallback reasons
# Every fallback line's params: township, factory, area (names), size (the party), group_size (the registered
# group, 1 alone), flow_size (everyone of the township-factory flow that day), mode, per_person (CNY),
# threshold, priced (the cost rule applied: the party could have been left off because a seat cost more).


def _who_en(p: Params) -> str:
    if p["group_size"] > 1:
        return f"group of {p['group_size']}"
    if p["flow_size"] > 1:
        return f"one of {p['flow_size']} travellers"
    return "traveller travelling alone"


def _who_zh(p: Params) -> str:
    if p["group_size"] > 1:
        return f"{p['group_size']}人同行小组"
    if p["flow_size"] > 1:
        return f"同线路{p['flow_size']}名旅客之一"
    return "单独出行的旅客"


def _payment_en(p: Params) -> str:
    if p["mode"] == "township_transport":
        return f"township transport, reimbursed up to {p['per_person']:.0f} CNY per person"
    return f"free ticket, about {p['per_person']:.0f} CNY per person"


def _payment_zh(p: Params) -> str:
    if p["mode"] == "township_transport":
        return f"由乡镇组织运送，凭票据报销，每人不超过{p['per_person']:.0f}元"
    return f"发放免费车票，每人约{p['per_person']:.0f}元"


def _fallback(why_en: Text, why_zh: Text, change_en: Text, change_zh: Text) -> tuple[Text, Text]:
    """A fallback sentence: who, from where to where, why, what the rule pays, what would change it."""

    def en(p: Params) -> str:
        return f"{_who_en(p)} from {p['township']} to {p['factory']}: {why_en(p)}; {_payment_en(p)}. {change_en(p)}"

    def zh(p: Params) -> str:
        return f"{_who_zh(p)}（{p['township']}→{p['factory']}）：{why_zh(p)}；{_payment_zh(p)}。{change_zh(p)}"

    return en, zh


def _cheaper_en(p: Params) -> str:
    return f" at a cost below the rule's {p['per_person']:.0f} CNY per person" if p["priced"] else ""


def _cheaper_zh(p: Params) -> str:
    return f"（每人成本低于规定的{p['per_person']:.0f}元）" if p["priced"] else ""


def _stops_change_en(p: Params) -> str:
    return (
        f"It would change if more travellers from {p['township']} registered for {p['area']} on this date, or a "
        f"stop limit (now {p['max_pickup_stops']} pickups, {p['max_dropoff_stops']} drop-offs) were raised."
    )


def _stops_change_zh(p: Params) -> str:
    return (
        f"若{p['township']}有更多人登记当天前往{p['area']}，或放宽停靠限制（现为上客{p['max_pickup_stops']}站、"
        f"下客{p['max_dropoff_stops']}站），可改变这一安排。"
    )


def _timetable_en(p: Params) -> str:
    return (
        f"{_who_en(p)} from {p['township']} to {p['factory']}: no coach from the depot can reach {p['city']} by "
        f"{p['gate_until']} on the report date {p['report_date']} (leaving at {p['depart_from']}, "
        f"{p['journey_hours']:.1f} h on the road); no transport is arranged. Travel on an earlier date, or ask "
        "the factory for a later report date."
    )


def _timetable_zh(p: Params) -> str:
    return (
        f"{_who_zh(p)}（{p['township']}→{p['factory']}）：即使{p['depart_from']}从车站发车，包车也无法在报到日"
        f"{p['report_date']}的{p['gate_until']}前到达{p['city']}（路上约{p['journey_hours']:.1f}小时），未安排交通。"
        "请改在更早的日期出行，或请企业推迟报到日期。"
    )


_FALLBACK_TEXTS = {
    # The timetable, not the cost: even the first coach of the day misses the gate on the report date.
    "timetable": (_timetable_en, _timetable_zh),
    # Every coach the area could have is full or in use.
    "fleet": _fallback(
        lambda p: f"every coach the county's fleet could give to {p['area']} today is full or in use",
        lambda p: f"今天县里可派往{p['area']}的包车已全部满员或在用",
        lambda p: "It would change with more coaches in the charter contract, or on another date.",
        lambda p: "增加包车合同中的车辆，或改在其他日期出发，可改变这一安排。",
    ),
    # The only bus that would take them stays below the threshold.
    "underfilled": _fallback(
        lambda p: (
            f"the only bus that could take them would carry {p['bus_load']} travellers, below the charter "
            f"threshold of {p['threshold']}"
        ),
        lambda p: f"唯一能接送他们的包车只有{p['bus_load']}人，低于包车起始人数{p['threshold']}人",
        lambda p: f"It would change if {p['threshold'] - p['bus_load']} more travellers could join that bus.",
        lambda p: f"若再有{p['threshold'] - p['bus_load']}人可同车，即可安排包车。",
    ),
    # A flow below the threshold that no bus could take in (within the stop limits, or cheaply enough).
    "small_flow": _fallback(
        lambda p: (
            f"{p['flow_size']} travel from {p['township']} to {p['factory']} today, below the charter threshold "
            f"of {p['threshold']}, and no bus within the stop limits has {p['size']} free seats{_cheaper_en(p)}"
        ),
        lambda p: (
            f"今天{p['township']}到{p['factory']}只有{p['flow_size']}人，低于包车起始人数{p['threshold']}人，"
            f"且停靠限制内没有包车还有{p['size']}个空座{_cheaper_zh(p)}"
        ),
        _stops_change_en,
        _stops_change_zh,
    ),
    # A flow at or above the threshold left without a seat: priced off (cost rule) or no bus found room.
    "no_seat": _fallback(
        lambda p: (
            f"{p['flow_size']} travel from {p['township']} to {p['factory']} today, and no bus within the stop "
            f"limits has {p['size']} more free seats{_cheaper_en(p)}"
        ),
        lambda p: (
            f"今天{p['township']}到{p['factory']}共{p['flow_size']}人，但停靠限制内没有包车还有{p['size']}个空座"
            f"{_cheaper_zh(p)}"
        ),
        _stops_change_en,
        _stops_change_zh,
    ),
}
FALLBACK_CAUSES = tuple(_FALLBACK_TEXTS)


# ------------------------------------------------------------------------------------------ progress and notes
_OTHER_TEXTS: dict[str, tuple[Text, Text]] = {
    "start": (
        lambda p: f"{p['travellers']} travellers on {p['date']}",
        lambda p: f"{p['date']}共{p['travellers']}名旅客",
    ),
    "direct": (
        lambda p: f"{p['direct']} direct coaches; {p['pooled']} travellers to pool",
        lambda p: f"直达包车{p['direct']}辆；{p['pooled']}名旅客待拼车",
    ),
    "areas": (
        lambda p: f"{p['areas']} destination areas to pool",
        lambda p: f"{p['areas']}个目的地片区待拼车",
    ),
    "pooling_area": (
        lambda p: f"pooling area {p['area']}",
        lambda p: f"正在为{p['area']}拼车",
    ),
    "pooling": (
        lambda p: f"pooling {p['areas']} areas: {p['done']} done",
        lambda p: f"{p['areas']}个片区拼车中：已完成{p['done']}个",
    ),
    "reseating": (
        lambda p: f"re-seating travellers over {p['routes']} routes",
        lambda p: f"正在{p['routes']}条线路间调整座位",
    ),
    "campaign_start": (
        lambda p: f"campaign: {p['travellers']} travellers over {p['dates']} dates",
        lambda p: f"返岗季共{p['dates']}天，{p['travellers']}名旅客",
    ),
    "campaign_dates": (
        lambda p: f"departure dates chosen for {p['bookings']} bookings ({p['moves']} moves)",
        lambda p: f"已为{p['bookings']}个出行单元选定出发日期（调整{p['moves']}次）",
    ),
    "campaign_day": (
        lambda p: f"planning {p['date']} ({p['index']}/{p['days']}): {p['travellers']} travellers",
        lambda p: f"正在排{p['date']}（第{p['index']}/{p['days']}天）：{p['travellers']}名旅客",
    ),
    "campaign_done": (
        lambda p: f"campaign planned: {p['buses']} buses over {p['days']} dates",
        lambda p: f"返岗季排班完成：{p['days']}天共{p['buses']}辆包车",
    ),
    "done": (
        lambda p: f"{p['buses']} buses, {p['on_buses']} travellers on buses",
        lambda p: f"包车{p['buses']}辆，乘车旅客{p['on_buses']}人",
    ),
}


# ------------------------------------------------------------------------------------------ assumptions
# What scheduler.defaults assumed when policy.toml leaves a home setting unset. Every assumption's params hold
# ``settings``: the policy.toml settings (name -> value) that would make it explicit.
# Params: county or province (the value assumed), matching (travellers whose ID number was issued there),
# placed (travellers whose ID number stdnum could place), travellers (all of the scenario).
def _share_en(p: Params) -> str:
    return f"{p['matching']:,} of the {p['travellers']:,} travellers' ID numbers were issued there"


def _share_zh(p: Params) -> str:
    return f"{p['travellers']}名旅客中有{p['matching']}人的身份证号码属该地"


_ASSUMPTION_TEXTS: dict[str, tuple[Text, Text]] = {
    "county_inferred": (
        lambda p: f"county not set: assumed {p['county']}, the most common home county ({_share_en(p)})",
        lambda p: f"未设置县名（county）：按旅客身份证号码推定为{p['county']}（{_share_zh(p)}）",
    ),
    "province_inferred": (
        lambda p: f"province not set: assumed {p['province']}, the most common home province ({_share_en(p)})",
        lambda p: f"未设置省份（province）：按旅客身份证号码推定为{p['province']}（{_share_zh(p)}）",
    ),
    # Params: lat, lon, townships (how many), travellers, nearest (township name), nearest_km.
    "depot_inferred": (
        lambda p: (
            f"depot not set: coaches start and end at {p['lat']}, {p['lon']}, the centre of the "
            f"{p['townships']} townships weighted by their {p['travellers']:,} travellers "
            f"({p['nearest_km']:.1f} km from {p['nearest']}); set the county bus station instead"
        ),
        lambda p: (
            f"未设置发车点（depot）：包车按{p['townships']}个乡镇的旅客人数（共{p['travellers']}人）加权的中心点 "
            f"{p['lat']}, {p['lon']} 发车和收车（距{p['nearest']} {p['nearest_km']:.1f} 公里）；请改设为县汽车站"
        ),
    ),
    # Params: name (the name assumed for a depot whose coordinates policy.toml gives).
    "depot_name_assumed": (
        lambda p: f"depot_name not set: the depot is called {p['name']} on the plan",
        lambda p: f"未设置发车点名称（depot_name）：计划中称为“{p['name']}”",
    ),
}
# ------------------------------------------------------------------------------------------ overdue travellers
# Why the campaign has no date for a traveller. Params: factory, city (names), report_date, earliest_date,
# gate_until (HH:MM); for gate_full: factory, first, last (the dates the traveller could leave on); for
# report_passed and dates_published: factory, city, first, last.
_OVERDUE_TEXTS: dict[str, tuple[Text, Text]] = {
    "overdue_unreachable": (
        lambda p: (
            f"no departure date from {p['earliest_date']} reaches {p['factory']} ({p['city']}) before its gate "
            f"closes at {p['gate_until']} on the report date {p['report_date']}"
        ),
        lambda p: (
            f"{p['earliest_date']}起没有哪天出发能在报到日{p['report_date']} {p['gate_until']}"
            f"闭门前到达{p['city']}{p['factory']}"
        ),
    ),
    "overdue_gate_full": (
        lambda p: f"{p['factory']} receives no more arrivals on any date from {p['first']} to {p['last']}",
        lambda p: f"{p['factory']}在{p['first']}至{p['last']}每天的接收人数均已满",
    ),
    "overdue_group_apart": (
        lambda p: (
            f"the group has no date in common: one member may leave only from {p['earliest_date']}, another must "
            f"report by {p['report_date']}"
        ),
        lambda p: (
            f"同行小组没有共同的出发日期：有成员{p['earliest_date']}才能出发，另有成员须在{p['report_date']}前报到"
        ),
    ),
    "overdue_report_passed": (
        lambda p: (
            f"the last date a coach could leave to reach {p['factory']} ({p['city']}) by the report date, "
            f"{p['last']}, has passed without a seat"
        ),
        lambda p: f"能按报到日期到达{p['city']}{p['factory']}的最后出发日{p['last']}已过，仍未安排座位",
    ),
    "overdue_dates_published": (
        lambda p: (
            f"every date they could leave on ({p['first']} to {p['last']}) is already published, and no bus of "
            f"those dates to {p['factory']} has a free seat"
        ),
        lambda p: f"可出发的日期（{p['first']}至{p['last']}）均已发布，且当天开往{p['factory']}的包车没有空座",
    ),
}
OVERDUE_CAUSES = tuple(code.removeprefix("overdue_") for code in _OVERDUE_TEXTS)
_TEXTS: dict[str, tuple[Text, Text]] = {**_FALLBACK_TEXTS, **_OTHER_TEXTS, **_ASSUMPTION_TEXTS, **_OVERDUE_TEXTS}
