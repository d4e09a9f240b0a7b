"""Writing a plan (plan.json, buses.csv, fallback.csv and one manifest per bus) or a campaign of them, all or
nothing."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from scheduler.campaign import Campaign
from scheduler.clock import format_for_people
from scheduler.model import Problem
from scheduler.plan import Plan
from scheduler.spreadsheet import SafeCsvWriter

MANIFEST_KEYS = ("seat", "name", "id_number", "phone", "boards_at", "board_time", "alights_at")
MANIFEST_KEYS = ("seat", "name", "id_number", "phone", "boards_at", "board_time", "alights_at")
MANIFEST_COLUMNS = [
    "座位 seat",
    "姓名 name",
    "身份证号 id_number",
    "手机 phone",
    "上车点 boards_at",
    "上车时间 board_time",
    "下车点 alights_at",
]
BUS_COLUMNS = [
    "车号 bus_id",
    "车型 vehicle_type",
    "车辆 coach_id",
    "座位数 seats",
    "乘客 load",
    "目的地区 area",
    "首站到达 first_stop_at",
    "末站到达 last_stop_at",
    # The coach's whole trip, back to the depot included (what the county pays per km)...
    "往返里程 km_round_trip",
    # ... while the driving time is the outbound trip only, depot to the last drop-off, without rests.
    "单程驾驶小时 drive_hours_one_way",
    "司机 drivers",
    "费用（元） cost_cny",
    "上车点及时间 pickups",
    "下车点及到达时间 dropoffs",
]
FALLBACK_COLUMNS = [
    "编号 traveller_id",
    "姓名 name",
    "手机 phone",
    "同行组 group_id",
    "乡镇 township",
    "企业 factory",
    "日期 date",
    "方式 mode",
    "估算费用（元） est_cost",
    "原因代码 cause",
    "原因 reason_zh",
    "reason",
]
MODE_LABELS = {
    "bus": "包车 chartered bus",
    "township_transport": "乡镇自行组织(凭票报销) township transport",
    "free_ticket": "免费车票 free ticket",
    "unplaced": "未安排 unplaced",
}


def mask_id_number(id_number: str) -> str:
    """Keep the region code and the last four characters: 360731********123X."""
    if len(id_number) < 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def manifest_rows(plan: Plan, problem: Problem, bus_id: str, mask: bool = True) -> list[dict[str, str]]:
    """Seat list of one bus in boarding order, seats numbered from 1."""
    bus = next(b for b in plan.buses if b.bus_id == bus_id)
    people = {t.traveller_id: t for t in problem.travellers}
    alights_at = {t: s.place_name for s in bus.stops for t in s.alight}
    rows = []
    seat = 0
    for stop in bus.stops:
        for tid in stop.board:
            seat += 1
            person = people[tid]
            rows.append(
                {
                    "seat": str(seat),
                    "traveller_id": tid,
                    "name": person.name,
                    "id_number": mask_id_number(person.id_number) if mask else person.id_number,
                    "phone": person.phone,
                    "boards_at": stop.place_name,
                    "board_time": format_for_people(plan.date, stop.arrival_s),
                    "alights_at": alights_at[tid],
                }
            )
    return rows


def write_plan(plan: Plan, problem: Problem, out_dir: Path) -> None:
    """plan.json, buses.csv, fallback.csv and manifests/ into ``out_dir``, all or nothing."""
    write_atomically(Path(out_dir), lambda folder: _write_all(plan, problem, folder))


def write_campaign(campaign: Campaign, out_dir: Path) -> None:
    """campaign.json and, for each date, days/<date>/ as ``write_plan`` writes a day; all or nothing."""
    write_atomically(Path(out_dir), lambda folder: write_campaign_into(campaign, folder))


def write_campaign_into(campaign: Campaign, folder: Path) -> None:
    """``write_campaign``'s files into ``folder`` (which exists), for a writer that makes it whole or not at all."""
    text = json.dumps(campaign.to_dict(), ensure_ascii=False, indent=1)
    (folder / "campaign.json").write_text(text, encoding="utf-8")
    for day in campaign.days:
        day_folder = folder / "days" / day.plan.date.isoformat()
        day_folder.mkdir(parents=True)
        _write_all(day.plan, day.problem, day_folder)


