"""Plan one generated region on local Ray with a given number of CPUs, in this (fresh) process; write JSON.

    python -m benchmarks.region_run REGION_DIR FROM TO WORKERS TIME_LIMIT_S OUT.json

The parent (``benchmarks.region``) starts one such process per region size and worker count. Measured here: the
wall time of ``ray.init`` and of ``plan_region``; the peak resident memory of this driver process alone
(``ru_maxrss`` after it has planned and written the region, as ``fanggang region`` does, before the checker
reads every county back) and of its whole process tree (Ray's raylet, object store and workers, sampled by
``benchmarks.county_run.PeakMemory``); each task's own seconds (``plan_region``'s ``county_task_s`` and
``pool_task_s``); the costs with and without pooling; and every county's plan, pooled buses included, through
the independent region checker (``benchmarks.region_check``).
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.county_run import PeakMemory


def run(folder: Path, start: dt.date, end: dt.date, workers: int, time_limit_s: float) -> dict:
    import ray

    from benchmarks.region_check import check_region
    from scheduler.region import load_region, plan_region, write_region

    spec, scenarios = load_region(folder)
    with PeakMemory() as memory:
        started = time.monotonic()
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        init_s = time.monotonic() - started
        try:
            plan = plan_region(spec, scenarios, start, end, time_limit_s)
        finally:
            ray.shutdown()
        wall_s = time.monotonic() - started
        with tempfile.TemporaryDirectory() as out:
            write_region(plan, Path(out) / "region")
    driver_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    region = plan.to_dict()
    violations = check_region({c: scenarios[c] for c in scenarios}, plan)
    replaced = sum(c["fallback_replaced"] for p in region["pooled"] for c in p["counties"])
    return {
        "counties": len(scenarios),
        "travellers": region["totals"]["travellers"],
        "workers": workers,
        "init_s": round(init_s, 2),
        "wall_s": round(wall_s, 2),
        "driver_peak_mb": round(driver_peak_mb, 1),
        "tree_peak_mb": round(memory.peak_mb, 1),
        "campaigns_s": region["stats"]["campaigns_s"],
        "pooling_s": region["stats"]["pooling_s"],
        "county_task_s": region["stats"]["county_task_s"],
        "pool_task_s": region["stats"]["pool_task_s"],
        "cost_alone": region["totals"]["cost_alone"],
        "cost": region["totals"]["cost"],
        "pooled_buses": len(region["pooled"]),
        "pooled_riders": sum(c["riders"] for p in region["pooled"] for c in p["counties"]),
        "fallback_replaced": round(replaced, 2),
        "pooled_coach_cost": round(sum(p["cost"] for p in region["pooled"]), 2),
        "counties_above_alone": sum(1 for c in region["counties"] if c["cost"] > c["cost_alone"] + 0.005),
        "violations": sum(violations.values()),
        "notes": ", ".join(f"{k}={n}" for k, n in violations.items() if n),
    }


def main(argv: list[str] | None = None) -> int:
    folder, start, end, workers, limit, out = sys.argv[1:] if argv is None else argv
    row = run(Path(folder), dt.date.fromisoformat(start), dt.date.fromisoformat(end), int(workers), float(limit))
    Path(out).write_text(json.dumps(row, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
