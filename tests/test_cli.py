"""The ``fanggang`` command as a dispatcher uses it: plan, demo, bad input."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

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
    code = main(["plan", str(DATA / "scenario_small"), "--date", "2026-02-20", "--out", str(out), "--time-limit", "2"])
    assert code == 0
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
    with (out / "buses.csv").open(encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == len(plan["buses"])
    with (out / "fallback.csv").open(encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == len(plan["fallback"])


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


def test_demo_runs_the_fixture_county_from_the_installed_command(tmp_path: Path) -> None:
    """`fanggang demo` plans the fixture's busiest day and prints the summary."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "fanggang"), "demo", "--out", str(tmp_path / "demo"), "--time-limit", "8"],
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
