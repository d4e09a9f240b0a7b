"""A region (a prefecture or a province) planning all its counties' campaigns at once, on Ray.

Phase 1: every county's campaign (``scheduler.campaign.plan_campaign``) as its own Ray task. Phase 2: the
travellers the counties left to a fallback, pooled across counties allowed to share coaches and across dates,
one Ray task per pool and destination area (``scheduler.region_pool``). Scenarios reach the workers through
Ray's object store (never re-read from a shared disk); results are gathered as they finish, with progress; a task
whose worker dies runs again, and one that still fails is reported by county or area; the region is written all
or nothing:
``region.json``, ``cost_split.xlsx`` and ``counties/<county>/`` as ``fanggang campaign`` writes a county (with the
pooled buses its travellers ride).

    REGION_DIR/region.toml      name = "赣州市"; pool_radius_km = 80; cost_split = "rider_km"
    REGION_DIR/<county>/        a scenario folder as ``fanggang plan`` reads it (its own policy.toml and fleet)
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import pickle
import time
import tomllib
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from scheduler.campaign import Campaign, CampaignParams, plan_campaign
from scheduler.output import write_atomically, write_campaign_into
from scheduler.region_pool import (
    CountyOutcome,
    PooledBus,
    PoolResult,
    PoolTask,
    county_name,
    outcome_of,
    pool_tasks,
    settle,
    sharing_pools,
    solve_pool_task,
    with_pooled,
)
from scheduler.scenario import Scenario, load_scenario
from scheduler.spreadsheet import table_xlsx
from scheduler.validation import InvalidScenario

REGION_FILE = "region.toml"
REGION_KEYS = {"name", "pool_radius_km", "cost_split", "share"}
COST_SPLITS = ("rider_km",)
# What region.json sums per county (the campaign's totals of the same names).
COST_KEYS = ("charter_cost", "reimbursement_cost", "ticket_cost", "subsidy_cost")
# Share of the time limit for phase 2 (pooling across counties); the counties' campaigns have the rest.
POOLING_SHARE = 0.2


class InvalidRegion(ValueError):
    """region.toml or a county folder is wrong; the message names the file."""


class RegionFailed(RuntimeError):
    """A task failed after its retries (a county's campaign, or a pool's area); nothing was written."""

    def __init__(self, county: str, error: BaseException, area: str = "") -> None:
        if area:
            super().__init__(f"pooling {area} ({county}): {error} (跨县拼车 {area}（{county}）规划失败：{error})")
        else:
            super().__init__(f"county {county}: {error} (区县 {county} 规划失败：{error})")
        self.county = county


@dataclass(frozen=True, slots=True)
class RegionSpec:
    name: str
    pool_radius_km: float = 80.0
    cost_split: str = "rider_km"
    # Which counties may share coaches; None: those whose depots are within ``pool_radius_km`` (phase 2).
    share: tuple[tuple[str, ...], ...] | None = None


class RegionCounties(Mapping[str, Scenario]):
    """A region's county folders by name; a county's scenario is read when asked for, and not kept: a province's
    counties together do not fit one process, and each is read once, into Ray's object store.

    Raises (on reading one):
        InvalidScenario: the county's files have problems, each named ``county/file``, row and field.
    """

    def __init__(self, folders: Mapping[str, Path]) -> None:
        self._folders = dict(folders)

    def __getitem__(self, county: str) -> Scenario:
        try:
            return load_scenario(self._folders[county])
        except InvalidScenario as err:
            raise InvalidScenario(
                [replace(p, file=f"{county}/{p.file}") for p in err.problems], err.by_field, err.bad_rows
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._folders)

    def __len__(self) -> int:
        return len(self._folders)


def load_region(folder: Path) -> tuple[RegionSpec, RegionCounties]:
    """region.toml and every county folder in ``folder`` (a folder holding townships.csv), by folder name.

    Raises:
        InvalidRegion: region.toml missing, unreadable, with unknown keys or values, or no county folder.
    """
    path = Path(folder) / REGION_FILE
    if not path.is_file():
        raise InvalidRegion(
            f"{path}：找不到区域设置文件，区域文件夹应有 region.toml 和每个区县一个文件夹 / "
            "not found; a region folder holds region.toml and one folder per county."
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise InvalidRegion(f"{path}：不是有效的 TOML 文件 / not valid TOML ({err}).") from None
    unknown = sorted(set(data) - REGION_KEYS)
    if unknown:
        raise InvalidRegion(
            f"{path}：未知设置 / unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(REGION_KEYS))}."
        )
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidRegion(
            f"{path}：缺少区域名称 name（如 赣州市）/ name (the region's name, e.g. 赣州市) is required."
        )
    radius = data.get("pool_radius_km", 80.0)
    if not isinstance(radius, int | float) or isinstance(radius, bool) or not 0 <= radius <= 2000:
        raise InvalidRegion(
            f"{path}：pool_radius_km 应为 0 到 2000 公里 / must be a number of km from 0 to 2000, got {radius!r}."
        )
    split = data.get("cost_split", "rider_km")
    if split not in COST_SPLITS:
        raise InvalidRegion(f"{path}：cost_split 应为 / must be one of {', '.join(COST_SPLITS)}, got {split!r}.")
    counties = {p.name: p for p in sorted(Path(folder).iterdir()) if p.is_dir() and (p / "townships.csv").is_file()}
    if not counties:
        raise InvalidRegion(
            f"{folder}：没有区县文件夹（含 townships.csv）/ no county folder (a folder with townships.csv) found."
        )
    share = data.get("share")
    groups = None
    if share is not None:
        if not isinstance(share, list) or not all(
            isinstance(g, list) and all(isinstance(c, str) for c in g) for g in share
        ):
            raise InvalidRegion(
                f"{path}：share 应为区县文件夹名的列表的列表 / share must be a list of lists of county folder names."
            )
        strangers = sorted({c for g in share for c in g} - set(counties))
        if strangers:
            raise InvalidRegion(
                f"{path}：share 中的区县文件夹不存在 / share names county folders that do not exist: "
                f"{', '.join(strangers)}."
            )
        twice = sorted(c for c, n in Counter(c for g in share for c in set(g)).items() if n > 1)
        if twice:  # its fallback travellers would be offered to two pools and could ride twice
            raise InvalidRegion(
                f"{path}：一个区县只能在一个 share 组中 / a county may be in one share group only: {', '.join(twice)}."
            )
        groups = tuple(tuple(str(c) for c in g) for g in share)
    spec = RegionSpec(name.strip(), float(radius), split, groups)
    return spec, RegionCounties(counties)


@dataclass(frozen=True, slots=True)
class CountyPlan:
    """A county's campaign with the pooled buses its travellers ride, kept packed (``campaign`` unpacks it):
    the driver holds every county of a province at once, and writes or checks one at a time."""

    county: str
    packed: bytes
    totals: dict[str, Any]  # its campaign's totals with pooling
    alone: dict[str, Any]  # its campaign's totals as planned alone

    @property
    def campaign(self) -> Campaign:
        return _unpacked(self.packed)


def _unpacked(packed: bytes) -> Campaign:
    campaign: Campaign = pickle.loads(zlib.decompress(packed))
    return campaign


def pack(campaign: Campaign) -> bytes:
    """A campaign as ``CountyPlan`` keeps it: pickled and compressed, about a fiftieth of the objects' memory."""
    return zlib.compress(pickle.dumps(campaign, protocol=pickle.HIGHEST_PROTOCOL), 1)


