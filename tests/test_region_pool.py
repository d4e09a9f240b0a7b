"""Phase 2 of a region, piece by piece and without Ray: which counties share, the pooled buses checked by the day
checker, their coaches fitted around the provider's own trips, and the cost split."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest
from geopy.distance import geodesic
from hypothesis import given
from hypothesis import strategies as st

from scheduler.areas import destination_areas
from scheduler.campaign import CampaignParams, plan_campaign
from scheduler.check import check_bus
from scheduler.region import load_region
from scheduler.region_pool import (
    county_name,
    outcome_of,
    pool_tasks,
    settle,
    sharing_pools,
    solve_pool_task,
    split_cost,
    with_pooled,
)
from scheduler.timetable import Timetable

REGION = Path(__file__).parent / "data" / "region_pooling"
START, END = dt.date(2026, 2, 18), dt.date(2026, 2, 24)


def test_counties_share_when_their_depots_are_near_one_another_in_a_chain() -> None:
    """Xingguo and Ruijin are farther apart than the radius, but both near Yudu: one pool of three at 80 km."""
    _, scenarios = load_region(REGION)
    depot = {c: (s.rules.depot_lat, s.rules.depot_lon) for c, s in scenarios.items()}
    assert geodesic(depot["xingguo"], depot["ruijin"]).km > 80
    assert sharing_pools(scenarios, 80, None) == [("ruijin", "xingguo", "yudu")]
    assert sharing_pools(scenarios, 50, None) == [("xingguo", "yudu")]
    assert sharing_pools(scenarios, 10, None) == []
    # region.toml's share groups stand as given, whatever the distances.
    assert sharing_pools(scenarios, 10, [["yudu", "ruijin"], ["xingguo"]]) == [("ruijin", "yudu")]


def test_pooled_buses_keep_every_bus_rule_and_each_county_pays_less_than_alone() -> None:
    """Each county alone reimburses its group of 15; pooled, groups of two counties or more share a coach that
    passes the day checker, driven by a coach of the provider never out on another trip at the time, and each
    county's cost falls by exactly the fallbacks its riders leave minus its share."""
    _, scenarios = load_region(REGION)
    alone = {c: plan_campaign(s, START, END, CampaignParams(time_limit_s=4, workers=1)) for c, s in scenarios.items()}
    for campaign in alone.values():
        assert campaign.to_dict()["totals"]["buses"] == 0  # 15 < 20: nobody charters alone
    outcomes = {c: outcome_of(campaign) for c, campaign in alone.items()}
    tasks = pool_tasks(sharing_pools(scenarios, 80, None), scenarios, outcomes, START, END)
    assert tasks, "the three counties' Kunshan groups make a pool task"
    results = [solve_pool_task(t, 4) for t in tasks]
    kept = [(r.task, problem, b) for r in results for problem, b in r.buses]
    assert kept, "a coach shared by two counties costs less than their township transport"
    for task, problem, bus in kept:
        timetable = Timetable(problem)
        assert check_bus(timetable, bus, destination_areas(problem, timetable)) == []
        assert len({task.origin[t][0] for t in bus.traveller_ids}) >= 2
        assert bus.cost < sum(task.fallback_cost[t] for t in bus.traveller_ids)
        pickups = [s for s in bus.stops if s.kind == "pickup"]
        assert len(pickups) <= problem.rules.max_pickup_stops
    assert all(r.violations == 0 for r in results)

    pooled = settle(results, scenarios, outcomes)
    assert len(pooled) == len(kept)  # every provider had a coach free
    for p in pooled:
        assert sum(p.share.values()) == pytest.approx(p.bus.cost, abs=0.005)
        assert all(p.share[c] <= p.replaced[c] for c in p.riders)
    for county, campaign in alone.items():
        mine = [p for p in pooled if county in p.riders or p.provider == county]
        merged = with_pooled(campaign, county, county_name(scenarios[county], county), pooled)
        before, after = campaign.to_dict()["totals"], merged.to_dict()["totals"]
        change = sum(p.replaced.get(county, 0) - p.share.get(county, 0) for p in mine)
        assert before["total_cost"] - after["total_cost"] == pytest.approx(change, abs=0.01)
        assert after["total_cost"] <= before["total_cost"]
        # Every traveller still planned once: on a bus (its own riders of the pooled ones) or in a fallback.
        riding = [t for d in merged.days for b in d.plan.buses for t in b.traveller_ids]
        fallback = [f.traveller_id for d in merged.days for f in d.plan.fallback]
        placed = riding + fallback + [o.traveller_id for o in merged.overdue]
        assert sorted(placed) == sorted(t.traveller_id for t in scenarios[county].travellers)
        # The provider's coaches, own trips and pooled ones together: never two trips at once.
        for name, trips in merged.coaches().items():
            assert name.startswith(f"{county}-") or any(name == p.bus.coach_id for p in pooled)
            for (a, _), (b, _) in itertools.pairwise(trips):
                assert b.leaves >= a.back, f"coach {name} on two trips at once"


