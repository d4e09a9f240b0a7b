"""Li & Lim PDPTW benchmark: fanggang's pickup-and-delivery model against PyVRP, VROOM and nextroute.

    python -m benchmarks.lilim [--instances lc101,lr2,PATH.txt,...] [--solvers fanggang,pyvrp,vroom,nextroute]
                               [--time-limit 30] [--out results.csv] [--quick] [--markdown PATH]

Each solve runs in a fresh subprocess (so its peak memory is its own), one solver at a time, and every
result is re-checked by ``benchmarks.check`` against the instance file.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from benchmarks.check import check_solution
from benchmarks.lilim_data import read_bks, read_instance, resolve_instances

SOLVERS = ("fanggang", "pyvrp", "vroom", "nextroute")
# How the tables name a solver: "fanggang" spends most of its budget in PyVRP's search (see lilim_fanggang).
LABELS = {"fanggang": "fanggang (PyVRP-seeded)", "fanggang-own": "fanggang-own (no peer)"}
# Not run by default, to show what the warm starts contribute: fanggang from OR-Tools' own first solutions
# only, and with VROOM's routes instead of PyVRP's.
EXTRA_SOLVERS = ("fanggang-own", "fanggang-vroom")
QUICK_INSTANCES = "lc101,lr201"
QUICK_TIME_LIMIT_S = 3.0
COLUMNS = [
    "instance",
    "solver",
    "version",
    "time_limit_s",
    "vehicles",
    "distance",
    "bks_vehicles",
    "bks_distance",
    "gap_pct",
    "wall_s",
    "peak_mb",
    "feasible",
    "note",
]
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "lilim.csv"


def solver_version(solver: str) -> str | None:
    if solver.startswith("fanggang"):
        return f"{version('fanggang')}+ortools-{version('ortools')}"
    from benchmarks.lilim_peers import peer_version

    return peer_version(solver)


def solve_in_this_process(solver: str, path: Path, time_limit_s: float) -> dict:
    """Solve one instance here; returns routes, note and the peak RSS of this process and its children."""
    instance = read_instance(path)
    started = time.monotonic()
    if solver.startswith("fanggang"):
        from benchmarks.lilim_fanggang import OWN_VARIANTS, VARIANTS, VROOM_VARIANTS, solve_lilim

        variants = {"fanggang-own": OWN_VARIANTS, "fanggang-vroom": VROOM_VARIANTS}.get(solver, VARIANTS)
        routes, winner = solve_lilim(instance, time_limit_s, variants)
        note = f"best variant: {winner}"
    else:
        from benchmarks import lilim_peers

        routes, note = getattr(lilim_peers, f"solve_{solver}")(instance, time_limit_s)
    wall_s = time.monotonic() - started
    # ru_maxrss is in KiB on Linux; children = the largest search process or solver binary it started.
    peak_kib = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    )
    return {"routes": routes, "note": note, "wall_s": wall_s, "peak_mb": peak_kib / 1024}


@dataclass
class Row:
    instance: str
    solver: str
    version: str
    time_limit_s: float
    vehicles: int | None = None
    distance: float | None = None
    bks_vehicles: int | None = None
    bks_distance: float | None = None
    gap_pct: float | None = None
    wall_s: float | None = None
    peak_mb: float | None = None
    feasible: bool | None = None
    note: str = ""

    def as_csv(self) -> dict[str, str]:
        def fmt(value: object, digits: int = 2) -> str:
            if value is None:
                return ""
            if isinstance(value, float):
                return f"{value:.{digits}f}"
            return str(value)

        return {
            "instance": self.instance,
            "solver": self.solver,
            "version": self.version,
            "time_limit_s": fmt(self.time_limit_s, 1),
            "vehicles": fmt(self.vehicles),
            "distance": fmt(self.distance),
            "bks_vehicles": fmt(self.bks_vehicles),
            "bks_distance": fmt(self.bks_distance, 4),
            "gap_pct": fmt(self.gap_pct),
            "wall_s": fmt(self.wall_s, 1),
            "peak_mb": fmt(self.peak_mb, 0),
            "feasible": "" if self.feasible is None else str(self.feasible).lower(),
            "note": self.note,
        }


def run_one(solver: str, path: Path, time_limit_s: float, bks: dict) -> Row:
    """Solve in a fresh subprocess, then check the routes independently."""
    instance = read_instance(path)
    best = bks.get(instance.name)
    row = Row(instance.name, solver, solver_version(solver) or "", time_limit_s)
    if best is not None:
        row.bks_vehicles, row.bks_distance = best.vehicles, best.distance
    if not row.version:
        row.note = "unavailable: not installed"
        return row
    command = [sys.executable, "-m", "benchmarks.lilim", "--worker", solver, str(path), str(time_limit_s)]
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=3 * time_limit_s + 120, cwd=Path(__file__).parents[1]
        )
    except subprocess.TimeoutExpired:
        row.wall_s, row.feasible, row.note = time.monotonic() - started, False, "timed out"
        return row
    if done.returncode != 0 or not done.stdout.strip():
        row.feasible = False
        row.note = "failed: " + (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
        return row
    result = json.loads(done.stdout.strip().splitlines()[-1])
    row.wall_s, row.peak_mb = result["wall_s"], result["peak_mb"]
    if result["note"].startswith("skipped"):
        row.note = result["note"]
        return row
    checked = check_solution(instance, result["routes"])
    row.vehicles, row.distance, row.feasible = checked.vehicles, checked.distance, checked.feasible
    notes = [result["note"]] if result["note"] else []
    if not checked.feasible:
        notes.append("INFEASIBLE: " + "; ".join(checked.problems[:3]))
    if best is not None:
        gap_pct = 100 * (checked.distance / best.distance - 1)
        # BKS distances have 4 decimals: equal to BKS prints 0.00, not -0.00.
        row.gap_pct = 0.0 if abs(gap_pct) < 0.005 else gap_pct
        if checked.vehicles != best.vehicles:
            notes.append(f"{checked.vehicles - best.vehicles:+d} vehicles vs BKS")
    row.note = "; ".join(notes)
    return row


def row_from_csv(record: dict[str, str]) -> Row:
    """A row as written by ``Row.as_csv`` (for summarising earlier runs)."""

    def number(key: str, kind: type = float):
        return kind(record[key]) if record.get(key) else None

    gap = number("gap_pct")
    return Row(
        record["instance"],
        record["solver"],
        record["version"],
        float(record["time_limit_s"]),
        number("vehicles", int),
        number("distance"),
        number("bks_vehicles", int),
        number("bks_distance"),
        0.0 if gap is not None and abs(gap) < 0.005 else gap,
        number("wall_s"),
        number("peak_mb"),
        None if not record.get("feasible") else record["feasible"] == "true",
        record.get("note", ""),
    )


def better(a: Row, b: Row) -> bool:
    """Whether ``a`` beats ``b`` (vehicles first, then distance; infeasible never beats)."""
    if not a.feasible or a.vehicles is None or a.distance is None:
        return False
    if not b.feasible or b.vehicles is None or b.distance is None:
        return True
    return (a.vehicles, round(a.distance, 2)) < (b.vehicles, round(b.distance, 2))


def summarise(rows: list[Row]) -> list[dict[str, str]]:
    """Per solver: instances at the best-known vehicle count, mean gap there, mean time, infeasible count."""
    out = []
    by_instance = {(r.solver, r.instance): r for r in rows}
    for solver in dict.fromkeys(r.solver for r in rows):
        mine = [r for r in rows if r.solver == solver and r.vehicles is not None]
        if not mine:
            reason = next((r.note for r in rows if r.solver == solver and r.note), "no results")
            out.append({"solver": solver, "instances": "0", "note": reason})
            continue
        at_bks = [r for r in mine if r.feasible and r.bks_vehicles is not None and r.vehicles <= r.bks_vehicles]
        gaps = [r.gap_pct for r in at_bks if r.gap_pct is not None]
        worse_than_vroom = [
            r.instance
            for r in mine
            if solver != "vroom"
            and (solver, r.instance) in by_instance
            and ("vroom", r.instance) in by_instance
            and better(by_instance[("vroom", r.instance)], r)
        ]
        better_than_vroom = [
            r
            for r in mine
            if solver != "vroom"
            and ("vroom", r.instance) in by_instance
            and better(r, by_instance[("vroom", r.instance)])
        ]
        out.append(
            {
                "solver": LABELS.get(solver, solver),
                "instances": str(len(mine)),
                "at_bks_vehicles": str(len(at_bks)),
                "mean_gap_there_pct": f"{sum(gaps) / len(gaps):.2f}" if gaps else "",
                "more_vehicles": str(sum(1 for r in mine if r.bks_vehicles and r.vehicles > r.bks_vehicles)),
                "mean_wall_s": f"{sum(r.wall_s or 0 for r in mine) / len(mine):.1f}",
                "max_peak_mb": f"{max(r.peak_mb or 0 for r in mine):.0f}",
                "infeasible": str(sum(1 for r in mine if not r.feasible)),
                "better_than_vroom": str(len(better_than_vroom)) if solver != "vroom" else "",
                "worse_than_vroom": ",".join(worse_than_vroom) if solver != "vroom" else "",
            }
        )
    return out


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = ", ".join(f"{s} {v}" for s in SOLVERS if (v := solver_version(s)))
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}; {versions}"


def markdown(rows: list[Row], summary: list[dict[str, str]]) -> str:
    keys = list(dict.fromkeys(k for s in summary for k in s))
    lines = [f"Machine: {machine()}", "", "| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(s.get(k, "") for k in keys) + " |" for s in summary]
    lines += ["", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(r.as_csv()[c] for c in COLUMNS) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def print_tables(rows: list[Row], summary: list[dict[str, str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=200)
    table = Table(title="Li & Lim results")
    shown = ["instance", "solver", "vehicles", "distance", "bks_vehicles", "bks_distance", "gap_pct", "wall_s"]
    for column in [*shown, "peak_mb", "note"]:
        table.add_column(column)
    for row in rows:
        values = row.as_csv()
        table.add_row(*[values[c] for c in [*shown, "peak_mb", "note"]])
    console.print(table)
    keys = list(dict.fromkeys(k for s in summary for k in s))
    per_solver = Table(title="Per solver")
    for key in keys:
        per_solver.add_column(key)
    for s in summary:
        per_solver.add_row(*[s.get(k, "") for k in keys])
    console.print(per_solver)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lilim", description=__doc__.splitlines()[0])
    parser.add_argument("--instances", help="names, prefixes (lr2) or paths, comma-separated; default all 56")
    parser.add_argument(
        "--solvers", default=",".join(SOLVERS), help="comma-separated, from " + ",".join(SOLVERS + EXTRA_SOLVERS)
    )
    parser.add_argument("--time-limit", type=float, default=None, help="seconds per solver per instance (30)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV to write")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_INSTANCES}, {QUICK_TIME_LIMIT_S:g} s each")
    parser.add_argument("--markdown", type=Path, help="also write the tables as markdown to this file")
    parser.add_argument(
        "--from-csv", type=Path, nargs="+", metavar="CSV", help="solve nothing: summarise earlier result CSVs"
    )
    parser.add_argument("--worker", nargs=3, metavar=("SOLVER", "PATH", "SECONDS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        solver, path, seconds = args.worker
        print(json.dumps(solve_in_this_process(solver, Path(path), float(seconds))))
        return 0

    if args.from_csv:
        rows = [row_from_csv(r) for path in args.from_csv for r in csv.DictReader(path.open(newline=""))]
        summary = summarise(rows)
        print_tables(rows, summary)
        if args.markdown:
            args.markdown.write_text(markdown(rows, summary))
        return 0

    solvers = [s.strip() for s in args.solvers.split(",") if s.strip()]
    unknown = [s for s in solvers if s not in SOLVERS + EXTRA_SOLVERS]
    if unknown:
        parser.error(f"unknown solvers {unknown}; expected some of {', '.join(SOLVERS + EXTRA_SOLVERS)}")
    spec = args.instances or (QUICK_INSTANCES if args.quick else None)
    time_limit_s = args.time_limit or (QUICK_TIME_LIMIT_S if args.quick else 30.0)
    try:
        paths = resolve_instances(spec)
    except ValueError as error:
        parser.error(str(error))
    bks = read_bks()

    rows: list[Row] = []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        for solver in solvers:
            for path in paths:
                row = run_one(solver, path, time_limit_s, bks)
                rows.append(row)
                writer.writerow(row.as_csv())
                f.flush()
                print(",".join(row.as_csv().values()), file=sys.stderr, flush=True)
    summary = summarise(rows)
    print_tables(rows, summary)
    if args.markdown:
        args.markdown.write_text(markdown(rows, summary))
    return 1 if any(r.feasible is False and r.vehicles is not None for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
