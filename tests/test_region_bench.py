"""The region benchmark: its generator (counties side by side, Yudu real, the others Yudu's layout moved), the
simulated schedule against brute force, the independent region checker on a real pooled plan and on tampered
copies, and quick mode end to end on Ray."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import math
from dataclasses import replace
from pathlib import Path

import pytest
from geopy.distance import geodesic
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks import region as bench
from benchmarks.region_check import check_region
from fixtures.generate import township_rows
from fixtures.region import county_seats, write_region_folder
from scheduler.region import load_region, plan_region

DATA = Path(__file__).parent / "data"


def test_generated_region_places_counties_side_by_side(tmp_path: Path) -> None:
    """Yudu first at its real place; every other county's townships are Yudu's layout turned and moved (their
    distances to each other kept), its depot on a grid 60 km from its nearest neighbour; same seed, same files."""
    names = write_region_folder(tmp_path / "a", 7, 50)
    write_region_folder(tmp_path / "b", 7, 50)
    assert names == [f"c{i:02d}" for i in range(1, 8)]
    for name in names:
        for file in ("townships.csv", "travellers.csv", "policy.toml", "fleet.csv", "factories.csv"):
            assert (tmp_path / "a" / name / file).read_bytes() == (tmp_path / "b" / name / file).read_bytes()
    spec, scenarios = load_region(tmp_path / "a")
    assert len(scenarios) == 7 and spec.pool_radius_km == 80
    yudu = township_rows()
    assert [(t.township_id, t.lat, t.lon) for t in scenarios["c01"].townships] == [
        (r["township_id"], float(r["lat"]), float(r["lon"])) for r in yudu
    ]
    depots = [(s.rules.depot_lat, s.rules.depot_lon) for s in scenarios.values()]
    for i, depot in enumerate(depots):
        nearest = min(geodesic(depot, other).km for j, other in enumerate(depots) if j != i)
        assert nearest == pytest.approx(60, rel=0.02)
    a, b = yudu[0], yudu[5]
    yudu_km = geodesic((float(a["lat"]), float(a["lon"])), (float(b["lat"]), float(b["lon"]))).km
    for s in list(scenarios.values())[1:]:
        moved = geodesic((s.townships[0].lat, s.townships[0].lon), (s.townships[5].lat, s.townships[5].lon)).km
        assert moved == pytest.approx(yudu_km, rel=0.02)
        assert s.rules.county != "于都县" and s.rules.assembly_points[0].name.startswith(s.rules.county)
    assert len(set(county_seats(60, 60.0))) == 60


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.1, 50), min_size=1, max_size=7), st.integers(1, 3))
def test_longest_first_schedule_is_within_four_thirds_of_the_best(durations: list[float], workers: int) -> None:
    """Against every assignment of the tasks to the workers: never better than the best, at most 4/3 of it."""
    best = min(
        max(sum(d for d, w in zip(durations, assign, strict=True) if w == k) for k in range(workers))
        for assign in itertools.product(range(workers), repeat=len(durations))
    )
    got = bench.makespan(durations, workers)
    assert best - 1e-9 <= got <= best * 4 / 3 + 1e-9
    assert got >= max(max(durations), sum(durations) / workers) - 1e-9


@pytest.fixture(scope="module")
def pooled_region() -> tuple[dict, object]:
    """tests/data/region_pooling planned on Ray: two neighbours share one coach."""
    import ray

    spec, scenarios = load_region(DATA / "region_pooling")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        plan = plan_region(spec, scenarios, dt.date(2026, 2, 18), dt.date(2026, 2, 24), time_limit_s=8)
    finally:
        ray.shutdown()
    assert plan.pooled, "the fixture's neighbours share a coach"
    return scenarios, plan


def test_region_checker_passes_the_plan_and_catches_each_tampering(pooled_region: tuple) -> None:
    scenarios, plan = pooled_region
    assert not any(check_region(scenarios, plan).values())
    bus = plan.pooled[0]
    county = next(iter(bus.riders))

    def found(**changes: object) -> dict[str, int]:
        tampered = replace(plan, pooled=(replace(bus, **changes), *plan.pooled[1:]))
        return {k: n for k, n in check_region(scenarios, tampered).items() if n}

    # A share taken from one county and not given to another: the split no longer adds up to the bus's cost.
    assert "split" in found(share={**bus.share, county: bus.share[county] - 10})
    # A county dropped from the riders: the bus's travellers no longer match, and that county's riders are lost.
    others = {c: ids for c, ids in bus.riders.items() if c != county}
    assert {"pooled_riders", "once"} <= set(found(riders=others))
    # The bus arriving a day later than planned: past a rider's report date, or, with its stops, outside the gate.
    late = tuple(
        replace(s, arrival_s=s.arrival_s + 20 * 86400, departure_s=s.departure_s + 20 * 86400) for s in bus.bus.stops
    )
    assert "pooled_report" in found(bus=replace(bus.bus, stops=late))
    # A pooled trip on a coach the provider's contract does not have.
    assert "coach_type" in found(bus=replace(bus.bus, coach_id=f"{bus.provider}-coach99-001"))


def test_quick_mode_plans_a_region_on_ray_and_every_figure_is_consistent(tmp_path: Path) -> None:
    out, md = tmp_path / "region.csv", tmp_path / "region.md"
    assert bench.main(["--quick", "--workers", "2", "--out", str(out), "--markdown", str(md)]) == 0
    with out.open(encoding="utf-8", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["notes"] == "" and row["violations"] == "0" and row["counties_above_alone"] == "0", row
    assert int(row["counties"]) == 3 and int(row["travellers"]) == 3 * 400
    work, wall, init = float(row["work_s"]), float(row["wall_s"]), float(row["init_s"])
    assert 0 < init < wall and work > 0
    assert float(row["x_work"]) == pytest.approx(wall / (work / 2), rel=0.01)
    sims = [float(row[f"sim_{w}_s"]) for w in bench.SIMULATED_WORKERS]
    assert sims == sorted(sims, reverse=True) and sims[-1] >= init + float(row["critical_s"]) - 0.2
    saving = float(row["cost_alone"]) - float(row["cost"])
    assert float(row["saving"]) == pytest.approx(saving, abs=0.01) and saving >= 0
    assert saving == pytest.approx(float(row["fallback_replaced"]) - float(row["pooled_coach_cost"]), abs=0.05)
    assert "| counties |" in md.read_text(encoding="utf-8")
    assert math.isfinite(float(row["driver_peak_mb"])) and float(row["tree_peak_mb"]) >= float(row["driver_peak_mb"])
