"""The planning commands of ``fanggang``: ``demo``, ``plan`` and ``campaign``. The installed ``fanggang`` command
(``api.cli.main``) adds the service's commands on top; this module works without the service."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from scheduler.campaign import Campaign, CampaignParams, campaign_travellers, plan_campaign
from scheduler.defaults import toml_line
from scheduler.messages import Message
from scheduler.model import Scenario
from scheduler.output import summary_lines, write_campaign, write_plan
from scheduler.plan import Plan
from scheduler.scenario import POLICY_FILE, load_scenario
from scheduler.solve import SolveParams, solve
from scheduler.travel import TableTravel
from scheduler.validation import InvalidScenario

EXIT_BAD_INPUT = 2
PLANNING_COMMANDS = ("demo", "plan", "campaign", "region")
DEMO_SCENARIO = Path(__file__).resolve().parent.parent / "fixtures" / "yudu"


def main(argv: list[str] | None = None) -> int:
    """``python -m scheduler.cli demo|plan|campaign ...``: planning without the service."""
    parser = argparse.ArgumentParser(prog="fanggang", description="返岗 point-to-point bus planning for a county.")
    add_planning_commands(parser.add_subparsers(dest="command", required=True))
    return run_planning_command(parser.parse_args(argv))


def add_planning_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    demo = commands.add_parser("demo", help="plan the bundled fixture county's whole campaign (or one --date)")
    demo.add_argument("--out", type=Path, default=Path("fanggang-demo"))
    demo.add_argument("--date", default=None, help="plan only this date, YYYY-MM-DD (default: the whole campaign)")
    demo.add_argument(
        "--time-limit", type=float, default=None, help="seconds (default 120 for the campaign, 30 for one date)"
    )

    plan = commands.add_parser("plan", help="plan one day of a scenario")
    _scenario_arguments(plan)
    plan.add_argument("--date", required=True, help="travel date, YYYY-MM-DD")
    plan.add_argument("--time-limit", type=float, default=30.0, help="seconds for the solve (default 30)")

    campaign = commands.add_parser("campaign", help="plan every date of a scenario's return season")
    _scenario_arguments(campaign)
    campaign.add_argument("--from", dest="start", required=True, help="first departure date, YYYY-MM-DD")
    campaign.add_argument("--to", dest="end", required=True, help="last departure date, YYYY-MM-DD")
    campaign.add_argument(
        "--time-limit", type=float, default=120.0, help="seconds for the whole campaign (default 120)"
    )

    region = commands.add_parser(
        "region", help="plan every county of a region (a folder of county folders and region.toml) on Ray"
    )
    region.add_argument("region", type=Path, help="folder with region.toml and one scenario folder per county")
    region.add_argument("--from", dest="start", required=True, help="first departure date, YYYY-MM-DD")
    region.add_argument("--to", dest="end", required=True, help="last departure date, YYYY-MM-DD")
    region.add_argument("--out", type=Path, required=True, help="output folder")
    region.add_argument("--time-limit", type=float, default=600.0, help="seconds for the whole region (default 600)")
    region.add_argument("--ray-address", default=None, help="a Ray cluster (ray start --head); default: local Ray")


def _scenario_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("scenario", type=Path, help="folder of CSV files or one .xlsx workbook")
    command.add_argument("--out", type=Path, required=True, help="output folder")
    command.add_argument("--policy", type=Path, default=None, help="policy.toml (default: the scenario's own)")
    command.add_argument(
        "--distances",
        type=Path,
        default=None,
        help="road distances, a CSV from_id,to_id,km,minutes (default: policy.toml's distances_file, if any)",
    )


def run_planning_command(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING)
    console = Console()
    if args.command == "region":
        return _run_region(console, args)
    if args.command == "demo":
        scenario_path, policy, distances = DEMO_SCENARIO, None, None
    else:
        scenario_path, policy, distances = args.scenario, args.policy, args.distances
    if args.time_limit is not None and args.time_limit <= 0:
        console.print("[red]--time-limit 应为正的秒数 / --time-limit: expected a positive number of seconds.[/red]")
        return EXIT_BAD_INPUT
    try:
        day, start, end = (_date_argument(option, getattr(args, name, None)) for name, option in _DATE_OPTIONS)
    except ValueError as err:
        console.print(f"[red]{err}[/red]", soft_wrap=True)
        return EXIT_BAD_INPUT
    if start is not None and end is not None and end < start:
        console.print(
            f"[red]--to {end} 早于 --from {start} / --to: expected a date on or after --from {start}, got {end}.[/red]"
        )
        return EXIT_BAD_INPUT
    started = time.monotonic()
    scenario = _load(console, scenario_path, policy, distances)
    if scenario is None:
        return EXIT_BAD_INPUT
    if args.command == "plan" or (args.command == "demo" and day is not None):
        return _run_day(console, scenario, day, args.out, args.time_limit or DAY_TIME_LIMIT_S, started)
    if start is None or end is None:  # the demo: the fixture county's whole season
        start = min(t.earliest_date for t in scenario.travellers)
        end = max(t.report_date for t in scenario.travellers)
    return _run_campaign(console, scenario, start, end, args.out, args.time_limit or CAMPAIGN_TIME_LIMIT_S, started)


DAY_TIME_LIMIT_S = 30.0
CAMPAIGN_TIME_LIMIT_S = 120.0
# (argparse dest, option): the dates a command may take.
_DATE_OPTIONS = (("date", "--date"), ("start", "--from"), ("end", "--to"))


def _date_argument(option: str, text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{option} 应为 YYYY-MM-DD 格式的日期，实际为 {text!r} / "
            f"{option}: expected a date as YYYY-MM-DD, got {text!r}."
        ) from None


def _load(console: Console, scenario_path: Path, policy: Path | None, distances: Path | None) -> Scenario | None:
    """The scenario, with its inferred settings shown; None (problems shown) when it is invalid."""
    try:
        scenario = load_scenario(scenario_path, policy, distances)
    except InvalidScenario as err:
        _print_problems(console, scenario_path, err)
        return None
    _print_assumptions(console, scenario, policy)
    return scenario


def _print_problems(console: Console, where: Path, err: InvalidScenario) -> None:
    console.print(
        f"[red]{where} 有 {len(err.problems)} 处问题，未写出任何文件 / "
        f"{where} has {len(err.problems)} problem(s); nothing was written:[/red]"
    )
    for line in err.problems[:200]:
        console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    if len(err.problems) > 200:
        console.print(f"  ... 另有 {len(err.problems) - 200} 处 / and {len(err.problems) - 200} more")


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _with_legs(stats: dict[str, Any], travel: TableTravel | None) -> dict[str, Any]:
    """``stats`` plus, when a distances file was used, how much of the plan rests on it."""
    if travel is None:
        return stats
    counts = {"legs_from_file": travel.legs_from_table, "legs_estimated": travel.legs_estimated}
    return {**stats, "distances_file": travel.table.source, **counts}


def _run_day(
    console: Console, scenario: Scenario, day: dt.date | None, out: Path, time_limit: float, started: float
) -> int:
    if day is None:
        day = scenario.busiest_day()
    problem = scenario.problem_for(day)
    console.print(
        f"{scenario.rules.county}：{day} 可出行 {len(problem.travellers)} 人，{time_limit:g} 秒内完成计划 / "
        f"{len(problem.travellers)} travellers can travel on {day} (loaded in {time.monotonic() - started:.1f} s); "
        f"planning within {time_limit:g} s.",
        soft_wrap=True,
    )
    travel = TableTravel(scenario.distances) if scenario.distances is not None else None
    with _progress(console) as progress:
        task = progress.add_task("planning", total=1.0)

        def on_progress(share: float, message: Message) -> None:
            progress.update(task, completed=share, description=message.zh)

        plan = solve(problem, SolveParams(time_limit_s=time_limit), travel, on_progress=on_progress)
    plan = replace(plan, stats=_with_legs(plan.stats, travel))
    write_plan(plan, problem, out)
    _print_summary(console, plan)
    _warn_violations(console, plan.stats["violations"])
    console.print(
        f"已写入 {out}/（plan.json, buses.csv, fallback.csv, manifests/），用时 {time.monotonic() - started:.1f} 秒 / "
        f"Written to {out}/ in {time.monotonic() - started:.1f} s.",
        soft_wrap=True,
    )
    return 0


def _run_campaign(
    console: Console, scenario: Scenario, start: dt.date, end: dt.date, out: Path, time_limit: float, started: float
) -> int:
    travellers = len(campaign_travellers(scenario, start, end))
    console.print(
        f"{scenario.rules.county}：{start} 至 {end} 共 {travellers} 人，{time_limit:g} 秒内排完整个返岗季 / "
        f"{travellers} travellers from {start} to {end} (loaded in {time.monotonic() - started:.1f} s); "
        f"planning the campaign within {time_limit:g} s.",
        soft_wrap=True,
    )
    travel = TableTravel(scenario.distances) if scenario.distances is not None else None
    with _progress(console) as progress:
        task = progress.add_task("planning", total=1.0)

        def on_progress(share: float, message: Message) -> None:
            progress.update(task, completed=share, description=message.zh)

        campaign = plan_campaign(scenario, start, end, CampaignParams(time_limit_s=time_limit), travel, on_progress)
    campaign = replace(campaign, stats=_with_legs(campaign.stats, travel))
    write_campaign(campaign, out)
    _print_campaign(console, campaign)
    _warn_violations(console, campaign.stats["violations"] + campaign.stats["coaches_short"])
    console.print(
        f"已写入 {out}/（campaign.json, days/<日期>/），用时 {time.monotonic() - started:.1f} 秒 / "
        f"Written to {out}/ in {time.monotonic() - started:.1f} s.",
        soft_wrap=True,
    )
    return 0


def _run_region(console: Console, args: argparse.Namespace) -> int:
    """``fanggang region``: each county's campaign as a Ray task, then region.json and counties/<county>/."""
    from scheduler.region import InvalidRegion, RegionFailed, load_region, plan_region, write_region

    try:
        start, end = _date_argument("--from", args.start), _date_argument("--to", args.end)
    except ValueError as err:
        console.print(f"[red]{err}[/red]", soft_wrap=True)
        return EXIT_BAD_INPUT
    if start is None or end is None or end < start or args.time_limit <= 0:
        console.print("[red]--from/--to 或 --time-limit 有误 / expected --to on or after --from and a positive "
                      "--time-limit.[/red]")  # fmt: skip
        return EXIT_BAD_INPUT
    started = time.monotonic()
    try:
        spec, scenarios = load_region(args.region)
    except InvalidRegion as err:
        console.print(f"[red]{err}[/red]", soft_wrap=True)
        return EXIT_BAD_INPUT
    console.print(f"{spec.name}：{len(scenarios)} 个区县 / counties, {start} .. {end}", soft_wrap=True)
    with _progress(console) as progress:
        task = progress.add_task("counties", total=len(scenarios))

        def on_progress(what: str, done: int, total: int) -> None:
            # Phase 1 counts counties, phase 2 the pools' destination areas.
            progress.update(task, completed=done, total=total, description=f"{what} 已完成 / done ({done}/{total})")

        try:
            plan = plan_region(spec, scenarios, start, end, args.time_limit, args.ray_address, on_progress)
        except RegionFailed as err:
            console.print(f"[red]{err}; 未写出任何文件 / nothing was written.[/red]", soft_wrap=True)
            return 1
        except InvalidScenario as err:  # each problem names its county's folder
            _print_problems(console, args.region, err)
            return EXIT_BAD_INPUT
    _warn_violations(console, plan.stats["violations"])
    _warn_overtime(console, time.monotonic() - started, args.time_limit, plan.stats["county_task_s"])
    write_region(plan, args.out)
    table = Table(
        "区县 county", "旅客 travellers", "车辆 buses", "拼车 pooled", "单独 alone CNY", "费用 cost CNY", "节省 saving"
    )
    summary = plan.to_dict()
    for row in [*summary["counties"], {"county": "合计 total", **summary["totals"]}]:
        money = (f"{row[k]:,.0f}" for k in ("cost_alone", "cost", "saving"))
        table.add_row(row["county"], str(row["travellers"]), str(row["buses"]), str(row["pooled_buses"]), *money)
    console.print(table)
    console.print(
        f"已写入 {args.out}/（region.json, cost_split.xlsx, counties/），"
        f"用时 {time.monotonic() - started:.1f} 秒 / written."
    )
    return 0


