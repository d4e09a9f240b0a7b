"""The one place where database rows become ``scheduler`` objects and back.

Routes and services never build ``scheduler`` dataclasses from rows themselves, and no row ever
reaches ``scheduler``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from api import models as m
from scheduler import model as sm
from scheduler.clock import format_clock, parse_clock
from scheduler.policy import PolicyRules, policy_from_dict

POLICY_KEY = "policy"


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
    row = session.get(m.PolicySetting, POLICY_KEY)
    return json.loads(row.data) if row else {}


def load_rules(session: Session) -> PolicyRules:
    return policy_from_dict(policy_data(session), source="county policy")


def rules_to_data(rules: dict[str, Any]) -> str:
    return json.dumps(rules, ensure_ascii=False, sort_keys=True)


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
