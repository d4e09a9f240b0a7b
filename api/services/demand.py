"""Demand for one date: travellers per township and destination city, waiting or already planned."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, select

from api import models as m


def demand_for(session: Session, day: dt.date) -> dict[str, Any]:
    """``waiting``: registered, not yet on a published plan, free to travel on ``day``; ``planned``: on a
    published bus or fallback for ``day``. Destination area = the factory's city."""
    waiting = (
        (m.Traveller.status == m.TravellerStatus.registered)
        & (m.Traveller.earliest_date <= day)
        & (m.Traveller.report_date >= day)
    )
    planned = m.Traveller.travel_date == day
    query = (
        select(m.Traveller.township_id, m.Factory.city, m.Traveller.status, func.count())
        .join(m.Factory, m.Factory.id == m.Traveller.factory_id)
        .where(or_(waiting, planned), m.Traveller.status != m.TravellerStatus.cancelled)
        .group_by(m.Traveller.township_id, m.Factory.city, m.Traveller.status)
    )
    cells: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    planned_total = 0
    waiting_total = 0
    cities: set[str] = set()
    for township_id, city, status, n in session.exec(query).all():
        cities.add(city)
        if status == m.TravellerStatus.registered:
            cells[township_id][city] += n
            waiting_total += n
        else:
            planned_total += n
    names = dict(session.exec(select(m.Township.id, m.Township.name)).all())
    rows = [
        {"township_id": t, "township": names.get(t, t), "by_city": dict(c), "total": sum(c.values())}
        for t, c in sorted(cells.items())
    ]
    by_city: dict[str, int] = defaultdict(int)
    for c in cells.values():
        for city, n in c.items():
            by_city[city] += n
    return {
        "date": day.isoformat(),
        "cities": sorted(cities),
        "rows": rows,
        "by_city": dict(by_city),  # the column totals
        "waiting": waiting_total,
        "planned": planned_total,
    }


def busiest_dates(session: Session, limit: int = 60) -> list[dt.date]:
    """Dates on which someone may travel (from the earliest free date to the latest report date)."""
    low, high = session.exec(select(func.min(m.Traveller.earliest_date), func.max(m.Traveller.report_date))).one()
    if low is None or high is None:
        return []
    days = min((high - low).days + 1, limit)
    return [low + dt.timedelta(days=i) for i in range(days)]


def waiting_by_date(session: Session, dates: list[dt.date]) -> dict[dt.date, int]:
    """For each of ``dates``: how many registered travellers may leave on it (their window holds it)."""
    windows = session.exec(
        select(m.Traveller.earliest_date, m.Traveller.report_date, func.count())
        .where(m.Traveller.status == m.TravellerStatus.registered)
        .group_by(m.Traveller.earliest_date, m.Traveller.report_date)
    ).all()
    return {d: sum(n for low, high, n in windows if low <= d <= high) for d in dates}
