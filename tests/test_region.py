"""The region on Ray: every county's campaign as a Ray task in local mode (phase 1), the travellers left to a
fallback pooled across neighbouring counties (phase 2), gathered into region.json, cost_split.xlsx and
counties/<county>/, all or nothing."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from scheduler.cli import main
from scheduler.region import InvalidRegion, RegionFailed, load_region, plan_region

DATA = Path(__file__).parent / "data"
START, END = dt.date(2026, 2, 18), dt.date(2026, 2, 24)
COUNTIES = ("yudu", "xingguo", "ruijin")


def _region(tmp_path: Path) -> Path:
    folder = tmp_path / "region"
    folder.mkdir()
    (folder / "region.toml").write_text('name = "赣州市"\npool_radius_km = 80\n', encoding="utf-8")
    for county in COUNTIES:
        shutil.copytree(DATA / "scenario_small", folder / county)
    return folder


def test_every_county_is_planned_once_on_ray_and_the_region_adds_up(tmp_path: Path, capsys) -> None:
    """`fanggang region` on three counties: Ray local mode, one task per county; region.json's counties and
    totals agree with each county's campaign.json; every traveller of every county is planned once."""
    folder = _region(tmp_path)
    spec, scenarios = load_region(folder)
    assert spec.name == "赣州市" and sorted(scenarios) == sorted(COUNTIES)
    out = tmp_path / "out"
    # One second: less than any county's campaign takes (each is given at least 5 s), so the region says so.
    args = ["--from", START.isoformat(), "--to", END.isoformat(), "--out", str(out), "--time-limit", "1"]
    assert main(["region", str(folder), *args]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "over the 1 s asked" in printed and "超过时限 1 秒" in printed
    region = json.loads((out / "region.json").read_text("utf-8"))
    assert region["region"] == "赣州市" and [c["county"] for c in region["counties"]] == sorted(COUNTIES)
    for county in region["counties"]:
        campaign = json.loads((out / "counties" / county["county"] / "campaign.json").read_text("utf-8"))
        placed = campaign["totals"]["on_buses"] + sum(
            len(
                json.loads((out / "counties" / county["county"] / "days" / d["date"] / "plan.json").read_text())[
                    "fallback"
                ]
            )
            for d in campaign["days"]
        )
        # Every traveller of the county whose window meets the range is planned once: on a bus, a fallback, or overdue.
        assert (
            placed + campaign["totals"]["overdue"]
            == county["travellers"]
            == len(scenarios[county["county"]].travellers)
        )
        assert county["cost"] == round(campaign["totals"]["total_cost"], 2) <= county["cost_alone"]
    for key in (
        "travellers",
        "buses",
        "pooled_buses",
        "cost",
        "cost_alone",
        "saving",
        "charter_cost",
        "reimbursement_cost",
        "ticket_cost",
        "subsidy_cost",
    ):
        assert region["totals"][key] == round(sum(c[key] for c in region["counties"]), 2)


def test_a_failing_county_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    """A county whose campaign cannot run (here: a range ending before it starts) fails its task; the region
    names the county and leaves the output folder as it was."""
    spec, scenarios = load_region(_region(tmp_path))
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("earlier", encoding="utf-8")
    with pytest.raises(RegionFailed) as failed:
        plan_region(spec, scenarios, END, START, time_limit_s=4, retries=0)
    assert failed.value.county in COUNTIES
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_a_county_with_bad_files_is_named_and_nothing_is_written(tmp_path: Path, capsys) -> None:
    """A county's scenario is read when its task is sent (one county in memory at a time); a bad one stops the
    region before anything is written, and each problem names the county's folder."""
    folder = _region(tmp_path)
    travellers = folder / "xingguo" / "travellers.csv"
    travellers.write_text(travellers.read_text("utf-8").replace("2026-02-22,gj-1,否", "2026-02-32,gj-1,否"), "utf-8")
    out = tmp_path / "out"
    args = ["--from", START.isoformat(), "--to", END.isoformat(), "--out", str(out), "--time-limit", "4"]
    assert main(["region", str(folder), *args]) == 2
    printed = " ".join(capsys.readouterr().out.split())
    assert "xingguo/travellers.csv" in printed and "nothing was written" in printed
    assert not out.exists()


def test_region_toml_is_checked(tmp_path: Path) -> None:
    folder = _region(tmp_path)
    (folder / "region.toml").write_text('name = "赣州市"\nradius = 80\n', encoding="utf-8")
    with pytest.raises(InvalidRegion, match="unknown setting"):
        load_region(folder)
    (folder / "region.toml").write_text('name = "赣州市"\nshare = [["yudu", "nowhere"]]\n', encoding="utf-8")
    with pytest.raises(InvalidRegion, match="nowhere"):
        load_region(folder)
    (folder / "region.toml").write_text('name = "赣州市"\nshare = [["yudu", "ruijin"], ["yudu", "xingguo"]]\n', "utf-8")
    with pytest.raises(InvalidRegion, match="one share group only: yudu"):
        load_region(folder)
    (folder / "region.toml").write_text('name = "赣州市"\nshare = [["yudu", 3]]\n', encoding="utf-8")
    with pytest.raises(InvalidRegion, match="列表的列表"):
        load_region(folder)


def test_a_worker_killed_mid_run_is_retried_and_the_region_completes(tmp_path: Path) -> None:
    """The test ends one county task's worker process (SIGKILL) while it plans; Ray runs the task again and the
    region still has every county."""
    import os
    import signal
    import subprocess
    import threading
    import time

    spec, scenarios = load_region(_region(tmp_path))
    killed: list[int] = []

    def kill_one_worker() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            found = subprocess.run(["pgrep", "-f", "ray::_county_campaign"], capture_output=True, text=True)
            pids = [int(p) for p in found.stdout.split()]
            if pids:  # the worker is running the county's campaign: end it mid-run
                try:
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(pids[0])
                except ProcessLookupError:  # it finished a moment ago: wait for the next one
                    pass
            time.sleep(0.02)

    killer = threading.Thread(target=kill_one_worker)
    killer.start()
    plan = plan_region(spec, scenarios, START, END, time_limit_s=12)
    killer.join()
    assert killed, "a county task's worker was found and ended"
    assert sorted(c.county for c in plan.counties) == sorted(COUNTIES)
    for c in plan.counties:  # the retried county is planned whole, like the others
        placed = sum(b.load for d in c.campaign.days for b in d.plan.buses)
        placed += sum(len(d.plan.fallback) for d in c.campaign.days) + len(c.campaign.overdue)
        assert placed == len(scenarios[c.county].travellers)


def test_pooled_coach_on_ray_carries_neighbours_and_the_split_adds_up(tmp_path: Path) -> None:
    """Three counties of 15 travellers each to one Kunshan factory: alone, each falls back (15 < threshold);
    on Ray, phase 2 pools two neighbours onto one coach. The pooled bus is in every rider county's day plan with
    the same bus_id and coach_id, coach ids are unique across the region, the finance spreadsheet has one row
    per bus and county whose shares add up to the bus, and no county pays more than alone."""
    import openpyxl

    folder = DATA / "region_pooling"
    _, scenarios = load_region(folder)
    out = tmp_path / "out"
    args = ["--from", START.isoformat(), "--to", END.isoformat(), "--out", str(out), "--time-limit", "8"]
    assert main(["region", str(folder), *args]) == 0
    region = json.loads((out / "region.json").read_text("utf-8"))
    assert region["pooled"], "the fixture's neighbours share a coach"
    assert region["totals"]["saving"] > 0
    for county in region["counties"]:
        assert county["cost"] <= county["cost_alone"]
        assert county["saving"] == round(county["cost_alone"] - county["cost"], 2)

    def day_plan(county: str, date: str) -> dict:
        return json.loads((out / "counties" / county / "days" / date / "plan.json").read_text("utf-8"))

    for bus in region["pooled"]:
        assert len(bus["counties"]) >= 2 and bus["load"] <= bus["seats"]
        assert round(sum(c["share"] for c in bus["counties"]), 2) == bus["cost"]
        for share in bus["counties"]:
            assert share["share"] <= share["fallback_replaced"]
            rides = [b for b in day_plan(share["county"], bus["date"])["buses"] if b["bus_id"] == bus["bus_id"]]
            assert [(b["coach_id"], b["load"]) for b in rides] == [(bus["coach_id"], share["riders"])]

    # Coach ids are unique across the region: no id drives two different counties' own buses.
    drivers: dict[str, set[str]] = {}
    for county in scenarios:
        campaign = json.loads((out / "counties" / county / "campaign.json").read_text("utf-8"))
        for coach in campaign["coaches"]:
            for trip in coach["trips"]:
                if not trip["bus_id"].startswith("P"):
                    drivers.setdefault(coach["coach_id"], set()).add(county)
    assert all(len(owners) == 1 for owners in drivers.values())

    # Every traveller of every county once: on one bus or one fallback, across all days.
    for county, scenario in scenarios.items():
        campaign = json.loads((out / "counties" / county / "campaign.json").read_text("utf-8"))
        seen: list[str] = [o["traveller_id"] for o in campaign["overdue"]]
        for day in campaign["days"]:
            plan = day_plan(county, day["date"])
            seen += [t for b in plan["buses"] for stop in b["stops"] for t in stop["board"]]
            seen += [f["traveller_id"] for f in plan["fallback"]]
        assert sorted(seen) == sorted(t.traveller_id for t in scenario.travellers)

    sheet = openpyxl.load_workbook(out / "cost_split.xlsx").active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == sum(len(b["counties"]) for b in region["pooled"])
    for bus in region["pooled"]:
        assert round(sum(r[7] for r in rows if r[1] == bus["bus_id"]), 2) == bus["cost"]
