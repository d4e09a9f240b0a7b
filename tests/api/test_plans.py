"""Planning jobs in a worker process, publishing, re-planning, manifests, boarding and crashes."""

from __future__ import annotations

import csv
import io
import os
import signal
import time
from pathlib import Path

import openpyxl
from sqlalchemy import text

from api.db import make_engine
from tests.api.conftest import Api, wait_for_job

DAY = "2026-02-21"


def test_plan_publish_and_next_date(api: Api) -> None:
    """POST /plans answers 202 at once; the done job holds plan.json; publishing plans its travellers,
    and the next day's plan does not take them again."""
    started = time.monotonic()
    response = api.post("/plans", json={"date": DAY, "time_limit": 2})
    assert response.status_code == 202 and time.monotonic() - started < 2
    # The API keeps answering while the worker process solves.
    assert api.get("/townships").status_code == 200
    job = wait_for_job(api, response.json()["id"])
    assert job["status"] == "done" and job["progress"] == 1.0
    plan = job["plan"]
    on_buses = {t for b in plan["buses"] for s in b["stops"] for t in s["board"]}
    assert on_buses and plan["totals"]["travellers"] == len(on_buses) + len(plan["fallback"])
    assert all(t["status"] == "registered" for t in api.travellers())  # planning alone changes nobody
    assert api.post(f"/plans/{job['id']}/publish").status_code == 200
    assert api.post(f"/plans/{job['id']}/publish").status_code == 409
    planned = {str(t["id"]) for t in api.travellers(status="planned")}
    assert on_buses <= planned
    assert all(t["ticket_code"] for t in api.travellers(status="planned") if t["mode"] == "bus")
    nxt = api.plan("2026-02-22", publish=False)["plan"]
    taken = {t for b in nxt["buses"] for s in b["stops"] for t in s["board"]} | {
        f["traveller_id"] for f in nxt["fallback"]
    }
    assert not taken & planned


def test_stale_plan_cannot_be_published(api: Api) -> None:
    """A traveller changed after planning makes publishing a 409; nothing is half-published."""
    job = api.plan(DAY, publish=False)
    t = api.by_ref("T010")
    api.patch(f"/travellers/{t['id']}", json={"phone": "13811110000"})
    response = api.post(f"/plans/{job['id']}/publish")
    assert response.status_code == 409 and response.json()["detail_zh"]
    assert api.travellers(status="planned") == [] and api.get("/buses").json() == []


def test_replan_keeps_published_buses_and_takes_only_changes(api: Api) -> None:
    """Re-planning a published date plans only late registrations and freed travellers; published buses
    stay unless released, and the coaches they use are not offered again."""
    first = api.plan(DAY)
    buses = api.get("/buses").json()
    assert len(buses) == len(first["plan"]["buses"])
    late = {
        "name": "晚登记",
        "id_number": "360731199001010012",
        "phone": "13800000777",
        "township_id": "360731102",
        "factory_id": "ks-yushan",
        "earliest_date": DAY,
        "report_date": DAY,
    }
    late_id = api.post("/travellers", json=late).json()["id"]
    second = api.plan(DAY)
    riders = {t for b in second["plan"]["buses"] for s in b["stops"] for t in s["board"]}
    riders |= {f["traveller_id"] for f in second["plan"]["fallback"]}
    assert riders == {str(late_id)}
    assert second["kept_buses"] == len(buses)
    # Releasing a bus frees its travellers for the next plan of that date.
    bus = buses[0]
    released = api.post(f"/buses/{bus['id']}/release").json()
    assert released["released"] == bus["load"]
    third = api.plan(DAY, publish=False)
    again = {t for b in third["plan"]["buses"] for s in b["stops"] for t in s["board"]}
    assert len(again) == bus["load"]


def test_manifest_formats_and_masking(api: Api) -> None:
    """JSON, CSV and XLSX manifests; ID numbers in full for the dispatcher and the rider's own township, masked
    for the factory; scope by township."""
    api.plan(DAY)
    bus = api.get("/buses").json()[0]
    full = api.get(f"/buses/{bus['id']}/manifest").json()["travellers"]
    assert len(full) == bus["load"] and "*" not in full[0]["id_number"]
    township = full[0]["township_id"]
    own = api.get(f"/buses/{bus['id']}/manifest", township).json()["travellers"]
    assert own and all(r["township_id"] == township and "*" not in r["id_number"] for r in own)
    factory = full[0]["factory_id"]
    bound = api.get(f"/buses/{bus['id']}/manifest", factory).json()["travellers"]
    assert bound and all(r["factory_id"] == factory and "*" in r["id_number"] for r in bound)
    outsider = next(t for t in ("360731100", "360731101", "360731102") if t not in {r["township_id"] for r in full})
    assert api.get(f"/buses/{bus['id']}/manifest", outsider).status_code == 404
    text_csv = api.get(f"/buses/{bus['id']}/manifest", params={"format": "csv"}).content.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(text_csv)))) == bus["load"] + 1
    xlsx = api.get(f"/buses/{bus['id']}/manifest", township, params={"format": "xlsx"}).content
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    assert sheet.max_row == len(own) + 1
    assert api.get("/buses/nope/manifest").status_code == 404


def test_boarding_frees_no_shows(api: Api) -> None:
    """The township confirms boarding; a no-show goes back to registered and into the next plan."""
    api.plan(DAY)
    bus = api.get("/buses").json()[0]
    rows = api.get(f"/buses/{bus['id']}/manifest").json()["travellers"]
    township = rows[0]["township_id"]
    mine = [r["traveller_id"] for r in rows if r["township_id"] == township]
    result = api.post(f"/buses/{bus['id']}/boarding", township, json={"no_shows": [mine[0]]}).json()
    assert result["no_show"] == 1 and result["boarded"] == len(mine) - 1
    again = api.post(f"/buses/{bus['id']}/boarding", township, json={"no_shows": []}).json()
    assert again["boarded"] == 0
    freed = api.get(f"/travellers/{mine[0]}").json()
    assert freed["status"] == "registered" and freed["no_shows"] == 1 and freed["bus_id"] is None
    assert api.post(f"/buses/{bus['id']}/release").status_code == 409  # departed


def test_crash_leaves_job_failed_and_travellers_untouched(api: Api) -> None:
    """Killing the worker process mid-solve marks the job failed; no traveller changes, and none of the solver
    processes it forked for the destination areas outlives it."""
    before = api.travellers()
    job_id = api.post("/plans", json={"date": DAY, "time_limit": 60}).json()["id"]
    engine = make_engine(api.db.url, api.db.schema)
    pid, solvers = None, []
    deadline = time.monotonic() + 30
    while not solvers and time.monotonic() < deadline:  # until it is solving its areas in forked processes
        with engine.connect() as connection:
            pid = connection.execute(text("select worker_pid from plans where id = :i"), {"i": job_id}).scalar()
        solvers = _children(pid) if pid is not None else []
        time.sleep(0.1)
    engine.dispose()
    assert pid is not None and solvers
    os.kill(pid, signal.SIGKILL)
    job = wait_for_job(api, job_id, timeout_s=30)
    assert job["status"] == "failed" and "exit code" in job["error"]
    assert _all_gone(solvers, within_s=3), "a solver process of the killed job is still running"
    assert api.travellers() == before
    assert api.post(f"/plans/{job_id}/publish").status_code == 409


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _all_gone(pids: list[int], within_s: float) -> bool:
    """Whether every process of ``pids`` has ended (a zombie waiting to be reaped counts as ended)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not [p for p in pids if _state(p) not in ("", "Z")]:
            return True
        time.sleep(0.2)
    return False


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return ""
