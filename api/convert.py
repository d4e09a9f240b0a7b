"""The one place where database rows become ``scheduler`` objects and back.

Routes and services never build ``scheduler`` dataclasses from rows themselves, and no row ever
reaches ``scheduler``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from api import models as m
from api.schemas import TravellerRef
from scheduler import model as sm
from scheduler.campaign import Campaign
from scheduler.clock import format_clock, parse_clock
from scheduler.messages import FALLBACK_CAUSES
from scheduler.output import manifest_rows
from scheduler.plan import FALLBACK_MODES, Bus, Fallback, Plan
from scheduler.policy import PolicyRules, policy_from_dict

log = logging.getLogger(__name__)

POLICY_KEY = "policy"
# The settings that say where the county is, without which no day can be planned. They are checked in the stored
# settings, not in PolicyRules' defaults: an empty database plans for no county.
# Names as in policy.toml, with what they are in Chinese and English.
HOME_SETTINGS = {
    "county": ("县名", "county name"),
    "province": ("所在省份", "province"),
    "depot_lat": ("发车点纬度", "depot latitude"),
    "depot_lon": ("发车点经度", "depot longitude"),
}


# --------------------------------------------------------------------------------------------- rows -> scheduler


def township_to_domain(row: m.Township) -> sm.Township:
    return sm.Township(row.id, row.name, row.lat, row.lon)


def factory_to_domain(row: m.Factory) -> sm.Factory:
    start, end = parse_clock(row.receive_from), parse_clock(row.receive_until)
    if start is None or end is None:
        raise ValueError(f"factory {row.id}: receiving hours {row.receive_from}..{row.receive_until} are not HH:MM.")
    return sm.Factory(row.id, row.name, row.lat, row.lon, row.city, row.province, start, end)


def bus_type_to_domain(row: m.BusType, count: int | None = None) -> sm.BusType:
    return sm.BusType(
        row.vehicle_type, row.seats, row.count if count is None else count, row.fixed_cost, row.cost_per_km
    )


def traveller_to_domain(row: m.Traveller) -> sm.Traveller:
    """The scheduler's traveller id is the database id as text."""
    return sm.Traveller(
        str(row.id),
        row.name,
        row.id_number,
        row.phone,
        row.township_id,
        row.factory_id,
        row.earliest_date,
        row.report_date,
        group_id=row.group_id,
        registered_poor=row.registered_poor,
    )


def policy_data(session: Session) -> dict[str, Any]:
    """The settings the county has stored (policy.toml's names), without PolicyRules' defaults."""
    row = session.get(m.PolicySetting, POLICY_KEY)
    return dict(row.data) if row else {}


def load_rules(session: Session) -> PolicyRules:
    return policy_from_dict(policy_data(session), source="county policy")


def missing_home_settings(data: dict[str, Any]) -> list[str]:
    """The home settings (``HOME_SETTINGS``) that stored settings ``data`` leave unset or empty."""
    return [name for name in HOME_SETTINGS if data.get(name) in (None, "")]


def rules_to_data(rules: dict[str, Any]) -> dict[str, Any]:
    """Settings as stored: policy.toml's names, sorted."""
    return {key: rules[key] for key in sorted(rules)}


def active_bus_counts(session: Session, day: dt.date) -> Counter[str]:
    """Coaches of each type already committed to published buses on ``day``."""
    rows = session.exec(
        select(m.Bus.vehicle_type, func.count())
        .where(m.Bus.date == day, m.Bus.status == "published")
        .group_by(m.Bus.vehicle_type)
    ).all()
    return Counter({vehicle_type: n for vehicle_type, n in rows})


def build_problem(session: Session, day: dt.date) -> tuple[sm.Problem, dict[str, int], int]:
    """The day's problem from the database: registered travellers free on ``day`` (not yet on a published
    plan), every place, and the fleet minus the coaches already on published buses that day.

    Returns:
        (problem, {traveller id: version} to check at publishing, number of published buses kept).
    """
    rules = load_rules(session)
    townships = tuple(township_to_domain(t) for t in session.exec(select(m.Township).order_by(m.Township.id)))
    factories = tuple(factory_to_domain(f) for f in session.exec(select(m.Factory).order_by(m.Factory.id)))
    kept = active_bus_counts(session, day)
    fleet = tuple(
        bus_type_to_domain(b, max(0, b.count - kept.get(b.vehicle_type, 0)))
        for b in session.exec(select(m.BusType).order_by(m.BusType.vehicle_type))
    )
    rows = session.exec(
        select(m.Traveller)
        .where(
            m.Traveller.status == m.TravellerStatus.registered,
            m.Traveller.earliest_date <= day,
            m.Traveller.report_date >= day,
        )
        .order_by(m.Traveller.id)
    ).all()
    travellers = tuple(traveller_to_domain(t) for t in rows)
    versions = {str(t.id): t.version for t in rows}
    problem = sm.Problem(day, townships, factories, travellers, fleet, rules)
    return problem, versions, sum(kept.values())


