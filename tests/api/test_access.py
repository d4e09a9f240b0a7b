"""Tokens, roles and scope: 401 without a token, 404 outside the caller's scope, public rules."""

from __future__ import annotations

from tests.api.conftest import Api


def test_no_token_is_401_with_json(api: Api) -> None:
    """Every resource but /rules needs a valid bearer token; the error is JSON in English and Chinese."""
    for path in ("/travellers", "/townships", "/plans", "/stats", "/buses"):
        response = api.get(path, who=None)
        assert response.status_code == 401
        assert response.json()["detail"] and response.json()["detail_zh"]
    bad = api.client.get("/travellers", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401


def test_rules_are_public(api: Api) -> None:
    """/rules answers without a token with the county's thresholds and rates."""
    rules = api.get("/rules", who=None).json()
    assert rules["charter_min_group"] == 2
    assert rules["subsidy_out_of_province"] == 1000.0


def test_reference_data_read_by_all_written_by_the_admin(api: Api) -> None:
    """Every token reads townships, factories and fleet; only the county admin writes them."""
    for who in ("dispatcher", "360731100", "dg-humen"):
        assert len(api.get("/townships", who).json()) == 3
        assert len(api.get("/factories", who).json()) == 3
        assert len(api.get("/fleet", who).json()) == 2
    new = {"id": "360731103", "name": "新镇", "lat": 25.9, "lon": 115.4}
    assert api.post("/townships", "360731100", json=new).status_code == 403
    assert api.post("/townships", "admin", json=new).status_code == 201
    assert api.post("/townships", "admin", json=new).status_code == 409
    assert api.patch("/fleet/coach53", "admin", json={"count": 0}).json()["count"] == 0
    assert api.post("/townships", "admin", json={**new, "id": "x", "lat": 200}).status_code == 422


def test_township_sees_only_its_own_travellers(api: Api) -> None:
    """A township lists, reads, changes and cancels only its own travellers; others are 404, not 403."""
    mine = api.travellers("360731100")
    assert mine and {t["township_id"] for t in mine} == {"360731100"}
    # Filtering by another township gives nothing, not its records.
    assert api.travellers("360731100", township="360731101") == []
    other = api.by_ref("T003")
    assert other["township_id"] == "360731101"
    assert api.get(f"/travellers/{other['id']}", "360731100").status_code == 404
    assert api.get("/travellers/999999", "360731100").status_code == 404
    assert api.patch(f"/travellers/{other['id']}", "360731100", json={"name": "x"}).status_code == 404
    assert api.delete(f"/travellers/{other['id']}", "360731100", json={"reason": "x"}).status_code == 404
    assert api.get(f"/travellers/{other['id']}", "360731101").status_code == 200


def test_township_cannot_register_for_another(api: Api) -> None:
    """Registering into another township is refused with the row check's message."""
    body = {
        "name": "王五",
        "id_number": "360731199001010012",
        "phone": "13800000099",
        "township_id": "360731101",
        "factory_id": "dg-humen",
        "earliest_date": "2026-02-20",
        "report_date": "2026-02-25",
    }
    response = api.post("/travellers", "360731100", json=body)
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "township_id"


def test_factory_sees_only_travellers_bound_for_it(api: Api) -> None:
    """A factory token lists only travellers bound for it and cannot register or edit."""
    seen = api.travellers("ks-yushan")
    assert {t["factory_id"] for t in seen} == {"ks-yushan"} and len(seen) == 4
    other = api.by_ref("T001")
    assert api.get(f"/travellers/{other['id']}", "ks-yushan").status_code == 404
    assert api.patch(f"/travellers/{other['id']}", "ks-yushan", json={"name": "x"}).status_code == 403


def test_reference_data_takes_the_scenario_files_names_and_the_old_ones(api: Api) -> None:
    """POST /townships and /factories take township_id and factory_id as the CSV files name them, and id as
    before; answers carry both names."""
    made = api.post("/townships", "admin", json={"township_id": "360731104", "name": "东镇", "lat": 25.9, "lon": 115.4})
    assert made.status_code == 201 and made.json()["township_id"] == made.json()["id"] == "360731104"
    factory = {"name": "厂", "lat": 22.9, "lon": 113.7, "city": "东莞市", "province": "广东省"}
    assert api.post("/factories", "admin", json={**factory, "factory_id": "dg-new"}).json()["factory_id"] == "dg-new"
    assert api.post("/factories", "admin", json={**factory, "id": "dg-old"}).json()["id"] == "dg-old"
    assert api.post("/factories", "admin", json=factory).status_code == 422
    assert {"360731104"} <= {t["township_id"] for t in api.get("/townships").json()}


def test_dispatcher_issues_tokens(api: Api) -> None:
    """POST /tokens gives a working token for a known scope, 422 for an unknown one."""
    response = api.post("/tokens", json={"role": "township", "scope": "360731102"})
    assert response.status_code == 201
    token = response.json()["token"]
    listed = api.client.get("/travellers", headers={"Authorization": f"Bearer {token}"}).json()
    assert {t["township_id"] for t in listed} == {"360731102"}
    assert api.post("/tokens", json={"role": "factory", "scope": "nope"}).status_code == 422
    assert api.post("/tokens", "360731100", json={"role": "dispatcher"}).status_code == 403


def test_docs_and_openapi(api: Api) -> None:
    """Interactive docs are served; the OpenAPI document lists the contract's paths."""
    assert api.client.get("/docs").status_code == 200
    paths = api.client.get("/openapi.json").json()["paths"]
    for path in (
        "/townships",
        "/factories",
        "/fleet",
        "/travellers",
        "/travellers/import",
        "/plans",
        "/plans/{plan_id}/publish",
        "/buses/{bus_id}/manifest",
        "/arrivals",
        "/subsidies",
        "/rules",
        "/reimbursements",
        "/stats",
    ):
        assert path in paths


def test_sqlite_uses_wal(api: Api) -> None:
    """The embedded SQLite database runs in WAL mode."""
    if api.db.kind != "sqlite":
        return
    from sqlalchemy import text

    from api.db import make_engine

    engine = make_engine(api.db.url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()
