"""The county map as GeoJSON: townships, factories, assembly points and, for a plan, its bus lines, and the
corridors they make (one line per township and destination area, with its buses and riders) and the areas."""

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
    cities: dict[str, list[tuple[float, float]]] = {}
    for f in session.exec(select(m.Factory)).all():
        cities.setdefault(f.city, []).append((f.lon, f.lat))
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
        features.extend(_corridors(found.plan.buses, places, cities))
    return {"type": "FeatureCollection", "features": features}


def _centre(points: list[tuple[float, float]]) -> tuple[float, float]:
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


def _corridors(
    buses: Any, places: dict[str, tuple[float, float]], cities: dict[str, list[tuple[float, float]]]
) -> list[dict[str, Any]]:
    """One straight line per (pickup place, destination area) with how many buses and riders take it, and one
    point per destination area: a county's 250 bus lines read as a dozen corridors."""
    corridors: dict[tuple[str, str], dict[str, Any]] = {}
    areas: dict[str, int] = {}
    for bus in buses:
        if bus.area not in cities:
            continue
        areas[bus.area] = areas.get(bus.area, 0) + 1
        for stop in bus.stops:
            if stop.kind != "pickup" or stop.place_id not in places:
                continue
            c = corridors.setdefault((stop.place_id, bus.area), {"from": stop.place_name, "buses": 0, "riders": 0})
            c["buses"] += 1
            c["riders"] += len(stop.board)
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [list(places[origin]), list(_centre(cities[area]))]},
            "properties": {"kind": "corridor", "area": area, **c},
        }
        for (origin, area), c in sorted(corridors.items())
    ]
    features += [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": list(_centre(cities[area]))},
            "properties": {"kind": "area", "name": area, "buses": n},
        }
        for area, n in sorted(areas.items())
    ]
    return features