@given(
    st.dictionaries(
        st.sampled_from(["yudu", "xingguo", "ruijin", "huichang"]),
        st.tuples(st.floats(0, 50_000), st.floats(0.01, 20_000)),
        min_size=1,
    ),
    st.floats(0, 1),
)
def test_the_split_adds_up_to_the_fen_and_nobody_pays_more_than_their_fallbacks(
    counties: dict[str, tuple[float, float]], fraction: float
) -> None:
    rider_km = {c: km for c, (km, _) in counties.items()}
    cap = {c: round(v, 2) for c, (_, v) in counties.items()}
    cost = round(sum(cap.values()) * fraction, 2)
    share = split_cost(cost, rider_km, cap)
    assert round(sum(share.values()) * 100) == round(cost * 100)
    assert all(share[c] <= cap[c] + 1e-9 for c in cap)
    assert all(share[c] >= 0 for c in cap)


def test_the_split_is_by_rider_km_when_no_county_reaches_its_fallbacks() -> None:
    assert split_cost(900.0, {"a": 200.0, "b": 100.0}, {"a": 1000.0, "b": 1000.0}) == {"a": 600.0, "b": 300.0}
    # a's part by km (600) would pass its fallbacks (500): a pays 500, b the rest.
    assert split_cost(900.0, {"a": 200.0, "b": 100.0}, {"a": 500.0, "b": 1000.0}) == {"a": 500.0, "b": 400.0}
    with pytest.raises(ValueError, match="less than the fallbacks"):
        split_cost(1600.0, {"a": 1.0, "b": 1.0}, {"a": 500.0, "b": 1000.0})


def test_counties_whose_groups_leave_on_different_dates_share_a_coach_on_a_date_both_can_take(
    tmp_path: Path,
) -> None:
    """Xingguo's and Ruijin's groups can leave from the 19th only, Yudu's from the 18th: each county alone puts its
    group on its first date; pooled, one coach takes Yudu's group with a neighbour's on a date both windows allow,
    Yudu's group moved to it (off its fallback on the 18th, onto the bus's date in its county's plan), and the
    independent region checker finds nothing wrong."""
    import shutil

    from benchmarks.region_check import check_region
    from scheduler.region import CountyPlan, RegionPlan, RegionSpec, pack

    folder = tmp_path / "region"
    shutil.copytree(REGION, folder)
    for county in ("xingguo", "ruijin"):
        travellers = folder / county / "travellers.csv"
        travellers.write_text(travellers.read_text("utf-8").replace(",2026-02-18,", ",2026-02-19,"), "utf-8")
    _, counties = load_region(folder)
    scenarios = {c: counties[c] for c in counties}
    alone = {c: plan_campaign(s, START, END, CampaignParams(time_limit_s=4, workers=1)) for c, s in scenarios.items()}
    outcomes = {c: outcome_of(campaign) for c, campaign in alone.items()}
    assert sorted(outcomes["xingguo"].left) == sorted(outcomes["ruijin"].left) == [dt.date(2026, 2, 19)]
    assert sorted(outcomes["yudu"].left) == [dt.date(2026, 2, 18)]
    tasks = pool_tasks(sharing_pools(scenarios, 80, None), scenarios, outcomes, START, END)
    pooled = settle([solve_pool_task(t, 4) for t in tasks], scenarios, outcomes)
    moved = [(p, c) for p in pooled for c in p.riders if p.date not in outcomes[c].left]
    assert moved, "a county's group rides a pooled coach on another date than its campaign chose"
    plans = []
    for county, campaign in alone.items():
        merged = with_pooled(campaign, county, county_name(scenarios[county], county), pooled)
        plans.append(CountyPlan(county, pack(merged), merged.to_dict()["totals"], campaign.to_dict()["totals"]))
        for p, c in moved:
            if c == county:  # off the old date's fallback, and among the bus date's travellers
                on_date = {d.plan.date: d for d in merged.days}[p.date]
                assert set(p.riders[c]) <= {t.traveller_id for t in on_date.problem.travellers}
                assert not {f.traveller_id for d in merged.days for f in d.plan.fallback} & set(p.riders[c])
    region = RegionPlan(RegionSpec("赣州市"), START, END, tuple(plans), tuple(pooled))
    assert not any(check_region(scenarios, region).values())
    assert all(c.totals["total_cost"] <= c.alone["total_cost"] for c in plans)
