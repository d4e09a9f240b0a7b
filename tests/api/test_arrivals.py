"""Arrivals, subsidies, reimbursements against the cap, expected staff, and stats."""

from __future__ import annotations

import csv
import io
from concurrent.futures import ThreadPoolExecutor

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


def test_reimbursement_never_exceeds_cap(api: Api) -> None:
    """Township-transport travellers give a cap; receipts beyond it are 409, approvals too."""
    api.patch("/rules", json={"charter_min_group": 20, "scattered_max": 1, "price_alternatives": True})
    api.plan(DAY)
    summary = api.get("/reimbursements", "360731100").json()[0]
    assert summary["travellers"], summary
    cap = summary["cap"]
    ids = [t["traveller_id"] for t in summary["travellers"]]
    too_much = api.post(
        "/reimbursements/receipts", "360731100", json={"number": "R1", "amount": cap + 1, "traveller_ids": ids}
    )
    assert too_much.status_code == 409 and too_much.json()["detail_zh"]
    half = round(cap / 2, 2)
    r1 = api.post("/reimbursements/receipts", "360731100", json={"number": "R1", "amount": half, "traveller_ids": ids})
    assert r1.status_code == 201
    assert (
        api.post(
            "/reimbursements/receipts", "360731100", json={"number": "R1", "amount": 1, "traveller_ids": ids}
        ).status_code
        == 409
    )
    r2 = api.post(
        "/reimbursements/receipts",
        "360731100",
        json={"number": "R2", "amount": round(cap - half, 2), "traveller_ids": ids},
    )
    assert r2.status_code == 201
    assert (
        api.post(
            "/reimbursements/receipts", "360731100", json={"number": "R3", "amount": 1, "traveller_ids": ids}
        ).status_code
        == 409
    )
    other = api.by_ref("T003")
    assert (
        api.post(
            "/reimbursements/receipts", "360731100", json={"number": "R4", "amount": 1, "traveller_ids": [other["id"]]}
        ).status_code
        == 422
    )
    assert api.post(f"/reimbursements/receipts/{r1.json()['id']}/approve", "360731100", json={}).status_code == 403
    assert api.post(f"/reimbursements/receipts/{r1.json()['id']}/approve", json={}).json()["status"] == "approved"
    assert api.post(f"/reimbursements/receipts/{r2.json()['id']}/reject", json={"note": "票据不清"}).status_code == 200
    final = api.get("/reimbursements", "360731100").json()[0]
    assert final["approved"] <= final["cap"] and final["submitted"] == 0
    assert api.get("/reimbursements", "dg-humen").status_code == 403


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
