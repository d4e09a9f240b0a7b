"""Reasons as data through publishing and exports, the checker's count at publishing, and no county until its
settings are stored."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlmodel import Session

from api import models as m
from api.convert import policy_data
from api.db import make_engine, session_scope, upgrade
from api.services.seed import FIXTURE, seed
from tests.api.conftest import SMALL, Api, Database

DAY = "2026-02-20"  # one bus, and T010 (贡江镇 -> 玉山电子厂, alone) on a free ticket


def _fallback_line(job: dict[str, Any], ref: str, api: Api) -> dict[str, Any]:
    service_id = str(api.by_ref(ref)["id"])
    return next(f for f in job["plan"]["fallback"] if f["traveller_id"] == service_id)


def test_published_fallback_keeps_its_cause_and_both_languages(api: Api) -> None:
    """Publishing stores the fallback's cause and figures on the traveller; both sentences render from them."""
    job = api.plan(DAY)
    line = _fallback_line(job, "T010", api)
    assert line["cause"] == "small_flow" and line["reason_zh"] and line["reason"]
    t = api.get(f"/travellers/{line['traveller_id']}", "360731100").json()
    assert t["mode"] == line["mode"] and t["fallback_cause"] == line["cause"]
    assert t["fallback_params"] == line["params"]
    assert t["fallback_reason"] == line["reason"] and t["fallback_reason_zh"] == line["reason_zh"]
    on_bus = next(x for x in api.travellers() if x["mode"] == "bus")
    assert on_bus["fallback_cause"] is None and on_bus["fallback_reason_zh"] is None


def test_fallback_exports_speak_chinese(api: Api) -> None:
    """GET /plans/{id}/fallback: JSON with cause, params and both sentences; CSV and XLSX with the Chinese one."""
    job = api.plan(DAY, publish=False)
    line = _fallback_line(job, "T010", api)
    rows = api.get(f"/plans/{job['id']}/fallback").json()["fallback"]
    assert len(rows) == len(job["plan"]["fallback"])
    row = next(r for r in rows if str(r["traveller_id"]) == line["traveller_id"])
    assert row["ref"] == "T010" and row["cause"] == "small_flow" and row["params"] == line["params"]
    assert row["reason"] == line["reason"] and row["reason_zh"] == line["reason_zh"]
    text = api.get(f"/plans/{job['id']}/fallback", params={"format": "csv"}).content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert "原因 reason" in table[0] and [line["reason_zh"]] == [c for c in table[1] if c == line["reason_zh"]]
    assert line["reason"] not in text
    xlsx = api.get(f"/plans/{job['id']}/fallback", params={"format": "xlsx"}).content
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    assert line["reason_zh"] in [c.value for c in sheet[2]]
    assert api.get(f"/plans/{job['id']}/fallback", "360731100").status_code == 403


def _set_violations(api: Api, job_id: int, violations: int | None) -> None:
    engine = make_engine(api.db.url, api.db.schema)
    with session_scope(engine) as session:
        job = session.get(m.PlanJob, job_id)
        result = dict(job.result)
        (day,) = result["days"]
        stored = result["days"][day]
        stats = dict(stored["plan"]["stats"])
        if violations is None:
            stats.pop("violations")
        else:
            stats["violations"] = violations
        result["days"] = {day: {**stored, "plan": {**stored["plan"], "stats": stats}}}
        job.result = result
        session.add(job)
    engine.dispose()


def test_publishing_refuses_a_plan_that_breaks_rules(api: Api) -> None:
    """A plan whose checker count is not 0 (a planner bug) is not published: 409 in both languages, nobody planned."""
    job = api.plan(DAY, publish=False)
    assert job["plan"]["stats"]["violations"] == 0
    _set_violations(api, job["id"], 2)
    response = api.post(f"/plans/{job['id']}/publish")
    assert response.status_code == 409
    body = response.json()
    assert body["violations"] == 2 and "2 planning rule" in body["detail"] and "违反 2 条" in body["detail_zh"]
    assert api.travellers(status="planned") == [] and api.get("/buses").json() == []
    _set_violations(api, job["id"], None)
    assert api.post(f"/plans/{job['id']}/publish").status_code == 409
    _set_violations(api, job["id"], 0)
    assert api.post(f"/plans/{job['id']}/publish").status_code == 200


