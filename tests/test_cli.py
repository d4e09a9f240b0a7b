"""The ``fanggang`` command as a dispatcher uses it: plan, demo, bad input."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

from geopy.distance import geodesic

from scheduler.cli import main

DATA = Path(__file__).parent / "data"
PLAN_KEYS = {"date", "buses", "fallback", "totals"}
BUS_KEYS = {"bus_id", "vehicle_type", "seats", "load", "distance_km", "drive_hours", "drivers", "cost", "stops"}
STOP_KEYS = {"place_id", "kind", "arrival", "departure", "board", "alight"}
FALLBACK_KEYS = {"traveller_id", "mode", "reason", "est_cost"}
TOTAL_KEYS = {
    "travellers",
    "on_buses",
    "buses",
    "distance_km",
    "charter_cost",
    "reimbursement_cost",
    "ticket_cost",
    "subsidy_cost",
    "total_cost",
    "seat_fill",
}


def test_plan_writes_every_output_with_the_contract_fields(tmp_path: Path) -> None:
    """plan.json keeps the issue's field names; buses.csv, fallback.csv and manifests are written."""
    out = tmp_path / "out"
    # A threshold of two, so that the ten travellers charter buses and every file has rows.
    policy = tmp_path / "policy.toml"
    policy.write_text((DATA / "scenario_small" / "policy.toml").read_text("utf-8").replace("= 4", "= 2"), "utf-8")
    args = ["--date", "2026-02-21", "--out", str(out), "--time-limit", "2", "--policy", str(policy)]
    assert main(["plan", str(DATA / "scenario_small"), *args]) == 0
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert set(plan) >= PLAN_KEYS
    assert set(plan["totals"]) >= TOTAL_KEYS
    for bus in plan["buses"]:
        assert set(bus) >= BUS_KEYS
        for stop in bus["stops"]:
            assert set(stop) >= STOP_KEYS
            assert stop["kind"] in {"pickup", "dropoff"}
        manifest = out / "manifests" / f"{bus['bus_id']}.csv"
        with manifest.open(encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
        assert len(rows) == bus["load"] + 1
        assert all("*" in row[2] for row in rows[1:])  # ID numbers masked
    for line in plan["fallback"]:
        assert set(line) >= FALLBACK_KEYS
    travellers = plan["totals"]["on_buses"] + len(plan["fallback"])
    assert travellers == plan["totals"]["travellers"] > 0
    # Excel reads them as written: a BOM, Chinese headers beside the English names, the fallback's phone and
    # group, and distances and hours named for what they hold.
    with (out / "buses.csv").open(encoding="utf-8") as handle:
        assert handle.read(1) == "\ufeff"
        reader = csv.DictReader(handle)
        buses = list(reader)
    assert {"往返里程 km_round_trip", "单程驾驶小时 drive_hours_one_way", "上车点及时间 pickups"} <= set(
        reader.fieldnames or ()
    )
    assert len(buses) == len(plan["buses"]) > 0
    for row, bus in zip(buses, plan["buses"], strict=True):
        assert float(row["往返里程 km_round_trip"]) == round(bus["distance_km"], 1)
        assert bus["stops"][0]["arrival"][11:16] in row["上车点及时间 pickups"]
    with (out / "fallback.csv").open(encoding="utf-8-sig") as handle:
        fallback = list(csv.DictReader(handle))
    assert len(fallback) == len(plan["fallback"])
    with (DATA / "scenario_small" / "travellers.csv").open(encoding="utf-8-sig") as handle:
        people = {r["traveller_id"]: r for r in csv.DictReader(handle)}
    for row in fallback:
        person = people[row["编号 traveller_id"]]
        assert row["手机 phone"] == person["phone"] and row["同行组 group_id"] == person["group_id"]
    assert out.stat().st_mode & 0o777 == 0o755


def test_bad_scenario_exits_2_names_every_problem_and_writes_nothing(tmp_path: Path, capsys) -> None:
    """Bad rows end with exit code 2, each named by file, row and field; the output folder is not made."""
    out = tmp_path / "out"
    code = main(["plan", str(DATA / "scenario_bad_rows"), "--date", "2026-02-20", "--out", str(out)])
    assert code == 2
    printed = capsys.readouterr().out
    assert "travellers.csv row" in printed and "id_number" in printed and "phone" in printed
    assert not out.exists()


def test_bad_date_exits_2(tmp_path: Path) -> None:
    """A date that is not YYYY-MM-DD is refused with exit code 2."""
    assert main(["plan", str(DATA / "scenario_small"), "--date", "20.2.2026", "--out", str(tmp_path / "o")]) == 2


def test_failed_plan_leaves_the_previous_output_untouched(tmp_path: Path) -> None:
    """Re-planning into an existing folder with bad input keeps the earlier outputs as they were."""
    out = tmp_path / "out"
    assert (
        main(["plan", str(DATA / "scenario_small"), "--date", "2026-02-20", "--out", str(out), "--time-limit", "1"])
        == 0
    )
    before = (out / "plan.json").read_bytes()
    assert main(["plan", str(DATA / "scenario_bad_rows"), "--date", "2026-02-20", "--out", str(out)]) == 2
    assert (out / "plan.json").read_bytes() == before


def test_demo_with_a_date_plans_that_day_of_the_fixture_county_from_the_installed_command(tmp_path: Path) -> None:
    """`fanggang demo --date D` plans one day of the fixture county and prints the summary."""
    command = [str(Path(sys.executable).parent / "fanggang"), "demo", "--date", "2026-02-23"]
    result = subprocess.run(
        [*command, "--out", str(tmp_path / "demo"), "--time-limit", "8"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "2026-02-23" in result.stdout and "座位" in result.stdout
    plan = json.loads((tmp_path / "demo" / "plan.json").read_text(encoding="utf-8"))
    assert plan["totals"]["buses"] > 100
    assert plan["totals"]["seat_fill"] > 0.9


def test_plan_without_policy_in_another_province_assumes_its_home_and_plans_buses(tmp_path: Path, capsys) -> None:
    """A Hunan county's scenario without policy.toml is planned from a depot among its townships, with buses,
    and the command prints each assumption in Chinese and English with the policy.toml line to add."""
    out = tmp_path / "out"
    code = main(["plan", str(DATA / "scenario_xinhua"), "--date", "2026-02-23", "--out", str(out), "--time-limit", "3"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "未设置县名" in printed and "county not set" in printed
    assert "未设置发车点" in printed and "depot not set" in printed
    assert '-> county = "新化县"' in printed and '-> province = "湖南省"' in printed
    depot_lat = next(line for line in printed.splitlines() if "-> depot_lat = " in line)
    depot_lon = next(line for line in printed.splitlines() if "-> depot_lon = " in line)
    depot = (float(depot_lat.split("=")[1]), float(depot_lon.split("=")[1]))
    seat = (27.7370, 111.3065)  # 上梅街道, the county seat
    assert geodesic(depot, seat).km < 15
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert plan["totals"]["buses"] >= 1 and plan["totals"]["on_buses"] >= 20


def test_depot_300_km_away_exits_2_naming_the_setting(tmp_path: Path, capsys) -> None:
    """A depot 300 km from every township is refused with exit code 2, naming depot_lat/depot_lon; nothing written."""
    scenario = Path(shutil.copytree(DATA / "scenario_small", tmp_path / "scenario"))
    policy = scenario / "policy.toml"
    far = (28.67, 115.41)  # about 300 km due north of 贡江镇, the northernmost township
    assert 295 < geodesic(far, (25.964248, 115.412174)).km < 305
    text = policy.read_text(encoding="utf-8").replace("depot_lat = 25.9594", f"depot_lat = {far[0]}")
    policy.write_text(text.replace("depot_lon = 115.411", f"depot_lon = {far[1]}"), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["plan", str(scenario), "--date", "2026-02-20", "--out", str(out)]) == 2
    printed = capsys.readouterr().out
    assert "policy.toml, field depot_lat/depot_lon" in printed and "km from the nearest township" in printed
    assert not out.exists()


def test_plan_with_distances_reports_how_many_legs_came_from_the_file(tmp_path: Path, capsys) -> None:
    """--distances: plan.json's stats count the legs from the file and the estimated ones; the summary says so."""
    out = tmp_path / "out"
    distances = DATA / "xinhua_distances.csv"
    args = ["plan", str(DATA / "scenario_xinhua"), "--date", "2026-02-23", "--out", str(out), "--time-limit", "3"]
    assert main([*args, "--distances", str(distances)]) == 0
    printed = capsys.readouterr().out
    stats = json.loads((out / "plan.json").read_text(encoding="utf-8"))["stats"]
    assert stats["distances_file"] == "xinhua_distances.csv"
    assert 1 <= stats["legs_from_file"] <= 7 * 2 and stats["legs_estimated"] >= 1
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in printed.splitlines() if "路段" in line}
    assert rows["路程文件路段 legs from the distances file"] == str(stats["legs_from_file"])
    assert rows["估算路段 legs estimated (geodesic)"] == str(stats["legs_estimated"])


def test_policy_distances_file_is_used_and_the_flag_wins(tmp_path: Path) -> None:
    """distances_file in policy.toml (relative to it) is used; --distances replaces it."""
    scenario = Path(shutil.copytree(DATA / "scenario_xinhua", tmp_path / "scenario"))
    (scenario / "roads").mkdir()
    shutil.copy(DATA / "xinhua_distances.csv", scenario / "roads" / "county.csv")
    (scenario / "policy.toml").write_text('distances_file = "roads/county.csv"\n', encoding="utf-8")
    args = ["plan", str(scenario), "--date", "2026-02-23", "--time-limit", "2"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    stats = json.loads((tmp_path / "a" / "plan.json").read_text(encoding="utf-8"))["stats"]
    assert stats["distances_file"] == "county.csv" and stats["legs_from_file"] >= 1
    other = tmp_path / "other.csv"
    other.write_text("from_id,to_id,km,minutes\n431322100,dg-changan,842.0,618\n", encoding="utf-8")
    assert main([*args, "--out", str(tmp_path / "b"), "--distances", str(other)]) == 0
    stats = json.loads((tmp_path / "b" / "plan.json").read_text(encoding="utf-8"))["stats"]
    assert stats["distances_file"] == "other.csv"


def test_bad_distances_file_exits_2_naming_the_row(tmp_path: Path, capsys) -> None:
    """A distances file with a bad row ends with exit code 2, the file, row and field named, nothing written."""
    bad = tmp_path / "roads.csv"
    bad.write_text("from_id,to_id,km,minutes\ndepot,431322100,4.1,9\n431322100,dg-changan,842,0\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ["plan", str(DATA / "scenario_xinhua"), "--date", "2026-02-23", "--out", str(out), "--distances", str(bad)]
    assert main(args) == 2
    printed = capsys.readouterr().out
    assert "roads.csv row 3, field minutes" in printed
    assert not out.exists()


def test_campaign_writes_the_campaign_and_every_day_as_plan_writes_it(tmp_path: Path, capsys) -> None:
    """campaign.json keeps the issue's fields; each date's folder holds plan.json, buses.csv, fallback.csv and
    manifests; every traveller of the window is planned once over the days or listed overdue."""
    out = tmp_path / "out"
    args = ["campaign", str(DATA / "scenario_small"), "--from", "2026-02-18", "--to", "2026-02-26"]
    assert main([*args, "--out", str(out), "--time-limit", "6"]) == 0
    printed = capsys.readouterr().out
    campaign = json.loads((out / "campaign.json").read_text(encoding="utf-8"))
    assert set(campaign) >= {"from", "to", "days", "coaches", "overdue", "totals"}
    assert (campaign["from"], campaign["to"]) == ("2026-02-18", "2026-02-26")
    assert set(campaign["totals"]) >= {*TOTAL_KEYS - {"distance_km"}, "wait_person_days"}
    assert [d["date"] for d in campaign["days"]] == [f"2026-02-{n}" for n in range(18, 27)]
    planned: list[str] = []
    coach_of_bus = {}
    for day in campaign["days"]:
        folder = out / "days" / day["date"]
        plan = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
        assert plan["totals"]["total_cost"] == day["total_cost"]
        assert (folder / "buses.csv").exists() and (folder / "fallback.csv").exists()
        for bus in plan["buses"]:
            assert (folder / "manifests" / f"{bus['bus_id']}.csv").exists()
            coach_of_bus[bus["bus_id"]] = bus["coach_id"]
            planned += [t for stop in bus["stops"] for t in stop["board"]]
        planned += [f["traveller_id"] for f in plan["fallback"]]
    planned += [o["traveller_id"] for o in campaign["overdue"]]
    with (DATA / "scenario_small" / "travellers.csv").open(encoding="utf-8-sig") as handle:
        registered = [row["traveller_id"] for row in csv.DictReader(handle)]
    assert sorted(planned) == sorted(registered)
    for coach in campaign["coaches"]:
        for trip in coach["trips"]:
            assert coach_of_bus[trip["bus_id"]] == coach["coach_id"]
            assert trip["leaves"].endswith("+08:00") and trip["leaves"] < trip["back"]
    assert sum(d["buses"] for d in campaign["days"]) == campaign["totals"]["buses"] == len(coach_of_bus)
    assert "合计" in printed and "2026-02-20" in printed


def test_campaign_refuses_bad_dates_and_a_range_that_ends_before_it_starts(tmp_path: Path, capsys) -> None:
    """Exit 2 with the option named in Chinese and English; nothing written."""
    out = tmp_path / "out"
    base = ["campaign", str(DATA / "scenario_small"), "--out", str(out)]
    assert main([*base, "--from", "2026-02-30", "--to", "2026-03-01"]) == 2
    printed = capsys.readouterr().out
    assert "--from" in printed and "YYYY-MM-DD" in printed
    assert main([*base, "--from", "2026-02-25", "--to", "2026-02-20"]) == 2
    printed = capsys.readouterr().out
    assert "--to" in printed and "早于" in printed
    assert not out.exists()