# Statuses of a traveller on a published bus or fallback who still holds the place.
HOLDS_PLACE = (
    m.TravellerStatus.planned,
    m.TravellerStatus.boarded,
    m.TravellerStatus.arrived,
    m.TravellerStatus.went_elsewhere,
)
# How far before a campaign's first date published days are kept: their coaches may still be on the road.
KEPT_DAYS_BEFORE = 3


@dataclass(frozen=True, slots=True)
class CampaignInput:
    """What ``plan_campaign`` needs from the database: the scenario, its first date (``start``, earlier than asked
    when a recently published date is kept), the published dates as plans, and the versions publishing checks."""

    scenario: sm.Scenario
    start: dt.date
    kept: tuple[Plan, ...]
    versions: dict[str, int]


def build_campaign(session: Session, start: dt.date, end: dt.date) -> CampaignInput:
    """The campaign's problem from the database: every registered (or overdue) traveller whose window meets
    [start, end], and every published date from ``KEPT_DAYS_BEFORE`` days before ``start`` as a kept plan: its
    published buses (ids "P<plan>-<bus>") with the riders still on them, and its fallback travellers."""
    rules = load_rules(session)
    townships = tuple(township_to_domain(t) for t in session.exec(select(m.Township).order_by(m.Township.id)))
    factories = tuple(factory_to_domain(f) for f in session.exec(select(m.Factory).order_by(m.Factory.id)))
    fleet = tuple(bus_type_to_domain(b) for b in session.exec(select(m.BusType).order_by(m.BusType.vehicle_type)))
    waiting = session.exec(
        select(m.Traveller)
        .where(
            col(m.Traveller.status).in_([m.TravellerStatus.registered, m.TravellerStatus.overdue]),
            m.Traveller.earliest_date <= end,
            m.Traveller.report_date >= start,
        )
        .order_by(m.Traveller.id)
    ).all()
    bus_rows = session.exec(
        select(m.Bus)
        .where(
            m.Bus.status == "published",
            m.Bus.date >= start - dt.timedelta(days=KEPT_DAYS_BEFORE),
            m.Bus.date <= end,
        )
        .order_by(m.Bus.id)
    ).all()
    kept_dates = sorted({b.date for b in bus_rows})
    placed = (
        session.exec(
            select(m.Traveller)
            .where(col(m.Traveller.status).in_(HOLDS_PLACE), in_ids(m.Traveller.travel_date, kept_dates))
            .order_by(m.Traveller.id)
        ).all()
        if kept_dates
        else []
    )
    kept = tuple(_kept_plan(day, [b for b in bus_rows if b.date == day], placed) for day in kept_dates)
    on_kept = {t for p in kept for t in plan_traveller_ids(p)}
    travellers = (*waiting, *(t for t in placed if str(t.id) in on_kept))
    scenario_travellers = tuple(traveller_to_domain(t) for t in travellers)
    scenario = sm.Scenario(townships, factories, scenario_travellers, fleet, rules)
    first = min([start, *kept_dates])
    return CampaignInput(scenario, first, kept, {str(t.id): t.version for t in waiting})


def _kept_plan(day: dt.date, buses: list[m.Bus], placed: list[m.Traveller]) -> Plan:
    """A published date as a plan: its buses named by their public ids with only the riders still on them, and its
    fallback travellers as they were published."""
    kept_buses = []
    for row in buses:
        bus = replace(bus_to_domain(row), bus_id=row.id)
        on = {str(t.id) for t in placed if t.bus_id == row.id}
        stops = tuple(
            replace(s, board=tuple(t for t in s.board if t in on), alight=tuple(t for t in s.alight if t in on))
            for s in bus.stops
        )
        kept_buses.append(replace(bus, stops=stops))
    fallback = tuple(
        Fallback(str(t.id), t.mode or "unplaced", t.fallback_cause or "", t.fallback_params or {}, t.est_cost or 0.0)
        for t in placed
        # (a row published before reasons were data has no cause: it keeps its place, outside the plan)
        if t.travel_date == day
        and t.bus_id is None
        and t.mode in FALLBACK_MODES
        and t.fallback_cause in FALLBACK_CAUSES
    )
    return Plan(day, tuple(kept_buses), fallback, {})


