"""Reasons as data: publishing keeps a fallback's cause and figures, so both languages render from them."""

from __future__ import annotations

from typing import Any

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