def test_an_empty_database_plans_for_no_county(empty_api: Api) -> None:
    """No county, province or depot until the county's settings are stored: /rules says what is missing and
    POST /plans answers 409 naming it in English and Chinese, whatever PolicyRules' defaults are."""
    api = empty_api
    rules = api.get("/rules", who=None).json()
    assert rules["county"] is None and rules["province"] is None
    assert rules["missing_settings"] == ["county", "province", "depot_lat", "depot_lon"]
    response = api.post("/plans", json={"date": DAY, "time_limit": 1})
    assert response.status_code == 409
    body = response.json()
    assert body["missing"] == ["county", "province", "depot_lat", "depot_lon"]
    assert "county, province, depot_lat, depot_lon" in body["detail"] and "县名（county）" in body["detail_zh"]
    assert api.get("/plans").json() == []
    assert api.patch("/rules", "admin", json={"county": "新化县", "province": "湖南省"}).status_code == 200
    response = api.post("/plans", json={"date": DAY, "time_limit": 1})
    assert response.status_code == 409 and response.json()["missing"] == ["depot_lat", "depot_lon"]
    assert api.patch("/rules", "admin", json={"depot_lat": 27.74, "depot_lon": 111.31}).status_code == 200
    assert api.get("/rules", who=None).json()["missing_settings"] == []
    assert api.post("/plans", json={"date": DAY, "time_limit": 1}).status_code == 202
    assert api.patch("/rules", "admin", json={"county": ""}).json()["missing_settings"] == ["county"]
    assert api.post("/plans", json={"date": DAY, "time_limit": 1}).status_code == 409


def test_rules_reject_bad_settings_with_422(api: Api) -> None:
    """Unknown settings and values of the wrong kind or shape answer 422 with a message; nothing is stored."""
    before = api.get("/rules", who=None).json()
    for body in (
        {"nope": 1},
        {"charter_min_group": "many"},
        {"depot_lat": "north"},
        {"assembly_points": 5},
        {"assembly_points": [{"id": "x"}]},
        {"depart_from": "25:00"},
    ):
        response = api.patch("/rules", "admin", json=body)
        assert response.status_code == 422 and response.json()["detail_zh"], (body, response.text)
    assert api.patch("/rules", "admin", json=[1]).status_code == 422
    assert api.patch("/rules", "360731100", json={"county": "x"}).status_code == 403
    assert api.get("/rules", who=None).json() == before


def _yudu_folder(tmp_path: Path) -> Path:
    """scenario_small's people, factories and fleet with the fixture county's townships and policy.toml."""
    folder = tmp_path / "yudu-small"
    shutil.copytree(SMALL, folder)
    for name in ("policy.toml", "townships.csv"):
        shutil.copy(FIXTURE / name, folder / name)
    return folder


def test_seed_stores_the_county_settings_explicitly(database: Database, tmp_path: Path) -> None:
    """Seeding with the fixture county's policy.toml stores every setting it names, the home county, province and
    depot included; seeding again adds nothing and keeps what the dispatcher changed."""
    import tomllib

    folder = _yudu_folder(tmp_path)
    named = tomllib.loads((folder / "policy.toml").read_text(encoding="utf-8"))
    engine = make_engine(database.url, database.schema)
    upgrade(engine)
    with Session(engine) as session:
        assert policy_data(session) == {}
    counts = seed(engine, "2026", folder)
    assert counts["settings"] == len(named) and counts["travellers"] == 10
    with Session(engine) as session:
        stored = policy_data(session)
    assert {k: stored[k] for k in ("county", "province", "depot_lat", "depot_lon")} == {
        "county": "于都县",
        "province": "江西省",
        "depot_lat": pytest.approx(25.9594),
        "depot_lon": pytest.approx(115.411),
    }
    assert set(stored) == set(named)
    with session_scope(engine) as session:
        row = session.get(m.PolicySetting, "policy")
        row.data = {**row.data, "charter_min_group": 7}
        session.add(row)
    again = seed(engine, "2026", folder)
    assert again["settings"] == 0 and again["travellers"] == 0
    with Session(engine) as session:
        assert policy_data(session)["charter_min_group"] == 7
    engine.dispose()


def test_fixture_county_names_its_home_settings() -> None:
    """``fanggang seed`` loads fixtures/yudu, whose policy.toml names the county, province and depot."""
    import tomllib

    named = tomllib.loads((FIXTURE / "policy.toml").read_text(encoding="utf-8"))
    assert {"county", "province", "depot_lat", "depot_lon"} <= set(named)
