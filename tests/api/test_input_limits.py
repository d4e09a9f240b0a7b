"""Input that could break the service is refused before the database sees it (422 naming the field), and
nothing else changes: long or control-character text, blank or inconsistent reference data, infinite prices,
impossible rules, integers beyond 64 bits and dates beyond the calendar the service reckons with."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api

NEW = {
    "name": "王五",
    "id_number": "360731199001010012",
    "phone": "13800000099",
    "factory_id": "dg-humen",
    "earliest_date": "2026-02-20",
    "report_date": "2026-02-25",
}


def _refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    assert field in response.text


@pytest.mark.parametrize(
    "change",
    [
        {"name": "长" * 101},
        {"name": "王\x07五"},
        {"name": "王\x00五"},
        {"name": "王\n五"},
        {"group_id": "G" * 61},
        {"report_date": "9999-12-31"},
        {"earliest_date": "0202-02-20"},
    ],
)
def test_bad_text_and_dates_are_422_and_not_stored(api: Api, change: dict[str, str]) -> None:
    """A registration (and an edit) with text too long, a control character or an unreckonable date is 422
    naming the field; nothing is stored, and every list and export still answers."""
    before = api.travellers()
    field = next(iter(change))
    _refused(api.post("/travellers", "360731100", json=NEW | change), field)
    t = next(t for t in before if t["township_id"] == "360731100")
    _refused(api.patch(f"/travellers/{t['id']}", "360731100", json=change), field)
    assert api.travellers() == before
    assert api.get("/subsidies", params={"format": "xlsx"}).status_code == 200


def test_text_is_stored_in_nfc(api: Api) -> None:
    """A name typed in decomposed form (e + combining accent) is stored composed, so the same name compares equal."""
    created = api.post("/travellers", "360731100", json=NEW | {"name": "Le\u0301a"})
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "L\u00e9a"


@pytest.mark.parametrize(
    ("path", "change", "field"),
    [
        ("/factories/dg-humen", {"province": ""}, "province"),
        ("/factories/dg-humen", {"city": "市\x07"}, "city"),
        ("/factories/dg-humen", {"receive_from": "20:00", "receive_until": "08:00"}, "receive_until"),
        ("/townships/360731100", {"name": "镇" * 101}, "name"),
        ("/fleet/coach53", {"fixed_cost": float("inf")}, "fixed_cost"),
        ("/fleet/coach53", {"cost_per_km": float("nan")}, "cost_per_km"),
        ("/fleet/coach53", {"count": 2**70}, "count"),
    ],
)
def test_reference_data_is_checked_like_the_scenario_files(
    api: Api, path: str, change: dict[str, Any], field: str
) -> None:
    """A change the scenario files' checks would refuse is 422 naming the field; the row is unchanged and
    every role still reads the list."""
    collection = path.rsplit("/", 1)[0]
    before = api.get(collection).json()
    # NaN and Infinity are not JSON; clients send them as JavaScript literals all the same.
    import json

    body = json.dumps(change, allow_nan=True)
    response = api.client.patch(path, content=body, headers=api.headers("admin") | {"content-type": "application/json"})
    _refused(response, field)
    for who in ("dispatcher", "360731100", "dg-humen"):
        assert api.get(collection, who).json() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ('{"empty_return_factor": -1}', "empty_return_factor"),
        ('{"reimburse_per_km": NaN}', "reimburse_per_km"),
        ('{"second_driver_cost": Infinity}', "second_driver_cost"),
        ('{"depot_lat": 1000}', "depot_lat"),
        ('{"depart_from": "24:00"}', "depart_from"),
        ('{"charter_min_group": 100000000000000000000000}', "charter_min_group"),
        ('{"max_ride_hours": 1e308}', "max_ride_hours"),
        ('{"rest_minutes": -5}', "rest_minutes"),
    ],
)
def test_rules_that_would_make_planning_impossible_are_refused(api: Api, change: str, field: str) -> None:
    """PATCH /rules with a non-finite, negative or out-of-range setting is 422 naming it; the rules are unchanged."""
    before = api.get("/rules").json()
    response = api.client.patch(
        "/rules", content=change, headers=api.headers("admin") | {"content-type": "application/json"}
    )
    _refused(response, field)
    assert api.get("/rules").json() == before


@pytest.mark.parametrize(
    "path",
    [
        "/travellers/{big}",
        "/plans/{big}",
        "/buses?date=9999-12-31",
        "/travellers?offset={big}",
        "/travellers?limit={big}",
    ],
)
def test_huge_integers_and_dates_in_the_path_and_query_are_4xx(api: Api, path: str) -> None:
    """Ids and offsets beyond the database's INTEGER, and the last date of the calendar, answer 404 or 422,
    never 500."""
    response = api.get(path.format(big=2**70))
    assert response.status_code in (404, 422), response.text
    assert api.get(path.format(big=2**31 - 1)).status_code < 500
    assert api.get(path.format(big=2**31)).status_code in (404, 422)


def test_boarding_with_huge_ids_is_422(api: Api) -> None:
    """A boarding confirmation naming a traveller id beyond 64 bits is 422, not 500."""
    api.plan("2026-02-21")
    bus = api.get("/buses").json()[0]
    township = next(iter(bus["traveller_refs"].values()))["township_id"]
    response = api.post(f"/buses/{bus['id']}/boarding", township, json={"no_shows": [2**70]})
    assert response.status_code == 422, response.text


HEADER = "traveller_id,name,id_number,phone,township_id,factory_id,earliest_date,report_date\n"


def test_an_import_over_the_row_cap_is_413_and_stores_nothing(api: Api) -> None:
    """200,000 junk lines are refused with 413 saying the cap (50,000 rows by default); nothing is stored."""
    before = len(api.travellers())
    junk = HEADER + "x,\n" * 200_000
    response = api.post("/travellers/import", "360731100", files={"file": ("junk.csv", junk.encode())})
    assert response.status_code == 413 and "50000" in response.text
    assert len(api.travellers()) == before


def test_a_file_of_junk_lists_the_first_problems_and_counts_the_rest(api: Api) -> None:
    """Under the cap, a file of junk answers 422 with the first 500 problems, how many there are, and how many
    per column; the page's preview says the same."""
    junk = HEADER + "x,\n" * 5_000
    response = api.post("/travellers/import", "360731100", files={"file": ("junk.csv", junk.encode())})
    assert response.status_code == 422
    body = response.json()
    assert len(body["problems"]) == 500 < body["problem_count"]
    assert sum(body["problems_by_field"].values()) == body["problem_count"]
    assert body["problems_by_field"]["name"] == 5_000 and body["bad_rows"] == 5_000
    preview = api.client.post(
        "/app/api/travellers/preview",
        files={"file": ("junk.csv", junk.encode())},
        cookies=api.cookies("360731100"),
    ).json()
    assert not preview["ok"] and len(preview["problems"]) == 500 and preview["problem_count"] == body["problem_count"]


