"""Plans typed end to end: the served plan is plan.json (``Plan.from_dict`` reads it back), the OpenAPI document
describes it, and with ``traveller_refs`` a plan fetched from the service checks against the imported file."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import replace
from typing import Any

from api.schemas import PlanBus, PlanDocument, PlanFallback, PlanStop, PlanSubsidy, PlanTotals
from scheduler.check import check_plan
from scheduler.plan import Plan
from scheduler.policy import policy_from_dict
from scheduler.scenario import load_scenario
from tests.api.conftest import SMALL, SMALL_POLICY, Api, wait_for_job

DAY = "2026-02-20"


def _finished(api: Api, date: str = DAY) -> dict[str, Any]:
    return api.plan(date, publish=False)


def test_served_plan_reads_back_with_from_dict(api: Api) -> None:
    """GET /plans/{id} serves exactly what Plan.to_dict writes: from_dict and to_dict give it back unchanged."""
    served = _finished(api)["plan"]
    plan = Plan.from_dict(served)
    assert plan.to_dict() == served
    assert served["buses"] and served["fallback"]  # the day has both, so both shapes are checked
    assert served["stats"]["violations"] == 0


def test_schemas_name_every_field_of_plan_json(api: Api) -> None:
    """Each schema has exactly the fields Plan.to_dict writes at its level (no drift, no key left out)."""
    served = _finished(api)["plan"]
    bus, fallback = served["buses"][0], served["fallback"][0]
    assert set(PlanDocument.model_fields) == set(served)
    assert set(PlanBus.model_fields) == set(bus)
    assert set(PlanStop.model_fields) == set(bus["stops"][0])
    assert set(PlanFallback.model_fields) == set(fallback)
    assert set(PlanTotals.model_fields) == set(served["totals"])
    assert all(set(PlanSubsidy.model_fields) == set(s) for s in served["subsidies"])
    assert PlanDocument.model_validate(served).model_dump(mode="json") == served


def test_openapi_describes_plans_and_buses(api: Api) -> None:
    """PlanPublic.plan and BusPublic.bus are models in the OpenAPI document, not free-form objects."""
    schemas = api.client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("PlanDocument", "PlanBus", "PlanStop", "PlanFallback", "PlanTotals", "PlanStats", "TravellerRef"):
        assert name in schemas, name
    plan = schemas["PlanPublic"]["properties"]["plan"]
    assert {"$ref": "#/components/schemas/PlanDocument"} in plan["anyOf"]
    assert schemas["BusPublic"]["properties"]["bus"]["$ref"] == "#/components/schemas/PlanBus"
    refs = schemas["PlanPublic"]["properties"]["traveller_refs"]["additionalProperties"]
    assert refs["$ref"] == "#/components/schemas/TravellerRef"
    fallback = schemas["PlanFallback"]["properties"]
    assert {"cause", "params", "reason", "reason_zh"} <= set(fallback)
    assert set(fallback["cause"]["enum"]) >= {"timetable", "fleet", "underfilled", "small_flow", "no_seat"}
    assert "violations" in schemas["PlanStats"]["required"]
    manifest = schemas["ManifestRow"]["properties"]
    assert {"traveller_id", "ref", "board_time"} <= set(manifest)


def _translate(plan: Plan, to_file: dict[str, str]) -> Plan:
    """The plan with every service traveller id replaced by the imported file's traveller_id."""
    buses = tuple(
        replace(
            b,
            stops=tuple(
                replace(s, board=tuple(to_file[t] for t in s.board), alight=tuple(to_file[t] for t in s.alight))
                for s in b.stops
            ),
        )
        for b in plan.buses
    )
    fallback = tuple(replace(f, traveller_id=to_file[f.traveller_id]) for f in plan.fallback)
    subsidies = {to_file[t]: a for t, a in plan.subsidies.items()}
    return replace(plan, buses=buses, fallback=fallback, subsidies=subsidies)


