"""County benchmark: fanggang's plan of a generated county's busiest day against a dispatcher's manual plan,
pyvroom and PyVRP on the same pooled flows, and a lower bound.

    python -m benchmarks.county [--travellers 5000,20000,100000] [--time-limit 30] [--out results.csv]
                                [--quick] [--markdown PATH] [--methods fanggang,baseline,vroom,pyvrp,bound]

For each size the fixture generator (``fixtures.generate``, seed 7) writes a county to a temporary folder; every
method then plans the same busiest day in a fresh process of its own (``benchmarks.county_run``), one at a
time, and reports total cost (charter + reimbursement + tickets + subsidies, as ``Plan.totals``), buses, seat
fill, km, wall time and peak memory, each also as a ratio to fanggang's measured in the same run.

Methods (details in ``benchmarks.county_methods``):

- ``fanggang``: ``scheduler.solve.solve(problem, SolveParams(time_limit_s=T))``.
- ``baseline``: one bus per township-factory flow of at least ``charter_min_group`` travellers, largest coaches
  first and the remainder on the smallest coach that fits (a remainder below the threshold is reimbursed);
  everyone else on the policy fallback (``reimburse_per_km`` x township-factory km per person); the fleet's
  counts respected; priced with the county's cost rules.
- ``vroom`` / ``pyvrp``: the planner's pipeline reproduced through public functions (``form_parties`` ->
  ``peel_direct_buses`` -> ``cluster_factories`` -> ``allocate_fleet`` -> ``bundle_for_pooling``); each peer
  routes the pooled tasks of each destination area with the same seats, per-type fixed and per-km costs
  (integers, no precision lost), gate hours and the policy alternative as the cost of leaving a task off
  (PyVRP: prize; VROOM cannot state it). The direct coaches are the same for both. Time budget: T shared over
  the areas by size. What each can express is stated in the table (``expresses``).
- ``bound``: a lower bound of the cost of any plan under the same rules, the larger of two relaxations: a
  HiGHS MIP over coaches per (destination area, cost class of flows, number of loads) whose dual bound is
  reported, and the configuration LP over whole coach loads (``county_bound``), both counting coaches that
  unload and board again as far as the route span allows. The proofs are in ``county_methods.aggregate_bound``
  and ``county_bound``.

Every plan is re-priced and checked twice: by the planner's own ``scheduler.check.check_plan`` (whose counts are
reported: stop-limit violations apart, the others by kind) and by the independent ``benchmarks.check.
check_county_plan`` (seats, pairing and places, each traveller once, groups kept whole, stop limits by place,
one destination area, the plan's own times against gates and drives, time on board, charter threshold, fleet);
``checkers_agree`` says whether both find the plan valid or both find it broken. ``big_flow_fallback`` ("big
flows off" in the markdown) counts the travellers of township-factory flows at or above the charter threshold
whom a plan sends by township transport or ticket, which the county's rule does not allow while coaches last.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from benchmarks.county_methods import PEER_EXPRESSES

METHODS = ("fanggang", "baseline", "vroom", "pyvrp", "bound")
BOUND_S = 240.0  # a minute for the aggregate MIP, the rest for the configuration LP
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "county.csv"
COLUMNS = [
    "travellers",
    "day_travellers",
    "date",
    "method",
    "version",
    "time_limit_s",
    "cost",
    "cost_ratio",
    "buses",
    "buses_ratio",
    "seat_fill",
    "seat_fill_ratio",
    "km",
    "km_ratio",
    "wall_s",
    "wall_s_ratio",
    "peak_mb",
    "peak_mb_ratio",
    "on_buses",
    "charter_cost",
    "fallback_cost",
    "big_flow_fallback",
    "stop_violations",
    "other_violations",
    "checkers_agree",
    "reprice_diff",
    "expresses",
    "notes",
]


def versions() -> dict[str, str]:
    def v(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "?"

    return {
        "fanggang": f"fanggang {v('fanggang')} (ortools {v('ortools')})",
        "baseline": "manual baseline",
        "vroom": f"pyvroom {v('pyvroom')}",
        "pyvrp": f"pyvrp {v('pyvrp')}",
        "bound": f"highspy {v('highspy')}, numba {v('numba')}",
    }


def set_rules(policy: Path, rules: Sequence[str]) -> None:
    """Put ``key = value`` settings (TOML values) at the top of a policy.toml, before its tables."""
    if rules:
        policy.write_text("\n".join(rules) + "\n" + policy.read_text(encoding="utf-8"), encoding="utf-8")


def run_method(method: str, scenario: Path, time_limit_s: float, work: Path) -> dict:
    """Run one method in a fresh Python process and read back its measurements."""
    out = work / f"{method}.json"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.county_run", method, str(scenario), str(time_limit_s), str(out)],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=3 * time_limit_s + 300,
    )
    if done.returncode != 0 or not out.exists():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"method": method, "notes": "failed: " + " | ".join(tail), "process_s": time.monotonic() - started}
    row = json.loads(out.read_text(encoding="utf-8"))
    row["process_s"] = round(time.monotonic() - started, 2)
    return row


def bench_size(
    travellers: int, time_limit_s: float, methods: list[str], say, rules: Sequence[str] = (), seed: int = 7
) -> list[dict]:
    from fixtures.generate import write_scenario

    with tempfile.TemporaryDirectory(prefix="county-bench-") as tmp:
        scenario = Path(tmp) / "scenario"
        write_scenario(scenario, travellers=travellers, seed=seed)
        set_rules(scenario / "policy.toml", rules)
        rows = []
        for method in methods:
            say(f"{travellers} travellers: {method} ...")
            # The bound is not a planner racing the clock: it gets at least four minutes to tighten.
            limit = time_limit_s if method != "bound" or time_limit_s < 10 else max(BOUND_S, time_limit_s)
            row = run_method(method, scenario, limit, Path(tmp))
            row["travellers"] = travellers
            rows.append(row)
    return finish_rows(rows, time_limit_s)


def finish_rows(rows: list[dict], time_limit_s: float) -> list[dict]:
    """Ratios to fanggang's figures from the same run, and the flat CSV fields."""
    names = versions()
    ref = next((r for r in rows if r.get("method") == "fanggang" and "cost" in r), None)
    out = []
    for r in rows:
        checked = "violations" in r
        v = r.get("violations") or {}
        independent = r.get("independent_violations") or {}
        flat = {
            "travellers": r["travellers"],
            "day_travellers": r.get("day_travellers", ""),
            "date": r.get("date", ""),
            "method": r["method"],
            "version": names.get(r["method"], ""),
            "time_limit_s": time_limit_s,
            "cost": r.get("cost", ""),
            "buses": r.get("buses", ""),
            "seat_fill": r.get("seat_fill", ""),
            "km": r.get("km", ""),
            "wall_s": r.get("wall_s", ""),
            "peak_mb": r.get("peak_mb", ""),
            "on_buses": r.get("on_buses", ""),
            "charter_cost": r.get("charter_cost", ""),
            "fallback_cost": r.get("fallback_cost", ""),
            "big_flow_fallback": r.get("big_flow_fallback", ""),
            "stop_violations": v.get("stops", 0) if checked else "",
            "other_violations": ";".join(f"{k}={n}" for k, n in sorted(v.items()) if n and k != "stops"),
            # The planner's checker and the independent one (benchmarks/check.py) agree whether the plan is valid.
            "checkers_agree": (bool(v) == any(independent.values())) if checked else "",
            "reprice_diff": r.get("reprice_diff", ""),
            "expresses": PEER_EXPRESSES.get(r["method"], ""),
            "notes": r.get("notes", ""),
        }
        for key in ("cost", "buses", "seat_fill", "km", "wall_s", "peak_mb"):
            mine, theirs = r.get(key), (ref or {}).get(key)
            ok = isinstance(mine, (int, float)) and isinstance(theirs, (int, float)) and theirs
            flat[f"{key}_ratio"] = round(mine / theirs, 3) if ok else ""
        out.append(flat)
    return out