def _warn_violations(console: Console, violations: int) -> None:
    if violations:
        # The planner checks what it returns; a broken rule is a planner bug, and the dispatcher must know.
        console.print(
            f"[red bold]计划违反 {violations} 条规则（程序缺陷），请勿发布 / The plan breaks "
            f"{violations} rule(s), a planner bug: do not publish it.[/red bold]"
        )


def _warn_overtime(console: Console, took_s: float, limit_s: float, county_task_s: dict[str, float]) -> None:
    """Say so where the region took longer than asked: a county's season has a floor (its days' first solutions)
    that a short time limit does not shrink."""
    if took_s <= 1.1 * limit_s:
        return
    name, longest = max(county_task_s.items(), key=lambda kv: (kv[1], kv[0]), default=("", 0.0))
    county = escape(name)  # a folder's name, not markup
    console.print(
        f"[yellow]用时 {took_s:.0f} 秒，超过时限 {limit_s:g} 秒：每个区县的规划有最短用时，最长的 {county} 用了 "
        f"{longest:.0f} 秒；时限更短不会更快 / took {took_s:.0f} s, over the {limit_s:g} s asked: a county's "
        f"campaign has a floor that a shorter limit does not lower; the longest ({county}) took {longest:.0f} s."
        "[/yellow]",
        soft_wrap=True,
    )


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


