"""The county map as GeoJSON: townships, factories, assembly points and, for a plan, its bus lines."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, select

from api import models as m
from api.convert import job_result, load_rules
from api.services.publishing import bus_public_id


def _point(lon: float, lat: float, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": properties}


def county_geojson(session: Session, job: m.PlanJob | None = None, day: dt.date | None = None) -> dict[str, Any]:
    """A FeatureCollection (WGS-84, [lon, lat]): every township and factory as a point (``kind``), and for
    ``job`` (a finished or published plan) one LineString per bus of ``day`` (default: its first date) through
    its stops in order."""
    places: dict[str, tuple[float, float]] = {}
    features: list[dict[str, Any]] = []
    for t in session.exec(select(m.Township).order_by(m.Township.id)).all():
        places[t.id] = (t.lon, t.lat)
        features.append(_point(t.lon, t.lat, {"kind": "township", "id": t.id, "name": t.name}))
    for f in session.exec(select(m.Factory).order_by(m.Factory.id)).all():
        places[f.id] = (f.lon, f.lat)
        features.append(_point(f.lon, f.lat, {"kind": "factory", "id": f.id, "name": f.name, "city": f.city}))
    for p in load_rules(session).assembly_points:
        places[p.point_id] = (p.lon, p.lat)
        features.append(_point(p.lon, p.lat, {"kind": "assembly_point", "id": p.point_id, "name": p.name}))
    result = job_result(job) if job is not None else None
    found = None if result is None else result.days.get(day if day is not None else min(result.days))
    if job is not None and found is not None:
        for n, bus in enumerate(found.plan.buses):
            line = [list(places[s.place_id]) for s in bus.stops if s.place_id in places]
            if len(line) < 2:
                continue
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": line},
                    "properties": {
                        "kind": "bus",
                        "index": n,
                        "bus_id": bus.bus_id,
                        "public_id": bus.bus_id if found.kept else bus_public_id(job.id or 0, bus.bus_id),
                        "vehicle_type": bus.vehicle_type,
                        "seats": bus.seats,
                        "load": bus.load,
                        "area": bus.area,
                        "stops": [s.place_name for s in bus.stops],
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features}