def write_csv(rows: list[dict], path: Path, columns: Sequence[str] = COLUMNS) -> None:
    """``columns`` of ``rows`` (blank where a row has none), with a header."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in columns})


def summary_lines(rows: list[dict]) -> list[str]:
    """Per size: fanggang against the best peer (with and without stop-limit violations) and the bound."""
    lines = []
    for size in sorted({r["travellers"] for r in rows}):
        mine = {r["method"]: r for r in rows if r["travellers"] == size}
        fg = mine.get("fanggang")
        if not fg or not isinstance(fg.get("cost"), (int, float)):
            continue
        peers = [mine[m] for m in ("vroom", "pyvrp") if m in mine and isinstance(mine[m].get("cost"), (int, float))]
        clean = [p for p in peers if p.get("stop_violations") == 0]
        parts = [f"{size} travellers: fanggang {fg['cost']:,.0f} CNY in {fg['wall_s']} s"]
        if peers:
            best = min(peers, key=lambda p: p["cost"])
            parts.append(f"x{fg['cost'] / best['cost']:.3f} of the best peer ({best['method']})")
        if clean:
            best = min(clean, key=lambda p: p["cost"])
            parts.append(f"x{fg['cost'] / best['cost']:.3f} of the best peer within the stop limits ({best['method']})")
        bound = mine.get("bound")
        if bound and isinstance(bound.get("cost"), (int, float)) and bound["cost"] > 0:
            parts.append(f"x{fg['cost'] / bound['cost']:.3f} of the lower bound")
        lines.append("; ".join(parts))
    return lines


def markdown(rows: list[dict]) -> str:
    head = ["travellers", "method", "cost CNY", "x fanggang", "buses", "seat fill", "km", "wall s", "peak MB",
            "big flows off", "stop viol.", "can express"]  # fmt: skip
    out = [
        f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        + ", ".join(versions().values())
        + ".",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for r in rows:
        out.append(
            "| "
            + " | ".join(
                str(x)
                for x in (
                    r["travellers"],
                    r["method"],
                    f"{r['cost']:,.0f}" if isinstance(r["cost"], (int, float)) else r["cost"],
                    r["cost_ratio"],
                    r["buses"],
                    r["seat_fill"],
                    r["km"],
                    r["wall_s"],
                    r["peak_mb"],
                    r["big_flow_fallback"],
                    r["stop_violations"],
                    r["expresses"],
                )
            )
            + " |"
        )
    out += ["", *summary_lines(rows)]
    return "\n".join(out) + "\n"


def print_table(rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="County benchmark (ratios are to fanggang in the same run)")
    for name in ("travellers", "method", "cost", "x", "buses", "fill", "km", "wall s", "x", "peak MB", "stop viol."):
        table.add_column(name, justify="right" if name not in ("method",) else "left")
    for r in rows:
        table.add_row(
            str(r["travellers"]),
            r["method"],
            f"{r['cost']:,.0f}" if isinstance(r["cost"], (int, float)) else str(r["cost"]),
            str(r["cost_ratio"]),
            str(r["buses"]),
            str(r["seat_fill"]),
            str(r["km"]),
            str(r["wall_s"]),
            str(r["wall_s_ratio"]),
            str(r["peak_mb"]),
            str(r["stop_violations"]),
        )
    console = Console(width=max(Console().width, 140))
    console.print(table)
    for line in summary_lines(rows):
        console.print(line)
    for r in rows:
        if r["notes"] or r["other_violations"]:
            console.print(f"[dim]{r['travellers']} {r['method']}: {r['notes']} {r['other_violations']}[/dim]")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.county", description=__doc__.splitlines()[0])
    parser.add_argument("--travellers", default="5000,20000,100000", help="county sizes, comma-separated")
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per method and size")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV to write")
    parser.add_argument("--quick", action="store_true", help="one 2,000-traveller county, a few seconds each (CI)")
    parser.add_argument("--markdown", type=Path, help="also write a markdown table here")
    parser.add_argument("--methods", default=",".join(METHODS), help="subset of " + ",".join(METHODS))
    parser.add_argument(
        "--rule",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a policy.toml setting for the generated county, e.g. 'threshold_is_entitlement = false' (repeatable)",
    )
    parser.add_argument("--seed", type=int, default=7, help="the fixture generator's seed (7: the fixture county)")
    args = parser.parse_args(argv)
    for rule in args.rule:
        if "=" not in rule:
            parser.error(f"--rule: expected KEY=VALUE, got {rule!r}")
    sizes = [2000] if args.quick else [int(s) for s in args.travellers.split(",") if s.strip()]
    limit = 3.0 if args.quick else args.time_limit
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        parser.error(f"unknown methods {unknown}; choose from {', '.join(METHODS)}")
    rows: list[dict] = []
    for size in sizes:
        say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
        rows.extend(bench_size(size, limit, methods, say, args.rule, args.seed))
        write_csv(rows, args.out)
    print_table(rows)
    print(f"wrote {args.out}")
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown(rows), encoding="utf-8")
        print(f"wrote {args.markdown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
