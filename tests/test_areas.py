"""Destination areas: complete-linkage clustering of factories within twice the area radius, as a plain scan
over every pair of clusters would make it (the scan is kept here as the reference)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.areas import FactoryKm, cluster_factories
from scheduler.model import Factory
from scheduler.travel import GeodesicTravel

TRAVEL = GeodesicTravel()


def scan(factories: list[Factory], radius_km: float) -> list[set[str]]:
    """Merge the closest pair of clusters (the first in scan order on a tie) while it is within 2 x radius."""
    ordered = sorted(factories, key=lambda f: f.factory_id)
    km = [[TRAVEL.leg(a, b).distance_km for b in ordered] for a in ordered]
    clusters = [[i] for i in range(len(ordered))]
    while True:
        best = None
        for x in range(len(clusters)):
            for y in range(x + 1, len(clusters)):
                diameter = max(km[i][j] for i in clusters[x] for j in clusters[y])
                if diameter <= 2 * radius_km and (best is None or diameter < best[0]):
                    best = (diameter, x, y)
        if best is None:
            return [{ordered[i].factory_id for i in c} for c in clusters]
        _, x, y = best
        clusters[x].extend(clusters[y])
        del clusters[y]


def factory(n: int, lat: float, lon: float) -> Factory:
    return Factory(f"F{n:03d}", f"厂{n}", lat, lon, "东莞市", "广东省", 8 * 3600, 20 * 3600)


# Points on a coarse grid, so that equal distances (ties) happen.
points = st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), min_size=0, max_size=24)


@settings(max_examples=60, deadline=None)
@given(points, st.sampled_from([5.0, 10.0, 20.0, 40.0]))
def test_clusters_are_those_of_the_plain_scan(grid: list[tuple[int, int]], radius_km: float) -> None:
    factories = [factory(n, 22.5 + 0.05 * a, 113.5 + 0.05 * b) for n, (a, b) in enumerate(grid)]
    area_of = cluster_factories(factories, TRAVEL, radius_km)
    got: dict[str, set[str]] = {}
    for f, area in area_of.items():
        got.setdefault(area, set()).add(f)
    assert sorted(map(sorted, got.values())) == sorted(map(sorted, scan(factories, radius_km)))
    for members in got.values():  # and no two factories of an area more than 2 x radius apart
        ids = sorted(members)
        by_id = {f.factory_id: f for f in factories}
        assert all(TRAVEL.leg(by_id[a], by_id[b]).distance_km <= 2 * radius_km for a in ids for b in ids)


@settings(max_examples=30, deadline=None)
@given(points, st.sampled_from([5.0, 20.0]), st.integers(1, 3))
def test_a_subset_clusters_alike_on_distances_measured_once(
    grid: list[tuple[int, int]], radius_km: float, step: int
) -> None:
    factories = [factory(n, 22.5 + 0.05 * a, 113.5 + 0.05 * b) for n, (a, b) in enumerate(grid)]
    measured = FactoryKm(factories[::-1], TRAVEL)  # measured in another order than clustered
    subset = factories[::step]
    assert cluster_factories(subset, TRAVEL, radius_km, measured) == cluster_factories(subset, TRAVEL, radius_km)
