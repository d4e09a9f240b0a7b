"""Region benchmark: generated prefectures of 3, 18 or 60 counties planned on local Ray with 1 and 2 CPUs.

    python -m benchmarks.region [--counties 3,18,60] [--travellers-per-county 20000] [--workers 1,2]
                                [--time-limit 600] [--out results.csv] [--markdown PATH] [--quick]

For each size ``fixtures.region`` (seed 7) writes a region: Yudu at its real place and synthetic counties of the
fixture generator's kind on a grid of county seats 60 km apart around it, alternately of the ``fixture`` and the
``sparse`` shape, all sending to the same destination towns. Each worker count runs in a fresh process
(``benchmarks.region_run``): ``ray.init(num_cpus=W)``, ``scheduler.region.plan_region`` with the whole
``--time-limit`` and ``write_region`` into a temporary folder, as ``fanggang region`` would.

Reported per run:
- ``wall_s`` (``ray.init`` included), ``work_s`` (the tasks' own seconds, summed) and ``x_work`` = wall / (work /
  W), the target being <= 1.2 on two CPUs at 18 counties (Ray's overhead at most 20%); ``x_sim`` = wall / the
  simulated makespan of the same tasks on W workers, which leaves out what a perfect scheduler cannot avoid
  either (three equal tasks on two CPUs take two rounds);
- ``sim_8_s``, ``sim_32_s``, ``sim_128_s``: a simulation, not a measurement: the measured task times scheduled
  longest first on 8, 32 and 128 workers, phase 1 (the counties' campaigns) then phase 2 (pooling), plus this run's
  ``ray.init``; ``critical_s`` = the longest county task plus the longest pooling task, what no cluster beats.
  The tasks keep the time limits they had here (with more workers ``plan_region`` would give each more);
- ``driver_peak_mb``: peak resident memory of the driver process, once it has planned and written the region
  (target <= 2 GB at 60 counties); ``tree_peak_mb`` the driver with Ray's processes and workers;
- costs without the subsidies' difference (none: pooling changes no one's subsidy): ``cost_alone``
  (every county planned alone), ``cost`` (with pooling, after the cost split), ``x_alone`` = cost / cost_alone;
  ``fallback_replaced`` and ``pooled_coach_cost``: the saving is the one minus the other; ``counties_above_alone``
  must be 0 (no county pays more than alone); ``violations`` from the campaign checker on every county's plan with
  its pooled buses, and the day checker on every pooled bus.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks.county import write_csv

START, END = "2026-02-18", "2026-03-10"  # the generator's 21 departure dates
SIMULATED_WORKERS = (8, 32, 128)
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "region.csv"
COLUMNS = [
    "counties", "travellers", "workers", "time_limit_s", "wall_s", "init_s", "campaigns_s", "pooling_s", "work_s",
    "x_work", "x_sim",
    *(f"sim_{w}_s" for w in SIMULATED_WORKERS), "critical_s", "driver_peak_mb", "tree_peak_mb", "cost_alone",
    "cost", "saving", "x_alone", "pooled_buses", "pooled_riders", "fallback_replaced", "pooled_coach_cost",
    "counties_above_alone", "violations", "notes",
]  # fmt: skip


def makespan(durations: Sequence[float], workers: int) -> float:
    """Longest-first list scheduling of independent tasks on ``workers`` (within 4/3 of the best schedule)."""
    free = [0.0] * max(1, workers)
    for d in sorted(durations, reverse=True):
        heapq.heappush(free, heapq.heappop(free) + d)
    return max(free)


def simulated_wall(init_s: float, county_s: list[float], pool_s: list[float], workers: int) -> float:
    """Phase 1's tasks, then phase 2's, on ``workers``, after ``ray.init``."""
    return init_s + makespan(county_s, workers) + makespan(pool_s, workers)


def with_figures(row: dict) -> dict:
    """The run's own measurements with the ratios and the simulation derived from them."""
    county_s, pool_s = list(row.pop("county_task_s").values()), row.pop("pool_task_s")
    work = sum(county_s) + sum(pool_s)
    row["work_s"] = round(work, 1)
    row["x_work"] = round(row["wall_s"] / (work / row["workers"]), 3) if work else ""
    row["x_sim"] = round(row["wall_s"] / simulated_wall(row["init_s"], county_s, pool_s, row["workers"]), 3)
    for w in SIMULATED_WORKERS:
        row[f"sim_{w}_s"] = round(simulated_wall(row["init_s"], county_s, pool_s, w), 1)
    row["critical_s"] = round(max(county_s, default=0) + max(pool_s, default=0), 1)
    row["saving"] = round(row["cost_alone"] - row["cost"], 2)
    row["x_alone"] = round(row["cost"] / row["cost_alone"], 4) if row["cost_alone"] else ""
    return row