# --------------------------------------------------------------------------------------------- plans


@dataclass(frozen=True, slots=True)
class Seat:
    """One seat of a bus as publishing writes it onto the traveller (numbered by ``scheduler.output``)."""

    seat: int
    traveller_id: str
    boards_at: str
    board_time: str
    alights_at: str


@dataclass(frozen=True, slots=True)
class DayResult:
    """One date of a planning job: its plan and each bus's seats. ``kept``: the date was published before the job
    (a campaign's re-planning); its buses are the published ones (ids "P<plan>-<bus>"), some with new riders."""

    plan: Plan
    seats: dict[str, tuple[Seat, ...]]
    kept: bool = False

    @classmethod
    def of(cls, plan: Plan, problem: sm.Problem, kept: bool = False) -> DayResult:
        seats = {
            b.bus_id: tuple(
                Seat(int(r["seat"]), r["traveller_id"], r["boards_at"], r["board_time"], r["alights_at"])
                for r in manifest_rows(plan, problem, b.bus_id)
            )
            for b in plan.buses
        }
        return cls(plan, seats, kept)

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan.to_dict(),
            "seats": {
                bus_id: [
                    {
                        "seat": s.seat,
                        "traveller_id": s.traveller_id,
                        "boards_at": s.boards_at,
                        "board_time": s.board_time,
                        "alights_at": s.alights_at,
                    }
                    for s in seats
                ]
                for bus_id, seats in self.seats.items()
            },
            "kept": self.kept,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DayResult:
        plan = Plan.from_dict(data["plan"])
        seats = {
            bus_id: tuple(
                Seat(int(r["seat"]), str(r["traveller_id"]), r["boards_at"], r["board_time"], r["alights_at"])
                for r in rows
            )
            for bus_id, rows in data["seats"].items()
        }
        return cls(plan, seats, bool(data.get("kept", False)))


