"""Arrivals, subsidies, reimbursements against the cap, expected staff, and stats."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.api.conftest import Api

DAY = "2026-02-21"


def _bus_to(api: Api, factory: str) -> tuple[dict, list[dict]]:  # type: ignore[type-arg]
    for bus in api.get("/buses").json():
        rows = api.get(f"/buses/{bus['id']}/manifest", factory)
        if rows.status_code == 200:
            return bus, rows.json()["travellers"]
    raise AssertionError(f"no bus to {factory}")


def test_arrival_by_id_and_ticket_is_idempotent_and_scoped(api: Api) -> None:
    """A factory confirms its own travellers by id or ticket code, once; others' are 404."""
    api.plan(DAY)
    _bus, rows = _bus_to(api, "ks-yushan")
    first = api.post("/arrivals", "ks-yushan", json={"traveller_id": rows[0]["traveller_id"]}).json()
    assert first["changed"] is True
    assert api.post("/arrivals", "ks-yushan", json={"traveller_id": rows[0]["traveller_id"]}).json()["changed"] is False
    by_code = api.post("/arrivals", "ks-yushan", json={"ticket_code": rows[1]["ticket_code"].lower()})
    assert by_code.status_code == 200 and by_code.json()["traveller_id"] == rows[1]["traveller_id"]
    assert api.post("/arrivals", "dg-humen", json={"traveller_id": rows[2]["traveller_id"]}).status_code == 404
    assert api.post("/arrivals", "ks-yushan", json={"ticket_code": "NOPE"}).status_code == 404
    assert api.post("/arrivals", "ks-yushan", json={}).status_code == 422
    unplanned = api.post(
        "/travellers",
        json={
            "name": "未安排",
            "id_number": "360731199001010012",
            "phone": "13800000888",
            "township_id": "360731102",
            "factory_id": "ks-yushan",
            "earliest_date": "2026-03-01",
            "report_date": "2026-03-02",
        },
    ).json()
    assert api.post("/arrivals", "ks-yushan", json={"traveller_id": unplanned["id"]}).status_code == 409


def test_whole_bus_with_exceptions_and_concurrency(api: Api) -> None:
    """A whole bus at once, naming a no-show and one who went elsewhere; concurrent repeats change nothing."""
    api.plan(DAY)
    bus, rows = _bus_to(api, "ks-yushan")
    ids = [r["traveller_id"] for r in rows]
    body = {
        "bus_id": bus["id"],
        "exceptions": [
            {"traveller_id": ids[0], "outcome": "no_show"},
            {"traveller_id": ids[1], "outcome": "went_elsewhere"},
        ],
    }
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: api.post("/arrivals/bus", "ks-yushan", json=body), range(6)))
    assert all(r.status_code == 200 for r in results), [r.text for r in results]
    assert sum(r.json()["arrived"] for r in results) == len(ids) - 2
    assert sum(r.json()["no_show"] for r in results) == 1
    assert api.get(f"/travellers/{ids[0]}").json()["status"] == "registered"
    assert api.get(f"/travellers/{ids[1]}").json()["status"] == "went_elsewhere"
    assert len(api.travellers(status="arrived")) == len(ids) - 2


def test_subsidy_once_after_confirmed_arrival(api: Api) -> None:
    """Registered-poor travellers get the rule's subsidy only after arrival, and only once."""
    api.plan(DAY)
    assert api.get("/subsidies").json()["subsidies"] == []
    poor = [t for t in api.travellers(status="planned") if t["registered_poor"] and t["mode"] == "bus"]
    assert poor
    for t in poor:
        for _ in range(2):
            api.post("/arrivals", t["factory_id"], json={"traveller_id": t["id"]})
    subsidies = api.get("/subsidies").json()
    assert len(subsidies["subsidies"]) == len(poor)
    rules = api.get("/rules", who=None).json()
    expected = {"广东省": rules["subsidy_out_of_province"], "江苏省": rules["subsidy_out_of_province"]}
    assert all(s["amount"] == expected[s["province"]] for s in subsidies["subsidies"])
    notice = api.get("/subsidies", params={"format": "notice"}).content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(notice)))
    assert len(lines) == len(poor) + 1 and all("*" in line[1] for line in lines[1:])
    assert api.get("/subsidies", params={"format": "xlsx"}).status_code == 200
    assert api.get("/subsidies", "360731100", params={"format": "xlsx"}).status_code == 403


