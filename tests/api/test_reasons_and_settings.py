"""Reasons as data through publishing, and the checker's count at publishing."""

from __future__ import annotations

from typing import Any

from api import models as m
from api.db import make_engine, session_scope
from tests.api.conftest import Api

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


def _set_violations(api: Api, job_id: int, violations: int | None) -> None:
    engine = make_engine(api.db.url, api.db.schema)
    with session_scope(engine) as session:
        job = session.get(m.PlanJob, job_id)
        result = dict(job.result)
        stats = dict(result["plan"]["stats"])
        if violations is None:
            stats.pop("violations")
        else:
            stats["violations"] = violations
        result["plan"] = {**result["plan"], "stats": stats}
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
