"""/stats: return-to-work rate per township and arrival rate per factory, per date and overall."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi import APIRouter
from sqlalchemy import func
from sqlmodel import select

from api import models as m
from api.deps import CallerDep, SessionDep
from api.routes.scope import traveller_filters

router = APIRouter(tags=["stats"])

PLANNED = {"planned", "boarded", "arrived", "went_elsewhere"}
DEPARTED = {"boarded", "arrived", "went_elsewhere"}


def _empty() -> dict[str, int]:
    return {"registered": 0, "planned": 0, "departed": 0, "arrived": 0, "no_show": 0, "cancelled": 0, "overdue": 0}


def _finish(counts: dict[str, int]) -> dict[str, Any]:
    registered = counts["registered"]
    return {**counts, "rate": round(counts["arrived"] / registered, 4) if registered else 0.0}


@router.get("/stats")
def stats(session: SessionDep, caller: CallerDep, date: m.Day | None = None) -> dict[str, Any]:
    """Counts by township and by factory: registered (not cancelled), planned, departed, arrived, no-show, and
    overdue apart (registered, but no date left to reach the factory by the report date; counted in registered).
    ``rate`` is arrived / registered (return-to-work rate for townships, arrival rate for factories).
    ``by_date`` groups by the planned travel date. A township or factory sees only its own rows."""
    query = (
        select(
            m.Traveller.township_id,
            m.Traveller.factory_id,
            m.Traveller.travel_date,
            m.Traveller.status,
            func.count(),
            func.sum(m.Traveller.no_shows),
        )
        .where(*traveller_filters(caller))
        .group_by(m.Traveller.township_id, m.Traveller.factory_id, m.Traveller.travel_date, m.Traveller.status)
    )
    if date:
        query = query.where(m.Traveller.travel_date == date)
    towns: dict[str, dict[str, int]] = defaultdict(_empty)
    factories: dict[str, dict[str, int]] = defaultdict(_empty)
    dates: dict[str, dict[str, int]] = defaultdict(_empty)
    overall = _empty()
    for township_id, factory_id, travel_date, status, n, no_shows in session.exec(query).all():
        day = travel_date.isoformat() if travel_date else "unplanned"
        for bucket in (towns[township_id], factories[factory_id], dates[day], overall):
            if status == "cancelled":
                bucket["cancelled"] += n
                continue
            bucket["registered"] += n
            bucket["planned"] += n if status in PLANNED else 0
            bucket["departed"] += n if status in DEPARTED else 0
            bucket["arrived"] += n if status == "arrived" else 0
            bucket["overdue"] += n if status == "overdue" else 0
            bucket["no_show"] += int(no_shows or 0)
    return {
        "overall": _finish(overall),
        "townships": {k: _finish(v) for k, v in sorted(towns.items())},
        "factories": {k: _finish(v) for k, v in sorted(factories.items())},
        "by_date": {k: _finish(v) for k, v in sorted(dates.items())},
    }
