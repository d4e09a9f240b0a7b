"""The planning commands of ``fanggang``: ``demo`` and ``plan``. The installed ``fanggang`` command
(``api.cli.main``) adds the service's commands on top; this module works without the service."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from scheduler.defaults import toml_line
from scheduler.messages import Message
from scheduler.model import Scenario
from scheduler.output import summary_lines, write_plan
from scheduler.plan import Plan
from scheduler.scenario import POLICY_FILE, load_scenario
from scheduler.solve import SolveParams, solve
from scheduler.travel import TableTravel
from scheduler.validation import InvalidScenario

EXIT_BAD_INPUT = 2
DEMO_SCENARIO = Path(__file__).resolve().parent.parent / "fixtures" / "yudu"


def main(argv: list[str] | None = None) -> int:
    """``python -m scheduler.cli demo|plan ...``: planning without the service."""
    parser = argparse.ArgumentParser(prog="fanggang", description="返岗 point-to-point bus planning for a county.")
    add_planning_commands(parser.add_subparsers(dest="command", required=True))
    return run_planning_command(parser.parse_args(argv))


def add_planning_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    demo = commands.add_parser("demo", help="plan the busiest day of the bundled fixture county")
    demo.add_argument("--out", type=Path, default=Path("fanggang-demo"))
    demo.add_argument("--time-limit", type=float, default=30.0, help="seconds for the solve (default 30)")

    plan = commands.add_parser("plan", help="plan one day of a scenario")
    plan.add_argument("scenario", type=Path, help="folder of CSV files or one .xlsx workbook")
    plan.add_argument("--date", required=True, help="travel date, YYYY-MM-DD")
    plan.add_argument("--out", type=Path, required=True, help="output folder")
    plan.add_argument("--time-limit", type=float, default=30.0, help="seconds for the solve (default 30)")
    plan.add_argument("--policy", type=Path, default=None, help="policy.toml (default: the scenario's own)")
    plan.add_argument(
        "--distances",
        type=Path,
        default=None,
        help="road distances, a CSV from_id,to_id,km,minutes (default: policy.toml's distances_file, if any)",
    )


def run_planning_command(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING)
    console = Console()
    if args.command == "demo":
        return _run(console, DEMO_SCENARIO, None, None, None, args.out, args.time_limit)
    try:
        day = dt.date.fromisoformat(args.date)
    except ValueError:
        console.print(
            f"[red]--date 应为 YYYY-MM-DD 格式的日期，实际为 {args.date!r} / "
            f"--date: expected a date as YYYY-MM-DD, got {args.date!r}.[/red]"
        )
        return EXIT_BAD_INPUT
    return _run(console, args.scenario, args.policy, args.distances, day, args.out, args.time_limit)


def _run(
    console: Console,
    scenario_path: Path,
    policy: Path | None,
    distances: Path | None,
    day: dt.date | None,
    out: Path,
    time_limit: float,
) -> int:
    if time_limit <= 0:
        console.print("[red]--time-limit 应为正的秒数 / --time-limit: expected a positive number of seconds.[/red]")
        return EXIT_BAD_INPUT
    started = time.monotonic()
    try:
        scenario = load_scenario(scenario_path, policy, distances)
    except InvalidScenario as err:
        console.print(
            f"[red]{scenario_path} 有 {len(err.problems)} 处问题，未写出任何文件 / "
            f"The scenario {scenario_path} has {len(err.problems)} problem(s); nothing was written:[/red]"
        )
        for line in err.problems[:200]:
            console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
        if len(err.problems) > 200:
            console.print(f"  ... 另有 {len(err.problems) - 200} 处 / and {len(err.problems) - 200} more")
        return EXIT_BAD_INPUT
    _print_assumptions(console, scenario, policy)
    if day is None:
        day = scenario.busiest_day()
    problem = scenario.problem_for(day)
    console.print(
        f"{scenario.rules.county}：{day} 可出行 {len(problem.travellers)} 人，{time_limit:g} 秒内完成计划 / "
        f"{len(problem.travellers)} travellers can travel on {day} (loaded in {time.monotonic() - started:.1f} s); "
        f"planning within {time_limit:g} s.",
        soft_wrap=True,
    )
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("planning", total=1.0)

        def on_progress(share: float, message: Message) -> None:
            progress.update(task, completed=share, description=message.zh)

        travel = TableTravel(scenario.distances) if scenario.distances is not None else None
        plan = solve(problem, SolveParams(time_limit_s=time_limit), travel, on_progress=on_progress)
    if travel is not None:
        # plan.json and the summary say how much of the plan rests on the county's own road distances.
        counts = {"legs_from_file": travel.legs_from_table, "legs_estimated": travel.legs_estimated}
        plan = replace(plan, stats={**plan.stats, "distances_file": travel.table.source, **counts})
    write_plan(plan, problem, out)
    _print_summary(console, plan)
    if plan.stats["violations"]:
        # The planner checks what it returns; a broken rule is a planner bug, and the dispatcher must know.
        console.print(
            f"[red bold]计划违反 {plan.stats['violations']} 条规则（程序缺陷），请勿发布 / The plan breaks "
            f"{plan.stats['violations']} rule(s), a planner bug: do not publish it.[/red bold]"
        )
    console.print(
        f"已写入 {out}/（plan.json, buses.csv, fallback.csv, manifests/），用时 {time.monotonic() - started:.1f} 秒 / "
        f"Written to {out}/ in {time.monotonic() - started:.1f} s.",
        soft_wrap=True,
    )
    return 0


def _print_assumptions(console: Console, scenario: Scenario, policy: Path | None) -> None:
    """Each home setting that was inferred, in Chinese and English, with the policy.toml lines that fix it."""
    if not scenario.assumptions:
        return
    file = policy.name if policy is not None else POLICY_FILE
    console.print(
        f"[yellow]{file} 未设置以下各项，已按数据推算；写入 {file} 即可确认或更正 / "
        f"Not set in {file}, so assumed; add the lines to {file} to confirm or correct them:[/yellow]",
        soft_wrap=True,
    )
    for message in scenario.assumptions:
        console.print(f"  {message.zh}", markup=False, highlight=False, soft_wrap=True)
        console.print(f"  {message.en}", markup=False, highlight=False, soft_wrap=True)
        for setting, value in message.params["settings"].items():
            console.print(f"    -> {toml_line(setting, value)}", markup=False, highlight=False, soft_wrap=True)


def _print_summary(console: Console, plan: Plan) -> None:
    table = Table(title=f"返岗包车计划 bus plan {plan.date}", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    for label, value in summary_lines(plan):
        table.add_row(label, value)
    console.print(table)


if __name__ == "__main__":
    sys.exit(main())