@dataclass(frozen=True, slots=True)
class JobResult:
    """What a finished planning job stores (``PlanJob.result``): each date's plan and seats, the version of every
    traveller planned, which publishing checks, and for a campaign its coaches, overdue travellers and totals
    (campaign.json without its days)."""

    days: dict[dt.date, DayResult]
    versions: dict[str, int]
    campaign: dict[str, Any] | None = None

    @classmethod
    def of(cls, plan: Plan, problem: sm.Problem, versions: dict[str, int]) -> JobResult:
        return cls({plan.date: DayResult.of(plan, problem)}, versions)

    @classmethod
    def of_campaign(cls, campaign: Campaign, versions: dict[str, int]) -> JobResult:
        days = {d.plan.date: DayResult.of(d.plan, d.problem, d.kept) for d in campaign.days}
        summary = {k: v for k, v in campaign.to_dict().items() if k != "days"}
        return cls(days, versions, summary)

    def plan_of(self, day: dt.date | None = None) -> Plan | None:
        """The plan of ``day`` (default: the first date), or None when the job did not plan that date."""
        found = self.days.get(day if day is not None else min(self.days))
        return found.plan if found else None

    def overdue(self) -> list[dict[str, Any]]:
        return list((self.campaign or {}).get("overdue", []))

    def to_dict(self) -> dict[str, Any]:
        return {
            "days": {d.isoformat(): r.to_dict() for d, r in sorted(self.days.items())},
            "versions": self.versions,
            "campaign": self.campaign,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobResult:
        """Raises ValueError when ``data`` is not this shape (e.g. a plan stored by an earlier version). A result
        stored before campaigns (one date's "plan" and "seats" at the top) reads as a job of that date."""
        try:
            if "days" not in data:
                day = DayResult.from_dict(data)
                return cls({day.plan.date: day}, {str(k): int(v) for k, v in data["versions"].items()})
            days = {dt.date.fromisoformat(d): DayResult.from_dict(r) for d, r in data["days"].items()}
            if not days:
                raise ValueError("Expected a planning result with at least one date.")
            versions = {str(k): int(v) for k, v in data["versions"].items()}
        except KeyError as err:
            raise ValueError(f"Expected a planning result with field {err.args[0]!r}.") from None
        except (TypeError, AttributeError) as err:
            raise ValueError(f"Expected a planning result: {err}.") from None
        return cls(days, versions, data.get("campaign"))


def job_result(job: m.PlanJob) -> JobResult | None:
    """The job's stored result, or None when it has none or one this version cannot read (logged)."""
    if job.result is None:
        return None
    try:
        return JobResult.from_dict(job.result)
    except ValueError as err:
        log.warning("plan %s: stored result unreadable: %s", job.id, err)
        return None


def bus_to_domain(row: m.Bus) -> Bus:
    """A published bus as the scheduler's Bus (read with ``Plan.from_dict``, the one reader of plan.json)."""
    plan = Plan.from_dict({"date": row.date.isoformat(), "buses": [row.data], "fallback": [], "subsidies": []})
    return plan.buses[0]


def bus_document(bus: Bus, day: dt.date) -> dict[str, Any]:
    """A bus as in plan.json's ``buses[]`` (written with ``Plan.to_dict``, the one writer)."""
    return Plan(day, (bus,), (), {}).to_dict()["buses"][0]


def plan_traveller_ids(plan: Plan) -> list[str]:
    """Everyone a plan names: on its buses, then in its fallback list."""
    return [t for b in plan.buses for t in b.traveller_ids] + [f.traveller_id for f in plan.fallback]


def traveller_refs(session: Session, ids: Iterable[str | int]) -> dict[str, TravellerRef]:
    """Service traveller id (as text) -> the township's own reference, for the ids that exist."""
    wanted = sorted({int(i) for i in ids})
    rows = session.exec(
        select(m.Traveller.id, m.Traveller.township_id, m.Traveller.ref).where(in_ids(m.Traveller.id, wanted))
    ).all()
    return {str(i): TravellerRef(township_id=township, ref=ref) for i, township, ref in rows}


# --------------------------------------------------------------------------------------------- scheduler -> rows


def township_from_domain(t: sm.Township) -> m.Township:
    return m.Township(id=t.township_id, name=t.name, lat=t.lat, lon=t.lon)


def factory_from_domain(f: sm.Factory) -> m.Factory:
    return m.Factory(
        id=f.factory_id,
        name=f.name,
        lat=f.lat,
        lon=f.lon,
        city=f.city,
        province=f.province,
        receive_from=format_clock(f.receive_from_s),
        receive_until=format_clock(f.receive_until_s),
    )


def bus_type_from_domain(b: sm.BusType) -> m.BusType:
    return m.BusType(
        vehicle_type=b.vehicle_type, seats=b.seats, count=b.count, fixed_cost=b.fixed_cost, cost_per_km=b.cost_per_km
    )


def traveller_values(t: sm.Traveller, campaign: str) -> dict[str, Any]:
    """Column values of a new registration from a checked scheduler traveller (its id is the township's ref)."""
    return {
        "campaign": campaign,
        "ref": t.traveller_id,
        "name": t.name,
        "id_number": t.id_number,
        "phone": t.phone,
        "township_id": t.township_id,
        "factory_id": t.factory_id,
        "earliest_date": t.earliest_date,
        "report_date": t.report_date,
        "group_id": t.group_id,
        "registered_poor": t.registered_poor,
        "status": m.TravellerStatus.registered.value,
        "version": 1,
        "no_shows": 0,
        "created_at": m.utcnow(),
        "updated_at": m.utcnow(),
    }


def traveller_row_dict(row: m.Traveller) -> dict[str, str]:
    """A traveller as a travellers.csv row (for checking an edit with the CLI's rules)."""
    return {
        "traveller_id": row.ref,
        "name": row.name,
        "id_number": row.id_number,
        "phone": row.phone,
        "township_id": row.township_id,
        "factory_id": row.factory_id,
        "earliest_date": row.earliest_date.isoformat(),
        "report_date": row.report_date.isoformat(),
        "group_id": row.group_id,
        "registered_poor": "yes" if row.registered_poor else "no",
    }


def factory_ids(session: Session) -> set[str]:
    return set(session.exec(select(m.Factory.id)).all())


def township_ids(session: Session) -> set[str]:
    return set(session.exec(select(m.Township.id)).all())


def in_ids(column: Any, ids: list[Any]) -> Any:
    """``column IN ids`` in chunks small enough for SQLite's variable limit."""
    chunks = [ids[i : i + 900] for i in range(0, len(ids), 900)] or [[]]
    return or_(*(col(column).in_(chunk) for chunk in chunks))