def test_reimbursement_never_exceeds_cap(api_on_day: Callable[[dt.date], Api]) -> None:
    """Township-transport travellers give a cap; receipts beyond it are 409, approvals too; each traveller is on
    at most one submitted or approved receipt, and a rejected receipt frees its travellers."""
    api = api_on_day(dt.date.fromisoformat(DAY))
    api.patch("/rules", "admin", json={"charter_min_group": 20, "scattered_max": 1, "price_alternatives": True})
    api.plan(DAY)
    summary = api.get("/reimbursements", "360731100").json()[0]
    assert len(summary["travellers"]) >= 2, summary
    cap = summary["cap"]
    ids = [t["traveller_id"] for t in summary["travellers"]]
    first, rest = ids[:1], ids[1:]
    cap_first = summary["travellers"][0]["amount_due"]

    def receipt(number: str, amount: float, covered: list[int]) -> Any:
        body = {"number": number, "amount": amount, "traveller_ids": covered}
        return api.post("/reimbursements/receipts", "360731100", json=body)

    too_much = receipt("R1", round(cap_first + 1, 2), first)
    assert too_much.status_code == 409 and too_much.json()["detail_zh"]
    r1 = receipt("R1", cap_first, first)
    assert r1.status_code == 201
    assert receipt("R1", 1, rest).status_code == 409  # the number again
    twice = receipt("R2", 1, ids)  # the first traveller again
    assert twice.status_code == 409 and twice.json()["travellers"] == first
    r2 = receipt("R2", round(cap - cap_first, 2), rest)
    assert r2.status_code == 201
    assert receipt("R3", 1, rest).status_code == 409
    other = api.by_ref("T003")
    assert receipt("R4", 1, [other["id"]]).status_code == 422
    assert api.post(f"/reimbursements/receipts/{r1.json()['id']}/approve", "360731100", json={}).status_code == 403
    assert api.post(f"/reimbursements/receipts/{r1.json()['id']}/approve", json={}).json()["status"] == "approved"
    assert api.post(f"/reimbursements/receipts/{r2.json()['id']}/reject", json={"note": "票据不清"}).status_code == 200
    final = api.get("/reimbursements", "360731100").json()[0]
    assert final["approved"] <= final["cap"] and final["submitted"] == 0
    assert receipt("R5", 1, rest).status_code == 201  # freed by the rejection
    assert api.get("/reimbursements", "dg-humen").status_code == 403


def test_receipts_only_for_travellers_who_travelled(api_on_day: Callable[[dt.date], Api]) -> None:
    """A receipt before the travel date, or for a cancelled traveller, is 422; the same receipts racing for one
    traveller: exactly one is accepted (the database's constraint, not only the check)."""
    early = api_on_day(dt.date.fromisoformat(DAY) - dt.timedelta(days=1))
    early.patch("/rules", "admin", json={"charter_min_group": 20, "scattered_max": 1, "price_alternatives": True})
    early.plan(DAY)
    summary = early.get("/reimbursements", "360731100").json()[0]
    ids = [t["traveller_id"] for t in summary["travellers"]]
    body = {"number": "E1", "amount": 1, "traveller_ids": ids[:1]}
    refused = early.post("/reimbursements/receipts", "360731100", json=body)
    assert refused.status_code == 422 and refused.json()["travellers"] == ids[:1]
    api = api_on_day(dt.date.fromisoformat(DAY))
    assert api.delete(f"/travellers/{ids[0]}", "360731100", json={"reason": "不去了"}).status_code == 200
    cancelled = api.post("/reimbursements/receipts", "360731100", json=body)
    assert cancelled.status_code == 422
    with ThreadPoolExecutor(6) as pool:
        answers = list(
            pool.map(
                lambda n: (
                    api.post(
                        "/reimbursements/receipts",
                        "360731100",
                        json={"number": f"C{n}", "amount": 1, "traveller_ids": ids[1:2]},
                    ).status_code
                ),
                range(6),
            )
        )
    assert sorted(answers) == [201] + [409] * 5
    assert sum(len(r["traveller_ids"]) for r in api.get("/reimbursements", "360731100").json()[0]["receipts"]) == 1


def test_expected_staff_matching(api: Api) -> None:
    """A factory uploads its expected staff; the service shows registered, not registered and unlisted."""
    t = api.by_ref("T003")  # bound for dg-humen
    content = f"id_number,name\n{t['id_number']},{t['name']}\n360731199001010012,未登记\n".encode()
    response = api.put("/factories/dg-humen/expected", "dg-humen", files={"file": ("staff.csv", content)})
    assert response.status_code == 200 and response.json()["expected"] == 2
    match = api.get("/factories/dg-humen/expected", "dg-humen").json()
    assert [p["traveller_id"] for p in match["registered"]] == [t["id"]]
    assert len(match["not_registered"]) == 1 and "*" in match["not_registered"][0]["id_number"]
    assert {p["traveller_id"] for p in match["not_on_list"]} == {x["id"] for x in api.travellers("dg-humen")} - {
        t["id"]
    }
    assert api.get("/factories/dg-humen/expected", "ks-yushan").status_code == 404
    bad = api.put("/factories/dg-humen/expected", "dg-humen", files={"file": ("s.csv", b"id_number\n123\n")})
    assert bad.status_code == 422


def test_stats_per_township_factory_and_date(api: Api) -> None:
    """Stats count registered, planned, departed, arrived and no-shows; a township sees only its own."""
    api.plan(DAY)
    bus, rows = _bus_to(api, "ks-yushan")
    ids = [r["traveller_id"] for r in rows]
    api.post(
        "/arrivals/bus",
        "ks-yushan",
        json={"bus_id": bus["id"], "exceptions": [{"traveller_id": ids[0], "outcome": "no_show"}]},
    )
    stats = api.get("/stats").json()
    assert stats["overall"]["registered"] == 10
    assert stats["factories"]["ks-yushan"]["arrived"] == len(ids) - 1
    assert stats["factories"]["ks-yushan"]["no_show"] == 1
    assert stats["by_date"][DAY]["arrived"] == len(ids) - 1
    assert stats["factories"]["ks-yushan"]["rate"] == round((len(ids) - 1) / 4, 4)
    own = api.get("/stats", "360731100").json()
    assert set(own["townships"]) == {"360731100"}
    assert api.get("/stats", params={"date": DAY}).json()["overall"]["planned"] >= len(ids) - 1
