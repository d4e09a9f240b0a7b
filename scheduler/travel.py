"""Distances and driving times between places, behind one small protocol.

Two providers are interchangeable:
- ``GeodesicTravel`` (the default): geodesic distance (geopy, WGS-84) times a road detour factor;
  driving time assumes the first and last ``local_km`` of every leg on local roads and the rest on
  expressways. Defaults: detour 1.25, expressway 80 km/h, local roads 40 km/h over 15 km at each end.
- ``TableTravel``: the county's road distances (a ``DistanceTable`` read from a distances file
  ``from_id,to_id,km,minutes``) where the table has the pair, another model (geodesic) elsewhere; it
  counts how many distinct legs came from each.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Protocol

from geopy.distance import geodesic

from scheduler.model import DistanceTable, Leg, Place


class TravelModel(Protocol):
    """How far and how long by coach from one place to another."""

    def leg(self, origin: Place, destination: Place) -> Leg: ...


def is_symmetric(travel: object) -> bool:
    """Whether a model gives the same leg both ways (callers may then look each pair up once)."""
    return bool(getattr(travel, "symmetric", False))


@dataclass(frozen=True, slots=True)
class GeodesicTravel:
    """Geodesic distance times a detour factor, with slower local legs at both ends."""

    detour_factor: float = 1.25
    expressway_kmh: float = 80.0
    local_kmh: float = 40.0
    local_km: float = 15.0
    symmetric = True  # the geodesic and its driving time are the same both ways

    def leg(self, origin: Place, destination: Place) -> Leg:
        if origin.lat == destination.lat and origin.lon == destination.lon:
            return Leg(0.0, 0)
        a, b = sorted(((origin.lat, origin.lon), (destination.lat, destination.lon)))
        km = _geodesic_km(a, b) * self.detour_factor
        return Leg(km, self.drive_seconds(km))

    def drive_seconds(self, km: float) -> int:
        local = min(km, 2 * self.local_km)
        hours = local / self.local_kmh + (km - local) / self.expressway_kmh
        return round(hours * 3600)


@functools.lru_cache(maxsize=1 << 20)
def _geodesic_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesics are the costly part of a day's models, and a campaign's days share their places: once a pair."""
    return float(geodesic(a, b).km)


class TableTravel:
    """A ``DistanceTable`` where it has the pair (either direction), ``fallback`` (geodesic) for the rest.

    Counts the distinct ordered pairs of places it was asked for: ``legs_from_table`` came from the table,
    ``legs_estimated`` from the fallback (a place to itself counts as neither). Make one per solve.
    """

    def __init__(self, table: DistanceTable, fallback: TravelModel | None = None) -> None:
        self.table = table
        self.fallback: TravelModel = fallback if fallback is not None else GeodesicTravel()
        self._from_table: set[tuple[str, str]] = set()
        self._estimated: set[tuple[str, str]] = set()

    def leg(self, origin: Place, destination: Place) -> Leg:
        if origin.place_id == destination.place_id:
            return Leg(0.0, 0)
        key = (origin.place_id, destination.place_id)
        leg = self.table.get(*key)
        if leg is not None:
            self._from_table.add(key)
            return leg
        self._estimated.add(key)
        return self.fallback.leg(origin, destination)

    @property
    def legs_from_table(self) -> int:
        return len(self._from_table)

    @property
    def legs_estimated(self) -> int:
        return len(self._estimated)


__all__ = ["GeodesicTravel", "TableTravel", "TravelModel"]