def write_atomically(out_dir: Path, write: Callable[[Path], None]) -> None:
    """Write into a temporary folder beside ``out_dir``, then swap it in, so that a failure leaves ``out_dir``
    as it was."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".fanggang-", dir=out_dir.parent))
    # mkdtemp makes the folder private (0700); the plan is for the colleagues too.
    staging.chmod(0o755)
    try:
        write(staging)
        if out_dir.exists():
            backup = out_dir.with_name(out_dir.name + ".old")
            shutil.rmtree(backup, ignore_errors=True)
            out_dir.rename(backup)
            staging.rename(out_dir)
            shutil.rmtree(backup, ignore_errors=True)
        else:
            staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _write_all(plan: Plan, problem: Problem, folder: Path) -> None:
    (folder / "plan.json").write_text(json.dumps(plan.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    names = {t.traveller_id: t for t in problem.travellers}
    places = {t.township_id: t.name for t in problem.townships} | {f.factory_id: f.name for f in problem.factories}
    # UTF-8 with a BOM and headers in Chinese and English: Excel opens them as a dispatcher reads them.
    with (folder / "buses.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        writer = SafeCsvWriter(handle)
        writer.writerow(BUS_COLUMNS)
        for b in plan.buses:
            writer.writerow(
                [
                    b.bus_id,
                    b.vehicle_type,
                    b.coach_id,
                    b.seats,
                    b.load,
                    b.area,
                    format_for_people(plan.date, b.stops[0].arrival_s),
                    format_for_people(plan.date, b.stops[-1].arrival_s),
                    round(b.distance_km, 1),
                    round(b.drive_hours, 2),
                    b.drivers,
                    round(b.cost, 2),
                    " / ".join(
                        f"{s.place_name} {format_for_people(plan.date, s.arrival_s)[-5:]}"
                        for s in b.stops
                        if s.kind == "pickup"
                    ),
                    " / ".join(
                        f"{s.place_name} {format_for_people(plan.date, s.arrival_s)[-5:]}"
                        for s in b.stops
                        if s.kind == "dropoff"
                    ),
                ]
            )
    with (folder / "fallback.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        writer = SafeCsvWriter(handle)
        writer.writerow(FALLBACK_COLUMNS)
        for f in plan.fallback:
            t = names[f.traveller_id]
            township, factory = places[t.township_id], places[t.factory_id]
            writer.writerow(
                [f.traveller_id, t.name, t.phone, t.group_id, township, factory, plan.date.isoformat(),
                 MODE_LABELS.get(f.mode, f.mode), f.est_cost, f.cause, f.reason_zh, f.reason]
            )  # fmt: skip
    manifests = folder / "manifests"
    manifests.mkdir()
    for bus in plan.buses:
        with (manifests / f"{bus.bus_id}.csv").open("w", encoding="utf-8-sig", newline="") as handle:
            writer = SafeCsvWriter(handle)
            writer.writerow(MANIFEST_COLUMNS)
            for row in manifest_rows(plan, problem, bus.bus_id):
                writer.writerow([row[key] for key in MANIFEST_KEYS])


def summary_lines(plan: Plan) -> list[tuple[str, str]]:
    """(label, value) pairs a dispatcher reads: buses by size, seats, km, cost by payer, modes; and, when the
    plan used a distances file (``stats``), how many legs came from it and how many were estimated."""
    totals = plan.totals
    by_size = Counter(b.seats for b in plan.buses)
    seats = sum(b.seats for b in plan.buses)
    lines = [
        ("日期 date", plan.date.isoformat()),
        ("旅客 travellers", str(totals.travellers)),
        (
            "包车 buses",
            f"{totals.buses} (" + ", ".join(f"{n}x{s}座" for s, n in sorted(by_size.items(), reverse=True)) + ")",
        ),
        ("座位 seats filled", f"{totals.on_buses}/{seats} ({totals.seat_fill:.1%})"),
        ("里程 km", f"{totals.distance_km:,.0f}"),
        ("包车费 charter (county)", f"{totals.charter_cost:,.0f} CNY"),
        ("报销 township reimbursement", f"{totals.reimbursement_cost:,.0f} CNY"),
        ("车票 free tickets", f"{totals.ticket_cost:,.0f} CNY"),
        ("补贴 subsidies (registered-poor)", f"{totals.subsidy_cost:,.0f} CNY"),
        ("合计 total", f"{totals.total_cost:,.0f} CNY"),
    ]
    if "legs_from_file" in plan.stats:
        lines.append(("路程文件路段 legs from the distances file", str(plan.stats["legs_from_file"])))
        lines.append(("估算路段 legs estimated (geodesic)", str(plan.stats["legs_estimated"])))
    modes = plan.modes()
    for mode, label in MODE_LABELS.items():
        lines.append((label, str(modes.get(mode, 0))))
    # The timetable, not the cost, keeps these off every bus: say where and by when, most travellers first.
    late = Counter(
        (f.params["city"], f.params["gate_until"], f.params["report_date"])
        for f in plan.fallback
        if f.cause == "timetable"
    )
    for (city, gate, day), n in late.most_common(10):
        lines.append(
            (
                f"无法按时到达 {city} {gate}（报到日 {day}）",
                f"{n}: no coach from the depot can reach {city} by {gate} on the report date {day}",
            )
        )
    return lines