@dataclass(frozen=True, slots=True)
class RegionPlan:
    spec: RegionSpec
    start: dt.date
    end: dt.date
    counties: tuple[CountyPlan, ...]
    pooled: tuple[PooledBus, ...] = ()
    stats: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """region.json. A county's ``buses`` are its own coaches' buses, ``pooled_buses`` the pooled ones its
        travellers ride (a pooled bus counts in each such county); ``pooled`` lists each pooled bus once."""
        rows = []
        for c in self.counties:
            totals = c.totals
            pooled = sum(1 for p in self.pooled if c.county in p.riders)
            cost, alone = round(totals["total_cost"], 2), round(c.alone["total_cost"], 2)
            rows.append(
                {
                    "county": c.county,
                    "travellers": totals["travellers"],
                    "buses": totals["buses"]
                    - sum(1 for p in self.pooled if c.county in p.riders or p.provider == c.county),
                    "pooled_buses": pooled,
                    "cost_alone": alone,
                    "cost": cost,
                    "saving": round(alone - cost, 2),
                    **{k: round(totals[k], 2) for k in COST_KEYS},
                }
            )
        keys = ("travellers", "buses", "pooled_buses", "cost_alone", "cost", "saving", *COST_KEYS)
        totals = {k: round(sum(r[k] for r in rows), 2) for k in keys}
        pooled_rows = [
            {
                "bus_id": p.bus.bus_id,
                "date": p.date.isoformat(),
                "coach_id": p.bus.coach_id,
                "provider": p.provider,
                "vehicle_type": p.bus.vehicle_type,
                "seats": p.bus.seats,
                "load": p.bus.load,
                "area": p.bus.area,
                "distance_km": p.bus.distance_km,
                "cost": p.bus.cost,
                "counties": [
                    {
                        "county": c,
                        "riders": len(p.riders[c]),
                        "rider_km": p.rider_km[c],
                        "share": p.share[c],
                        "fallback_replaced": p.replaced[c],
                    }
                    for c in sorted(p.riders)
                ],
            }
            for p in self.pooled
        ]
        return {
            "region": self.spec.name,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "counties": rows,
            "totals": totals,
            "pooled": pooled_rows,
            "stats": self.stats,
        }