def _rows(name: str) -> list[dict[str, str]]:
    with (SMALL / name).open(encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def test_plan_from_the_service_checks_against_the_imported_file(empty_api: Api) -> None:
    """Load a county through the HTTP API (places, fleet, settings, the travellers spreadsheet), plan a day, fetch
    the plan, rebuild it with Plan.from_dict, name its travellers by the file's traveller_id through traveller_refs:
    the one plan checker finds no violation against the problem made from the imported file itself."""
    api = empty_api
    for row in _rows("townships.csv"):
        body = {"id": row["township_id"], "name": row["name"], "lat": float(row["lat"]), "lon": float(row["lon"])}
        assert api.post("/townships", "admin", json=body).status_code == 201
    for row in _rows("factories.csv"):
        factory_id = row.pop("factory_id")
        body = {**row, "id": factory_id, "lat": float(row["lat"]), "lon": float(row["lon"])}
        assert api.post("/factories", "admin", json=body).status_code == 201, body
    for row in _rows("fleet.csv"):
        numbers = {"seats": int(row["seats"]), "count": int(row["count"])}
        costs = {"fixed_cost": float(row["fixed_cost"]), "cost_per_km": float(row["cost_per_km"])}
        body = {**row, **numbers, **costs}
        assert api.post("/fleet", "admin", json=body).status_code == 201
    file_policy = {"charter_min_group": 4}  # tests/data/scenario_small/policy.toml
    settings = {**file_policy, **SMALL_POLICY}
    assert api.patch("/rules", "admin", json=settings).status_code == 200
    content = (SMALL / "travellers.csv").read_bytes()
    imported = api.post("/travellers/import", files={"file": ("travellers.csv", content)})
    assert imported.status_code == 200 and imported.json()["imported"] == 10, imported.text

    for day in (DAY, "2026-02-21"):
        job = api.plan(day, publish=False)
        served = api.get(f"/plans/{job['id']}").json()
        plan = Plan.from_dict(served["plan"])
        refs = served["traveller_refs"]
        ids = {t for b in plan.buses for t in b.traveller_ids} | {f.traveller_id for f in plan.fallback}
        assert set(refs) == ids
        # (township_id, traveller_id) is the file's key; the fixture's traveller_ids happen to be unique overall.
        file_ids = {(r["township_id"], r["traveller_id"]) for r in _rows("travellers.csv")}
        assert all((r["township_id"], r["ref"]) in file_ids for r in refs.values())
        translated = _translate(plan, {service_id: r["ref"] for service_id, r in refs.items()})
        scenario = load_scenario(SMALL)
        problem = replace(scenario.problem_for(dt.date.fromisoformat(day)), rules=policy_from_dict(settings))
        assert check_plan(problem, translated) == []
        assert {t.traveller_id for t in problem.travellers} == {r["ref"] for r in refs.values()}


def test_bus_and_manifest_name_riders_by_ref_within_scope(api: Api) -> None:
    """Bus endpoints map the riders the caller may see to their township refs; manifests carry ``ref``."""
    job = api.plan("2026-02-21")
    by_id = {str(t["id"]): t for t in api.travellers()}
    buses = api.get("/buses").json()
    assert len(buses) == len(job["plan"]["buses"])
    for bus in buses:
        riders = {t for s in bus["bus"]["stops"] for t in s["board"]}
        assert set(bus["traveller_refs"]) == riders
        assert all(by_id[i]["ref"] == r["ref"] for i, r in bus["traveller_refs"].items())
    bus = buses[0]
    township = next(iter(bus["traveller_refs"].values()))["township_id"]
    mine = api.get(f"/buses/{bus['id']}", township).json()
    assert mine["traveller_refs"] and {r["township_id"] for r in mine["traveller_refs"].values()} == {township}
    assert mine["load"] == len(mine["traveller_refs"])
    rows = api.get(f"/buses/{bus['id']}/manifest").json()["travellers"]
    assert all(by_id[str(r["traveller_id"])]["ref"] == r["ref"] for r in rows)
    assert all(r["board_time"] and r["boards_at"] for r in rows)
    text = api.get(f"/buses/{bus['id']}/manifest", params={"format": "csv"}).content.decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    assert "乡镇编号 ref" in header and "上车时间 board_time" in header


def test_planning_job_reports_in_both_languages(api: Api) -> None:
    """A finished job's message is stored in English and in Chinese; a waiting job's too."""
    job = _finished(api)
    assert "buses" in job["message"] and "包车" in job["message_zh"]
    assert job["error"] is None and job["error_zh"] is None
    listed = api.get("/plans").json()
    assert listed[0]["plan"] is None and listed[0]["message_zh"] == job["message_zh"]


def test_start_plan_rejects_bad_input(api: Api) -> None:
    """Bad bodies and unknown plans answer 4xx with a message, never 500."""
    for body in ({"date": "2026-13-40"}, {"date": DAY, "time_limit": 0}, {"date": DAY, "time_limit": "x"}, [], {}):
        response = api.post("/plans", json=body)
        assert response.status_code == 422 and response.json()["detail_zh"], body
    assert api.get("/plans/999999").status_code == 404
    assert api.get("/plans/abc").status_code == 422
    assert api.post("/plans/999999/publish").status_code == 404
    assert api.get("/plans/999999/fallback").status_code == 404
    waiting = wait_for_job(api, api.post("/plans", json={"date": DAY, "time_limit": 1}).json()["id"])
    assert api.get(f"/plans/{waiting['id']}/fallback", params={"format": "pdf"}).status_code == 422
