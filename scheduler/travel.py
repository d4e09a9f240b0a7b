"""Distances and driving times between places, behind one small protocol.

Three providers are interchangeable:
- ``GeodesicTravel`` (the default): geodesic distance (geopy, WGS-84) times a road detour factor;
  driving time assumes the first and last ``local_km`` of every leg on local roads and the rest on
  expressways. Defaults: detour 1.25, expressway 80 km/h, local roads 40 km/h over 15 km at each end.
- ``RoadGraphTravel``: shortest paths on a road network (networkx) read from a CSV of road links.
- ``MatrixTravel``: a fixed table, for tests and benchmark instances.
"""

from __future__ import annotations

import csv
import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import networkx as nx
from geopy.distance import geodesic

from scheduler.model import Place


@dataclass(frozen=True, slots=True)
class Leg:
    distance_km: float
    drive_s: int


class TravelModel(Protocol):
    """How far and how long by coach from one place to another."""

    def leg(self, origin: Place, destination: Place) -> Leg: ...


@dataclass(frozen=True, slots=True)
class GeodesicTravel:
    """Geodesic distance times a detour factor, with slower local legs at both ends."""

    detour_factor: float = 1.25
    expressway_kmh: float = 80.0
    local_kmh: float = 40.0
    local_km: float = 15.0

    def leg(self, origin: Place, destination: Place) -> Leg:
        if origin.lat == destination.lat and origin.lon == destination.lon:
            return Leg(0.0, 0)
        km = geodesic((origin.lat, origin.lon), (destination.lat, destination.lon)).km * self.detour_factor
        return Leg(km, self.drive_seconds(km))

    def drive_seconds(self, km: float) -> int:
        local = min(km, 2 * self.local_km)
        hours = local / self.local_kmh + (km - local) / self.expressway_kmh
        return round(hours * 3600)


@dataclass(frozen=True, slots=True)
class MatrixTravel:
    """A fixed table of legs keyed by (origin place_id, destination place_id)."""

    legs: dict[tuple[str, str], Leg]

    def leg(self, origin: Place, destination: Place) -> Leg:
        if origin.place_id == destination.place_id:
            return Leg(0.0, 0)
        return self.legs[(origin.place_id, destination.place_id)]


class RoadGraphTravel:
    """Shortest driving time over a road network; places join the network at their nearest node.

    The links file is a CSV with columns ``from_id,from_lat,from_lon,to_id,to_lat,to_lon,distance_km,speed_kmh``
    (each link usable both ways). A place reaches its nearest node along a local road at ``access_kmh``.
    """

    def __init__(self, links_csv: Path, access_kmh: float = 30.0, detour_factor: float = 1.25) -> None:
        self.graph: nx.Graph = nx.Graph()
        self.access_kmh = access_kmh
        self.detour_factor = detour_factor
        with Path(links_csv).open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                for end in ("from", "to"):
                    self.graph.add_node(row[f"{end}_id"], lat=float(row[f"{end}_lat"]), lon=float(row[f"{end}_lon"]))
                km = float(row["distance_km"])
                self.graph.add_edge(row["from_id"], row["to_id"], km=km, s=km / float(row["speed_kmh"]) * 3600)
        if self.graph.number_of_nodes() == 0:
            raise ValueError(f"{links_csv}: no road links.")
        self._cache: dict[tuple[str, str], Leg] = {}

    def _nearest_node(self, place: Place) -> tuple[str, float]:
        best = min(
            self.graph.nodes(data=True),
            key=lambda item: _haversine_km(place.lat, place.lon, item[1]["lat"], item[1]["lon"]),
        )
        return best[0], _haversine_km(place.lat, place.lon, best[1]["lat"], best[1]["lon"]) * self.detour_factor

    def leg(self, origin: Place, destination: Place) -> Leg:
        key = (origin.place_id, destination.place_id)
        if key not in self._cache:
            self._cache[key] = self._compute(origin, destination)
        return self._cache[key]

    def _compute(self, origin: Place, destination: Place) -> Leg:
        if origin.place_id == destination.place_id:
            return Leg(0.0, 0)
        start, start_km = self._nearest_node(origin)
        end, end_km = self._nearest_node(destination)
        path = nx.shortest_path(self.graph, start, end, weight="s")
        km = sum(self.graph.edges[a, b]["km"] for a, b in itertools.pairwise(path))
        seconds = sum(self.graph.edges[a, b]["s"] for a, b in itertools.pairwise(path))
        access_s = (start_km + end_km) / self.access_kmh * 3600
        return Leg(km + start_km + end_km, round(seconds + access_s))


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


__all__ = ["GeodesicTravel", "Leg", "MatrixTravel", "RoadGraphTravel", "TravelModel"]
