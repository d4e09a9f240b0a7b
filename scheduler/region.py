"""A region (a prefecture or a province) planning all its counties' campaigns at once, on Ray.

Phase 1 (built): every county's campaign (``scheduler.campaign.plan_campaign``) as its own Ray task, the county's
scenario handed to the worker through Ray's object store (never re-read from a shared disk), results gathered as
they finish with progress per county, a failed task retried and then reported by county, and the region written
all or nothing: ``region.json`` and ``counties/<county>/`` as ``fanggang campaign`` writes a county.

Phase 2 (pooling what no county fills alone across neighbouring counties) is not built yet: every county's
``pooled_buses`` is 0 and its ``cost`` is its ``cost_alone``.

    REGION_DIR/region.toml      name = "赣州市"; pool_radius_km = 80; cost_split = "rider_km"
    REGION_DIR/<county>/        a scenario folder as ``fanggang plan`` reads it (its own policy.toml and fleet)
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scheduler.campaign import Campaign, CampaignParams, plan_campaign
from scheduler.output import write_atomically, write_campaign_into
from scheduler.scenario import Scenario, load_scenario

REGION_FILE = "region.toml"
REGION_KEYS = {"name", "pool_radius_km", "cost_split", "share"}
COST_SPLITS = ("rider_km",)
# What region.json sums per county (the campaign's totals of the same names).
COST_KEYS = ("charter_cost", "reimbursement_cost", "ticket_cost", "subsidy_cost")


class InvalidRegion(ValueError):
    """region.toml or a county folder is wrong; the message names the file."""


class RegionFailed(RuntimeError):
    """A county's task failed after its retries; nothing was written."""

    def __init__(self, county: str, error: BaseException) -> None:
        super().__init__(f"county {county}: {error} (区县 {county} 规划失败：{error})")
        self.county = county


@dataclass(frozen=True, slots=True)
class RegionSpec:
    name: str
    pool_radius_km: float = 80.0
    cost_split: str = "rider_km"
    # Which counties may share coaches; None: those whose depots are within ``pool_radius_km`` (phase 2).
    share: tuple[tuple[str, ...], ...] | None = None


def load_region(folder: Path) -> tuple[RegionSpec, dict[str, Scenario]]:
    """region.toml and every county folder in ``folder`` (a folder holding townships.csv), by folder name.

    Raises:
        InvalidRegion: region.toml missing, unreadable, with unknown keys or values, or no county folder.
        InvalidScenario: a county's files have problems (named by file, row and field).
    """
    path = Path(folder) / REGION_FILE
    if not path.is_file():
        raise InvalidRegion(f"{path}: not found; a region folder holds region.toml and one folder per county.")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise InvalidRegion(f"{path}: not valid TOML ({err}).") from None
    unknown = sorted(set(data) - REGION_KEYS)
    if unknown:
        raise InvalidRegion(
            f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(REGION_KEYS))}."
        )
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidRegion(f"{path}: name (the region's name, e.g. 赣州市) is required.")
    radius = data.get("pool_radius_km", 80.0)
    if not isinstance(radius, int | float) or isinstance(radius, bool) or not 0 <= radius <= 2000:
        raise InvalidRegion(f"{path}: pool_radius_km must be a number of km from 0 to 2000, got {radius!r}.")
    split = data.get("cost_split", "rider_km")
    if split not in COST_SPLITS:
        raise InvalidRegion(f"{path}: cost_split must be one of {', '.join(COST_SPLITS)}, got {split!r}.")
    counties = {p.name: p for p in sorted(Path(folder).iterdir()) if p.is_dir() and (p / "townships.csv").is_file()}
    if not counties:
        raise InvalidRegion(f"{folder}: no county folder (a folder with townships.csv) found.")
    share = data.get("share")
    groups = None
    if share is not None:
        if not isinstance(share, list) or not all(isinstance(g, list) for g in share):
            raise InvalidRegion(f"{path}: share must be a list of lists of county folder names.")
        strangers = sorted({c for g in share for c in g} - set(counties))
        if strangers:
            raise InvalidRegion(f"{path}: share names county folders that do not exist: {', '.join(strangers)}.")
        groups = tuple(tuple(str(c) for c in g) for g in share)
    spec = RegionSpec(name.strip(), float(radius), split, groups)
    return spec, {county: load_scenario(p) for county, p in counties.items()}