def _print_campaign(console: Console, campaign: Campaign) -> None:
    """One row per date, then the totals."""
    data = campaign.to_dict()
    table = Table(title=f"返岗季计划 campaign {campaign.start} .. {campaign.end}")
    # Room for the widest figure of each column, so figures never wrap or shorten on an 80-column terminal; the
    # headers wrap at the space between the languages.
    table.add_column("日期 date", no_wrap=True, min_width=10)
    for label, width in (
        ("旅客 people", 6),
        ("包车 buses", 5),
        ("乘车 on buses", 6),
        ("其他方式 fallback", 8),
        ("费用 cost CNY", 10),
        ("满座率 fill", 6),
    ):
        table.add_column(label, justify="right", min_width=width, max_width=width)

    def row(label: str, d: dict[str, Any]) -> list[str]:
        return [
            label,
            f"{d['travellers']:,}",
            f"{d['buses']:,}",
            f"{d['on_buses']:,}",
            f"{d['travellers'] - d['on_buses']:,}",
            f"{d['total_cost']:,.0f}",
            f"{d['seat_fill']:.1%}",
        ]

    for day in data["days"]:
        table.add_row(*row(day["date"], day))
    totals = data["totals"]
    table.add_section()
    table.add_row(*row("合计 total", totals), style="bold")
    console.print(table)
    console.print(
        f"等待 {totals['wait_person_days']:,} 人天（不计入费用）；逾期无法安排 {totals['overdue']} 人；"
        f"在用车辆 {len(data['coaches'])} 辆 / waiting {totals['wait_person_days']:,} person-days (not in the costs); "
        f"{totals['overdue']} overdue; {len(data['coaches'])} coaches used.",
        soft_wrap=True,
    )


def _print_summary(console: Console, plan: Plan) -> None:
    table = Table(title=f"返岗包车计划 bus plan {plan.date}", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    for label, value in summary_lines(plan):
        table.add_row(label, value)
    console.print(table)


if __name__ == "__main__":
    sys.exit(main())
