"""Destination areas: factories close enough that one bus may drop off at several of them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence

import numpy as np

from scheduler.model import Factory, Problem
from scheduler.travel import TravelModel


class FactoryKm:
    """Road km between every two of some factories, measured once: for clustering many subsets of them (the
    campaign's pooling clusters a date again each time a gate loses its last traveller)."""

    def __init__(self, factories: Sequence[Factory], travel: TravelModel) -> None:
        self.index = {f.factory_id: k for k, f in enumerate(factories)}
        self.km = road_km(factories, travel)

    def among(self, factories: Sequence[Factory]) -> np.ndarray:
        """The km between ``factories`` (each one of those measured), in their order."""
        rows = [self.index[f.factory_id] for f in factories]
        return self.km[np.ix_(rows, rows)]


def road_km(factories: Sequence[Factory], travel: TravelModel) -> np.ndarray:
    """Road km between every two of ``factories``, in their order."""
    n = len(factories)
    return np.array([[travel.leg(a, b).distance_km for b in factories] for a in factories], dtype=float).reshape(n, n)


def cluster_factories(
    factories: Sequence[Factory], travel: TravelModel, radius_km: float, measured: FactoryKm | None = None
) -> dict[str, str]:
    """Complete-linkage clustering: no two factories of an area are more than 2 x ``radius_km`` apart
    by road (``measured`` where the distances are at hand). Returns factory_id -> area name (its cities, most
    factories first, e.g. "东莞市/深圳市")."""
    ordered = sorted(factories, key=lambda f: f.factory_id)
    n = len(ordered)
    clusters: list[list[int]] = [[i] for i in range(n)]
    # Diameters between clusters, updated as they merge: the merged cluster's to another is the larger of its
    # parts' (complete linkage). The pair merged is the first closest in row order, as a scan would find it.
    diameter = measured.among(ordered) if measured is not None else road_km(ordered, travel)
    diameter[np.tril_indices(n)] = np.inf
    limit = 2 * radius_km
    while len(clusters) > 1:
        x, y = divmod(int(np.argmin(diameter)), len(clusters))
        if not diameter[x, y] <= limit:
            break
        # Each half of the matrix holds a pair once (the other is inf): the smaller of row and column is it.
        merged = np.maximum(np.minimum(diameter[x], diameter[:, x]), np.minimum(diameter[y], diameter[:, y]))
        diameter[x, x + 1 :] = merged[x + 1 :]
        diameter[:x, x] = merged[:x]
        diameter = np.delete(np.delete(diameter, y, axis=0), y, axis=1)
        clusters[x].extend(clusters[y])
        del clusters[y]
    names: dict[str, str] = {}
    used: Counter[str] = Counter()
    for members in sorted(clusters, key=lambda c: min(ordered[i].factory_id for i in c)):
        cities = Counter(ordered[i].city for i in members)
        name = "/".join(city for city, _ in sorted(cities.items(), key=lambda kv: (-kv[1], kv[0])))
        used[name] += 1
        if used[name] > 1:
            name = f"{name}#{used[name]}"
        for i in members:
            names[ordered[i].factory_id] = name
    return names


def each_in_one_area(bus_gates: Iterable[Collection[str]], area_of: dict[str, str]) -> bool:
    """Whether every bus's gates lie in one area of ``area_of`` (a gate not in it counts as an area of its own)."""
    return all(len({area_of.get(f, f) for f in gates}) <= 1 for gates in bus_gates)


def split_factories(factories: Sequence[Factory], weights: dict[str, int], max_weight: int) -> list[list[Factory]]:
    """Cut an area into parts of at most ``max_weight`` (e.g. routing tasks) by halving it along its
    longer side, so that each part stays compact. A single factory is never cut."""
    members = sorted(factories, key=lambda f: f.factory_id)
    total = sum(weights.get(f.factory_id, 0) for f in members)
    if total <= max_weight or len(members) <= 1:
        return [members]
    lat_span = max(f.lat for f in members) - min(f.lat for f in members)
    lon_span = max(f.lon for f in members) - min(f.lon for f in members)
    members.sort(key=(lambda f: (f.lat, f.factory_id)) if lat_span >= lon_span else (lambda f: (f.lon, f.factory_id)))
    running, cut = 0, 1
    for k, factory in enumerate(members[:-1], start=1):
        running += weights.get(factory.factory_id, 0)
        cut = k
        if running >= total / 2:
            break
    return split_factories(members[:cut], weights, max_weight) + split_factories(members[cut:], weights, max_weight)


def destination_areas(problem: Problem, travel: TravelModel) -> dict[str, str]:
    """The areas of the factories that the day's travellers are bound for: factory_id -> area name."""
    wanted = sorted({t.factory_id for t in problem.travellers})
    return cluster_factories([problem.factory(f) for f in wanted], travel, problem.rules.area_radius_km)