ProgressCallback = Callable[[str, int, int], None]  # what finished (a county, or pooling's area), done, in all


def plan_region(
    spec: RegionSpec,
    scenarios: Mapping[str, Scenario],
    start: dt.date,
    end: dt.date,
    time_limit_s: float = 600.0,
    ray_address: str | None = None,
    on_progress: ProgressCallback | None = None,
    retries: int = 2,
    pooling: bool = True,
) -> RegionPlan:
    """Every county's campaign as a Ray task (local Ray with this machine's cores, or the cluster at
    ``ray_address``), then pooling across counties (``pooling``), a task per pool and destination area.
    The tasks of a phase run side by side and share its part of ``time_limit_s``.

    Each county's scenario is read once (``scenarios[county]``, a ``RegionCounties`` reads it then), put into
    Ray's object store for its task and let go: this process keeps the counties' places, fleets and rules, what
    pooling needs of each campaign (``CountyOutcome``), and each campaign packed.

    Raises:
        RegionFailed: a task failed ``retries`` + 1 times; naming the county (or the pool's area).
        InvalidScenario: a county's files have problems (the tasks already started are cancelled).
    """
    import ray

    started = time.monotonic()
    started_here = not ray.is_initialized()
    if started_here:
        if ray_address:
            ray.init(address=ray_address, log_to_driver=False)
        else:
            ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False, log_to_driver=False)
    report = on_progress or _silent
    try:
        workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        campaign_s = time_limit_s * (1 - POOLING_SHARE if pooling else 1)
        per_county = max(5.0, campaign_s / math.ceil(len(scenarios) / workers))
        county_task = ray.remote(num_cpus=1, max_retries=retries)(_county_campaign)
        places: dict[str, Scenario] = {}  # each county without its travellers
        pending: dict[Any, tuple[str, str]] = {}
        try:
            for county in scenarios:  # the first tasks plan while the next counties are read
                scenario = scenarios[county]
                places[county] = replace(scenario, travellers=())
                pending[county_task.remote(ray.put(scenario), start, end, per_county)] = (county, "")
        except InvalidScenario:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
        packed: dict[str, bytes] = {}
        outcomes: dict[str, CountyOutcome] = {}
        county_task_s: dict[str, float] = {}
        for (county, _), (campaign_packed, outcome, seconds) in _gather(ray, pending, report):
            packed[county], outcomes[county], county_task_s[county] = campaign_packed, outcome, seconds
        phase1_s = time.monotonic() - started

        tasks = (
            pool_tasks(sharing_pools(places, spec.pool_radius_km, spec.share), places, outcomes, start, end)
            if pooling
            else []
        )
        results: list[PoolResult] = []
        pool_task_s: list[float] = []
        if tasks:
            per_task = max(2.0, time_limit_s * POOLING_SHARE / math.ceil(len(tasks) / workers))
            pool_task = ray.remote(num_cpus=1, max_retries=retries)(_pool_task)
            pool_pending = {pool_task.remote(t, per_task): (t.provider, _task_label(t)) for t in tasks}
            done = [r for _, r in _gather(ray, pool_pending, report)]
            results = [r for r, _ in done]
            pool_task_s = [s for _, s in done]
    finally:
        if started_here:
            ray.shutdown()
    pooled = settle(results, places, outcomes)
    counties = []
    for county in sorted(packed):  # one campaign unpacked at a time
        campaign = with_pooled(_unpacked(packed.pop(county)), county, county_name(places[county], county), pooled)
        counties.append(CountyPlan(county, pack(campaign), campaign.to_dict()["totals"], outcomes[county].totals))
    stats = {
        "campaigns_s": round(phase1_s, 1),
        "pooling_s": round(time.monotonic() - started - phase1_s, 1),
        "pool_tasks": len(tasks),
        "violations": sum(r.violations for r in results),
        # Each task's own seconds in its worker (what a cluster of any size would spend on it).
        "county_task_s": {c: round(county_task_s[c], 2) for c in sorted(county_task_s)},
        "pool_task_s": [round(s, 2) for s in pool_task_s],
    }
    return RegionPlan(spec, start, end, tuple(counties), tuple(pooled), stats)


