"""An independent checker of a region's plan (``scheduler.region.RegionPlan``), none of the planner's region code.

- Each county: its campaign without the pooled buses, checked by ``benchmarks.campaign_check`` (its own coach ids
  read back without the county's name), its travellers on pooled buses counted as placed on the pooled bus's
  date, and the trips its coaches drive for pooled buses counted for its fleet (each trip recomputed from the
  bus's stops in the pool's day problem);
- each pooled bus: the day rules (``benchmarks.check.check_county_plan`` in the pool's day problem: pairing,
  capacity, stop limits, one destination area, gate hours, time on board, threshold), its riders (each of the
  counties it names, each rider on one pooled bus only), their report dates, its cost split (shares add up to the
  bus's cost, none above the fallbacks its county's riders leave);
- each county's cost with pooling no more than alone.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import replace

from benchmarks.campaign_check import CAMPAIGN_CHECKS, Trip, check_campaign, trip_of
from benchmarks.check import check_county_plan
from benchmarks.county_day import DAY_S, CountyDay
from scheduler.late_seating import Day
from scheduler.model import Scenario
from scheduler.plan import Plan
from scheduler.region import RegionPlan
from scheduler.region_pool import PooledBus

# Not a pooled bus's to meet: the pool's problem holds travellers who stay on their fallback.
NOT_PER_BUS = ("coverage", "groups_split")
REGION_CHECKS = (*CAMPAIGN_CHECKS, "pooled_day_rules", "pooled_riders", "pooled_report", "split", "above_alone")
CENT = 0.005


def check_region(scenarios: dict[str, Scenario], plan: RegionPlan) -> dict[str, int]:
    """Count the violations of ``plan`` (a ``RegionPlan`` of ``scenarios``); all zero for a valid region."""
    found = dict.fromkeys(REGION_CHECKS, 0)
    by_problem: dict[int, list[PooledBus]] = defaultdict(list)
    for p in plan.pooled:
        by_problem[id(p.problem)].append(p)
    for group in by_problem.values():
        problem = group[0].problem
        counts = check_county_plan(CountyDay(problem), Plan(problem.date, tuple(p.bus for p in group), (), {}))
        found["pooled_day_rules"] += sum(n for kind, n in counts.items() if kind not in NOT_PER_BUS)
    rides: Counter[tuple[str, str]] = Counter()
    for p in plan.pooled:
        named = {f"{c}:{t}" for c, ids in p.riders.items() for t in ids}
        found["pooled_riders"] += (set(p.bus.traveller_ids) != named) + (len(p.riders) < 2)
        rides.update((c, t) for c, ids in p.riders.items() for t in ids)
        people = {c: {t.traveller_id: t for t in scenarios[c].travellers} for c in p.riders}
        for stop in p.bus.stops:
            for tid in stop.alight:
                county, local = tid.split(":", 1)
                person = people.get(county, {}).get(local)
                arrives = p.date + dt.timedelta(days=stop.arrival_s // DAY_S)
                found["pooled_report"] += person is None or arrives > person.report_date
        found["split"] += abs(sum(p.share.values()) - p.bus.cost) > CENT
        found["split"] += sum(p.share[c] > p.replaced.get(c, 0.0) + CENT for c in p.share)
    found["pooled_riders"] += sum(n > 1 for n in rides.values())
    pooled_ids = {p.bus.bus_id for p in plan.pooled}
    for county_plan in plan.counties:
        county = county_plan.county
        own = f"{county}-"
        days = []
        for day in county_plan.campaign.days:
            buses = tuple(
                replace(b, coach_id=b.coach_id.removeprefix(own)) for b in day.plan.buses if b.bus_id not in pooled_ids
            )
            days.append(Day(day.problem, replace(day.plan, buses=buses), day.kept))
        elsewhere = {t: p.date for p in plan.pooled for t in p.riders.get(county, ())}
        driven: list[Trip] = [
            (
                p.bus.coach_id.removeprefix(own),
                p.bus.vehicle_type,
                *trip_of(CountyDay(p.problem), p.bus, p.date),
                p.date,
            )
            for p in plan.pooled
            if p.provider == county
        ]
        view = replace(county_plan.campaign, days=tuple(days))
        for kind, n in check_campaign(scenarios[county], view, elsewhere, driven).items():
            found[kind] += n
        cost, alone = county_plan.campaign.to_dict()["totals"]["total_cost"], county_plan.alone["total_cost"]
        found["above_alone"] += cost > alone + CENT
    return found
