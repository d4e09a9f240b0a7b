"""A plan survives plan.json: ``Plan.from_dict(plan.to_dict()) == plan``, and bad documents are refused."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.messages import FALLBACK_CAUSES
from scheduler.plan import FALLBACK_MODES, Bus, Fallback, Plan, Stop

ids = st.text(alphabet="0123456789ABCT-", min_size=1, max_size=8)
names = st.text(min_size=1, max_size=6)
money = st.decimals(min_value=0, max_value=100_000, places=2).map(float)
seconds = st.integers(min_value=0, max_value=3 * 24 * 3600)


@st.composite
def stops(draw: st.DrawFn) -> Stop:
    arrival = draw(seconds)
    return Stop(
        draw(ids),
        draw(names),
        draw(st.sampled_from(("pickup", "dropoff"))),
        arrival,
        arrival + draw(st.integers(0, 3600)),
        tuple(draw(st.lists(ids, max_size=4))),
        tuple(draw(st.lists(ids, max_size=4))),
    )


@st.composite
def buses(draw: st.DrawFn) -> Bus:
    return Bus(
        draw(ids),
        draw(st.sampled_from(("coach53", "coach35", "c12"))),
        draw(st.integers(1, 60)),
        draw(names),
        tuple(draw(st.lists(stops(), min_size=1, max_size=3))),
        draw(st.decimals(min_value=0, max_value=3000, places=1).map(float)),
        draw(st.decimals(min_value=0, max_value=30, places=2).map(float)),
        draw(st.integers(1, 2)),
        draw(money),
        draw(st.sampled_from(("", "coach53-001", "c12-017"))),
    )


params = st.fixed_dictionaries(
    {
        "township": names,
        "factory": names,
        "area": names,
        "size": st.integers(1, 60),
        "group_size": st.integers(1, 60),
        "flow_size": st.integers(1, 500),
        "mode": st.sampled_from(FALLBACK_MODES),
        "per_person": money,
        "threshold": st.integers(1, 60),
        "priced": st.booleans(),
        "max_pickup_stops": st.integers(1, 5),
        "max_dropoff_stops": st.integers(1, 5),
        "bus_load": st.integers(0, 60),
        "city": names,
        "gate_until": st.just("21:00"),
        "report_date": st.just("2026-02-21"),
        "depart_from": st.just("05:00"),
        "journey_hours": st.decimals(min_value=0, max_value=40, places=1).map(float),
    }
)


@st.composite
def fallbacks(draw: st.DrawFn) -> Fallback:
    return Fallback(
        draw(ids),
        draw(st.sampled_from(FALLBACK_MODES)),
        draw(st.sampled_from(FALLBACK_CAUSES)),
        draw(params),
        draw(money),
    )


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    return Plan(
        draw(st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 31))),
        tuple(draw(st.lists(buses(), max_size=2))),
        tuple(draw(st.lists(fallbacks(), max_size=3))),
        draw(st.dictionaries(ids, st.sampled_from((500.0, 1000.0)), max_size=3)),
        draw(st.dictionaries(st.sampled_from(("solve_s", "areas", "violations")), st.integers(0, 100), max_size=3)),
    )


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(plans())
def test_a_plan_survives_its_json(plan: Plan) -> None:
    """Through to_dict, JSON text and from_dict, every field comes back equal; the sentences are rendered."""
    data = json.loads(json.dumps(plan.to_dict(), ensure_ascii=False))
    back = Plan.from_dict(data)
    assert back == plan
    assert back.to_dict() == data
    for line in data["fallback"]:
        assert line["reason"] and line["reason_zh"]


def test_a_document_without_its_buses_is_refused() -> None:
    """A plan.json missing a field names it."""
    with pytest.raises(ValueError, match="buses"):
        Plan.from_dict({"date": "2026-02-20", "fallback": [], "subsidies": []})


def test_an_unknown_cause_is_refused() -> None:
    """A fallback line's cause must be one the planner knows (its sentences come from it)."""
    with pytest.raises(ValueError, match="cause"):
        Fallback("T1", "free_ticket", "because", {}, 10.0)