@dataclass(frozen=True, slots=True)
class CountyPlan:
    county: str
    campaign: Campaign


@dataclass(frozen=True, slots=True)
class RegionPlan:
    spec: RegionSpec
    start: dt.date
    end: dt.date
    counties: tuple[CountyPlan, ...]

    def to_dict(self) -> dict[str, Any]:
        """region.json."""
        rows = []
        for c in self.counties:
            totals = c.campaign.to_dict()["totals"]
            alone = round(totals["total_cost"], 2)
            rows.append(
                {
                    "county": c.county,
                    "travellers": totals["travellers"],
                    "buses": totals["buses"],
                    "pooled_buses": 0,
                    "cost_alone": alone,
                    "cost": alone,
                    "saving": 0.0,
                    **{k: round(totals[k], 2) for k in COST_KEYS},
                }
            )
        keys = ("travellers", "buses", "pooled_buses", "cost_alone", "cost", "saving", *COST_KEYS)
        totals = {k: round(sum(r[k] for r in rows), 2) for k in keys}
        return {
            "region": self.spec.name,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "counties": rows,
            "totals": totals,
            "pooling": "not built yet: each county is planned alone",
        }


ProgressCallback = Callable[[str, int, int], None]  # county, counties done, counties in all


def plan_region(
    spec: RegionSpec,
    scenarios: dict[str, Scenario],
    start: dt.date,
    end: dt.date,
    time_limit_s: float = 600.0,
    ray_address: str | None = None,
    on_progress: ProgressCallback | None = None,
    retries: int = 2,
) -> RegionPlan:
    """Every county's campaign as a Ray task (local Ray with this machine's cores, or the cluster at
    ``ray_address``); each task gets its share of ``time_limit_s`` (the counties run side by side).

    Raises:
        RegionFailed: a county's task failed ``retries`` + 1 times; naming the county.
    """
    import ray

    started_here = not ray.is_initialized()
    if started_here:
        if ray_address:
            ray.init(address=ray_address, log_to_driver=False)
        else:
            ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False, log_to_driver=False)
    try:
        workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        rounds = math.ceil(len(scenarios) / workers)
        per_county = max(5.0, time_limit_s / rounds)
        task = ray.remote(num_cpus=1, max_retries=retries)(_county_campaign)
        pending = {
            task.remote(ray.put(scenario), start, end, per_county): county for county, scenario in scenarios.items()
        }
        done: dict[str, CountyPlan] = {}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            county = pending.pop(ready[0])
            try:
                campaign = ray.get(ready[0])
            except Exception as err:  # the task's own error, or its worker dying more often than retried
                for ref in pending:
                    ray.cancel(ref, force=True)
                raise RegionFailed(county, err) from err
            done[county] = CountyPlan(county, campaign)
            if on_progress is not None:
                on_progress(county, len(done), len(scenarios))
    finally:
        if started_here:
            ray.shutdown()
    return RegionPlan(spec, start, end, tuple(done[c] for c in sorted(done)))


def _county_campaign(scenario: Scenario, start: dt.date, end: dt.date, time_limit_s: float) -> Campaign:
    """One county's campaign, run in a Ray worker (the scenario came through the object store; a worker that
    dies is replaced and the task run again, ``max_retries`` times)."""
    return plan_campaign(scenario, start, end, CampaignParams(time_limit_s=time_limit_s))


def write_region(plan: RegionPlan, out: Path) -> None:
    """region.json and counties/<county>/ (each as ``fanggang campaign`` writes it), all or nothing."""

    def write(folder: Path) -> None:
        text = json.dumps(plan.to_dict(), ensure_ascii=False, indent=1)
        (folder / "region.json").write_text(text, encoding="utf-8")
        for c in plan.counties:
            county_folder = folder / "counties" / c.county
            county_folder.mkdir(parents=True)
            write_campaign_into(c.campaign, county_folder)

    write_atomically(Path(out), write)