def _gather(
    ray: Any, pending: dict[Any, tuple[str, str]], report: ProgressCallback
) -> list[tuple[tuple[str, str], Any]]:
    """Each task's result as it finishes, with progress; a task failing (after Ray's retries) cancels the rest."""
    out = []
    total = len(pending)
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        county, area = pending.pop(ready[0])
        try:
            result = ray.get(ready[0])
        except Exception as err:  # the task's own error, or its worker dying more often than retried
            for ref in pending:
                ray.cancel(ref, force=True)
            raise RegionFailed(county, err, area) from err
        out.append(((county, area), result))
        report(area or county, len(out), total)
    return out


def _task_label(task: PoolTask) -> str:
    return f"{'、'.join(task.counties)} → {task.area}"


def _silent(what: str, done: int, total: int) -> None:
    pass


# Ray names a worker process after its task's function (``ray::_county_campaign``); each returns its seconds in
# the worker too, what a cluster of any size would spend on it.


def _county_campaign(
    scenario: Scenario, start: dt.date, end: dt.date, time_limit_s: float
) -> tuple[bytes, CountyOutcome, float]:
    """One county's campaign, run in a Ray worker on its one CPU (the scenario came through the object store; a
    worker that dies is replaced and the task run again, ``max_retries`` times): packed, what pooling needs of
    it, and the task's seconds."""
    started = time.monotonic()
    campaign = plan_campaign(scenario, start, end, CampaignParams(time_limit_s=time_limit_s, workers=1))
    return pack(campaign), outcome_of(campaign), time.monotonic() - started


def _pool_task(task: PoolTask, time_limit_s: float) -> tuple[PoolResult, float]:
    """One pool's destination area, run in a Ray worker."""
    started = time.monotonic()
    return solve_pool_task(task, time_limit_s), time.monotonic() - started


SPLIT_COLUMNS = [
    ("date", "日期 date"),
    ("bus_id", "车次 bus"),
    ("coach_id", "车辆 coach"),
    ("provider", "出车区县 coach from"),
    ("county", "区县 county"),
    ("riders", "乘车人数 riders"),
    ("rider_km", "人公里 rider km"),
    ("share", "分摊费用(元) share (CNY)"),
    ("fallback_replaced", "替代的兜底费用(元) fallback replaced (CNY)"),
    ("saving", "节省(元) saving (CNY)"),
]


def cost_split_xlsx(plan: RegionPlan) -> bytes:
    """Each pooled bus's cost by county, for the finance offices: who pays what, and what it saved them."""
    rows = [
        {
            "date": bus["date"],
            "bus_id": bus["bus_id"],
            "coach_id": bus["coach_id"],
            "provider": bus["provider"],
            **c,
            "saving": round(c["fallback_replaced"] - c["share"], 2),
        }
        for bus in plan.to_dict()["pooled"]
        for c in bus["counties"]
    ]
    return table_xlsx(rows, SPLIT_COLUMNS, "拼车费用分摊 cost split")


def write_region(plan: RegionPlan, out: Path) -> None:
    """region.json, cost_split.xlsx and counties/<county>/ (each as ``fanggang campaign`` writes it), all or
    nothing."""

    def write(folder: Path) -> None:
        text = json.dumps(plan.to_dict(), ensure_ascii=False, indent=1)
        (folder / "region.json").write_text(text, encoding="utf-8")
        (folder / "cost_split.xlsx").write_bytes(cost_split_xlsx(plan))
        for c in plan.counties:
            county_folder = folder / "counties" / c.county
            county_folder.mkdir(parents=True)
            write_campaign_into(c.campaign, county_folder)

    write_atomically(Path(out), write)