def test_pages_carry_security_headers(api: Api) -> None:
    """The pages forbid inline scripts and framing, and every answer forbids sniffing and referrers."""
    page = api.client.get("/app/login")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY"
    for response in (page, api.get("/travellers")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"


def test_text_anywhere_in_a_request_refuses_control_characters(api: Api) -> None:
    """A NUL or other control character in any body text (a token's label, an account's name, a rule) or in the
    address (a filter, an id) is a 422, on PostgreSQL as on SQLite, and nothing is stored."""
    tokens_before = len(api.get("/tokens", "admin").json())
    assert api.post("/tokens", "admin", json={"role": "admin", "label": "a\x00b"}).status_code == 422
    account = {"username": "li.si", "display_name": "李\x07四", "password": "long enough", "role": "dispatcher"}
    assert api.post("/users", "admin", json=account).status_code == 422
    assert api.patch("/rules", "admin", json={"county": "县\x00"}).status_code == 422
    assert api.get("/audit", "admin", params={"actor": "x\x00"}).status_code == 422
    assert api.get("/buses/P1-%00").status_code == 422
    assert len(api.get("/tokens", "admin").json()) == tokens_before and api.get("/users", "admin").json() == []


def test_numbers_and_yes_no_are_what_json_says(api: Api) -> None:
    """false is not a price and 0 is not a yes/no: 422, as the OpenAPI document says."""
    assert api.patch("/fleet/coach53", "admin", json={"cost_per_km": False}).status_code == 422
    assert api.patch("/fleet/coach53", "admin", json={"count": True}).status_code == 422
    assert api.patch("/fleet/coach53", "admin", json={"cost_per_km": 9}).status_code == 200


def test_a_refused_request_says_why_in_chinese_naming_the_field(api: Api) -> None:
    """The Chinese message of a 422 names the fields in Chinese and says what is wrong in Chinese, with none of
    pydantic's English ("Field required")."""
    import re

    missing = api.post("/travellers", "360731100", json={"phone": "13800000001"}).json()["detail_zh"]
    assert "姓名：必填" in missing and "身份证号码：必填" in missing
    assert not re.search(r"[A-Za-z]{3,}", missing), missing
    negative = api.post(
        "/reimbursements/receipts", "360731100", json={"number": "R", "amount": -1, "traveller_ids": [1]}
    ).json()["detail_zh"]
    assert "金额：须大于 0" in negative
    day = api.get("/reports/daily", params={"date": "2026/02/30"}).json()["detail_zh"]
    assert "日期：" in day and "Input" not in day