def run_workers(folder: Path, workers: int, time_limit_s: float, work: Path) -> dict:
    out = work / f"run-{workers}.json"
    args = [str(folder), START, END, str(workers), str(time_limit_s), str(out)]
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.region_run", *args],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=3 * time_limit_s + 900,
    )
    if done.returncode != 0 or not out.exists():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"workers": workers, "notes": "failed: " + " | ".join(tail), "wall_s": time.monotonic() - started}
    return with_figures(json.loads(out.read_text(encoding="utf-8")))


def bench(
    counties: int, per_county: int, workers: list[int], time_limit_s: float, say: Callable[[str], None]
) -> list[dict]:
    from fixtures.region import write_region_folder

    with tempfile.TemporaryDirectory(prefix="region-bench-") as tmp:
        folder = Path(tmp) / "region"
        write_region_folder(folder, counties, per_county)
        rows = []
        for w in workers:
            say(f"{counties} counties x {per_county} travellers on {w} CPU(s) ...")
            row = run_workers(folder, w, time_limit_s, Path(tmp))
            rows.append({"counties": counties, "time_limit_s": time_limit_s, **row})
    return rows


def markdown(rows: list[dict]) -> str:
    keys = ["counties", "travellers", "workers", "wall_s", "work_s", "x_work", "x_sim", "sim_8_s", "sim_32_s",
            "sim_128_s", "critical_s", "driver_peak_mb", "tree_peak_mb", "cost_alone", "cost", "x_alone",
            "pooled_buses", "pooled_riders", "counties_above_alone", "violations"]  # fmt: skip
    out = [
        f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        "",
        "| " + " | ".join(keys) + " |",
        "|" + "---|" * len(keys),
    ]
    for r in rows:
        cells = [f"{r[k]:,.0f}" if k.startswith("cost") and isinstance(r.get(k), float) else str(r.get(k, ""))
                 for k in keys]  # fmt: skip
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.region", description=__doc__.splitlines()[0])
    parser.add_argument("--counties", default="3,18,60", help="region sizes, comma-separated")
    parser.add_argument("--travellers-per-county", type=int, default=20000)
    parser.add_argument("--workers", default="1,2", help="Ray CPUs, comma-separated")
    parser.add_argument("--time-limit", type=float, default=600.0, help="seconds per region, as fanggang region")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV to write")
    parser.add_argument("--markdown", type=Path, help="also write the table as markdown")
    parser.add_argument("--quick", action="store_true", help="3 counties of 400 travellers, 20 s (CI)")
    args = parser.parse_args(argv)
    try:
        sizes = [3] if args.quick else [int(x) for x in args.counties.split(",")]
        workers = [int(x) for x in args.workers.split(",")]
    except ValueError:
        parser.error("--counties and --workers take whole numbers, comma-separated, e.g. 3,18,60")
    if min(sizes + workers) < 1 or args.travellers_per_county < 1 or args.time_limit <= 0:
        parser.error("counties, workers, travellers per county and the time limit must be positive")
    per_county = 400 if args.quick else args.travellers_per_county
    limit = 20.0 if args.quick else args.time_limit

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    rows = [r for n in sizes for r in bench(n, per_county, workers, limit, say)]
    write_csv(rows, args.out, COLUMNS)
    table = markdown(rows)
    if args.markdown:
        args.markdown.write_text(table, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
