"""Campaign benchmark: the whole return season of a generated county, planned four ways, each in a fresh process.

    python -m benchmarks.campaign [--travellers 20000,100000] [--shape fixture,sparse] [--time-limit 120]
                                  [--methods day_by_day,manual,campaign,bound] [--out results.csv]
                                  [--markdown PATH] [--quick]

For each size and shape the fixture generator (``fixtures.generate``, seed 7; ``--shape sparse``: two factories in
every destination town, small parties, most township-factory flows below a coach load) writes a county; the
campaign runs from the first earliest date to the last report date. Methods (``benchmarks.campaign_methods``):

- ``day_by_day``: today's behaviour, with coach returns counted: the earliest date is planned with everyone who
  can leave on it, published, and so on (``plan_campaign`` with ``choose_dates=False``: everybody leaves on the
  first date they can);
- ``manual``: each township-factory flow fills coaches around the date most of its travellers can take, smallest
  coach that fits, the rest reimbursed;
- ``campaign``: ``fanggang campaign`` (``scheduler.campaign.plan_campaign``);
- ``bound``: a lower bound of any campaign plan's cost (the county day bound of the merged day; its proof is in
  ``benchmarks.campaign_methods``).

Costs are charter + reimbursement + tickets, without the subsidies (the same for every plan that places the same
people). Each plan passes the independent checker (``benchmarks.campaign_check``): its violations are reported.
Ratios are to day_by_day and to the bound measured in the same run.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.county import write_csv

METHODS = ("day_by_day", "manual", "campaign", "bound")
BOUND_S = 240.0  # the bound is not a planner racing the clock: it gets at least four minutes on a full run
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "campaign.csv"
COLUMNS = [
    "travellers",
    "shape",
    "from",
    "to",
    "method",
    "time_limit_s",
    "cost",
    "x_day_by_day",
    "x_bound",
    "buses",
    "on_buses",
    "fallback",
    "overdue",
    "seat_fill",
    "wait_person_days",
    "coaches_used",
    "wall_s",
    "peak_mb",
    "violations",
    "notes",
]


def season(scenario: Path) -> tuple[dt.date, dt.date]:
    """The first earliest date and the last report date of the county's registrations."""
    with (scenario / "travellers.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    return (
        min(dt.date.fromisoformat(r["earliest_date"]) for r in rows),
        max(dt.date.fromisoformat(r["report_date"]) for r in rows),
    )


def run_method(method: str, scenario: Path, start: dt.date, end: dt.date, time_limit_s: float, work: Path) -> dict:
    out = work / f"{method}.json"
    started = time.monotonic()
    args = [method, str(scenario), start.isoformat(), end.isoformat(), str(time_limit_s), str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.campaign_run", *args],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=3 * time_limit_s + 600,
    )
    if done.returncode != 0 or not out.exists():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"method": method, "notes": "failed: " + " | ".join(tail), "process_s": time.monotonic() - started}
    return json.loads(out.read_text(encoding="utf-8"))


def bench(
    travellers: int, shape: str, time_limit_s: float, methods: list[str], say: Callable[[str], None], seed: int = 7
) -> list[dict]:
    from fixtures.generate import write_scenario

    with tempfile.TemporaryDirectory(prefix="campaign-bench-") as tmp:
        scenario = Path(tmp) / "scenario"
        write_scenario(scenario, travellers=travellers, seed=seed, shape=shape)
        start, end = season(scenario)
        rows = []
        for method in methods:
            say(f"{travellers} travellers, {shape}: {method} ...")
            limit = max(BOUND_S, time_limit_s) if method == "bound" and time_limit_s >= 10 else time_limit_s
            row = run_method(method, scenario, start, end, limit, Path(tmp))
            rows.append({**row, "travellers": travellers, "shape": shape, "from": start.isoformat(),
                         "to": end.isoformat(), "time_limit_s": limit})  # fmt: skip
    return with_ratios(rows)


def with_ratios(rows: list[dict]) -> list[dict]:
    """Each cost as a ratio to day_by_day's and to the bound's of the same run."""
    cost = {r["method"]: r.get("cost") for r in rows}
    for r in rows:
        for key, ref in (("x_day_by_day", cost.get("day_by_day")), ("x_bound", cost.get("bound"))):
            mine = r.get("cost")
            ok = isinstance(mine, (int, float)) and isinstance(ref, (int, float)) and ref > 0
            r[key] = round(mine / ref, 3) if ok else ""
        if isinstance(r.get("violations"), dict):
            r["violations"] = sum(r["violations"].values())
    return rows


def markdown(rows: list[dict]) -> str:
    head = ["travellers", "shape", "method", "cost CNY", "x day-by-day", "x bound", "buses", "seat fill",
            "fallback", "wait person-days", "wall s", "peak MB", "violations"]  # fmt: skip
    keys = ["travellers", "shape", "method", "cost", "x_day_by_day", "x_bound", "buses", "seat_fill", "fallback",
            "wait_person_days", "wall_s", "peak_mb", "violations"]  # fmt: skip
    out = [
        f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for r in rows:
        cells = [
            f"{r[k]:,.0f}" if k == "cost" and isinstance(r.get(k), (int, float)) else str(r.get(k, "")) for k in keys
        ]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.campaign", description=__doc__.splitlines()[0])
    parser.add_argument("--travellers", default="20000", help="county sizes, comma-separated")
    parser.add_argument("--shape", default="fixture,sparse", help="county shapes, comma-separated")
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds per method, size and shape")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV to write")
    parser.add_argument("--markdown", type=Path, help="also write the table as markdown")
    parser.add_argument("--quick", action="store_true", help="1,500-traveller counties, a few seconds each (CI)")
    args = parser.parse_args(argv)
    sizes = [1500] if args.quick else [int(x) for x in args.travellers.split(",")]
    limit = 5.0 if args.quick else args.time_limit
    methods = [m for m in args.methods.split(",") if m]
    unknown = set(methods) - set(METHODS)
    if unknown:
        parser.error(f"unknown methods {sorted(unknown)}; choose from {', '.join(METHODS)}")

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    rows = [r for n in sizes for shape in args.shape.split(",") for r in bench(n, shape, limit, methods, say)]
    write_csv(rows, args.out, COLUMNS)
    table = markdown(rows)
    if args.markdown:
        args.markdown.write_text(table, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
