"""Run one county benchmark method in this (fresh) process and write its measurements as JSON.

    python -m benchmarks.county_run METHOD SCENARIO_DIR TIME_LIMIT_S OUT.json

The parent (``benchmarks.county``) starts one such process per method and size, so that each method's peak
memory is its own: the peak of the summed resident memory of this process and its children (sampled every
50 ms from /proc), and never below this process's own ``ru_maxrss``.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time
from collections import Counter
from pathlib import Path


class PeakMemory:
    """Samples the resident memory of this process tree in a background thread."""

    def __init__(self, every_s: float = 0.05) -> None:
        self.every_s = every_s
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kb = max(self.peak_kb, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)

    @property
    def peak_mb(self) -> float:
        return self.peak_kb / 1024

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, _tree_rss_kb(os.getpid()))
            self._stop.wait(self.every_s)


def _tree_rss_kb(pid: int) -> int:
    total = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def run(method: str, scenario: Path, time_limit_s: float) -> dict:
    from benchmarks import county_methods as m
    from benchmarks.check import check_county_plan
    from benchmarks.county_day import load_day, reprice
    from scheduler.check import check_plan

    with PeakMemory() as memory:
        started = time.monotonic()
        day = load_day(scenario)
        load_s = time.monotonic() - started
        if method == "fanggang":
            result = m.run_fanggang(day, time_limit_s)
        elif method == "baseline":
            result = m.run_baseline(day)
        elif method in ("vroom", "pyvrp"):
            result = m.run_peer(day, method, time_limit_s)
        elif method == "bound":
            result = m.lower_bound(day, time_limit_s)
        else:
            raise SystemExit(f"Unknown method {method!r}.")
    row: dict = {
        "method": method,
        "date": day.problem.date.isoformat(),
        "day_travellers": len(day.problem.travellers),
        "wall_s": round(result.wall_s, 2),
        "load_s": round(load_s, 2),
        "peak_mb": round(memory.peak_mb, 1),
        "notes": result.notes,
    }
    if result.plan is not None:
        totals = result.plan.totals
        row.update(
            cost=totals.total_cost,
            charter_cost=totals.charter_cost,
            fallback_cost=round(totals.reimbursement_cost + totals.ticket_cost, 2),
            buses=totals.buses,
            on_buses=totals.on_buses,
            seat_fill=totals.seat_fill,
            km=totals.distance_km,
            big_flow_fallback=big_flow_fallback(day, result.plan),
        )
        # The planner's checker, and the independent one that checks it.
        row["violations"] = dict(Counter(v.kind for v in check_plan(day.problem, result.plan)))
        row["independent_violations"] = check_county_plan(day, result.plan)
        repriced = sum(reprice(day, b) for b in result.plan.buses)
        row["reprice_diff"] = round(repriced - totals.charter_cost, 2)
    else:
        row.update(cost=round(result.bound_cny or 0.0, 2))
    return row


def big_flow_fallback(day, plan) -> int:
    """Travellers of a township-factory flow at or above the charter threshold whom the plan sends by township
    transport or ticket (the county's rule gives them a bus; the unplaced, whom no coach can reach, not counted)."""
    off = [day.travellers[line.traveller_id] for line in plan.fallback if line.mode != "unplaced"]
    return sum(day.flow_sizes[(t.township_id, t.factory_id)] >= day.rules.charter_min_group for t in off)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    method, scenario, limit, out = args
    row = run(method, Path(scenario), float(limit))
    Path(out).write_text(json.dumps(row, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
