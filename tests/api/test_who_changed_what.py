"""Who changed what: the admin role, tokens that expire and can be revoked, people's accounts, the audit log,
the brake on guessing, and erasing a finished campaign's personal data."""

from __future__ import annotations

import datetime as dt
import io
import json

import openpyxl
import pytest
from sqlalchemy import text
from sqlmodel import select

from api import models as m
from api.db import make_engine, session_scope
from api.services.auth import authenticate
from api.services.purge import ERASED, purge
from api.web.auth import COOKIE
from tests.api.conftest import Api

NEW_CLERK = {"username": "li.clerk", "display_name": "李文员", "password": "s3cret-passw0rd", "role": "township"}


def _engine(api: Api):  # type: ignore[no-untyped-def]
    return make_engine(api.db.url, api.db.schema)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_admin_keeps_reference_data_rules_and_tokens_and_sees_no_traveller(api: Api) -> None:
    """Reference data and the home rules are the admin's (403 for the dispatcher, nothing changed; the dispatcher
    changes the season's settings only); the admin reads no traveller; a dispatcher issues township and factory
    tokens only, the admin every kind."""
    before = api.get("/rules", who=None).json()
    refused = api.patch("/rules", json={"charter_min_group": 5, "depot_lat": 26.0})
    assert refused.status_code == 403 and "depot_lat" in refused.json()["detail_zh"]
    assert api.patch("/factories/dg-humen", json={"name": "x"}).status_code == 403
    assert api.get("/rules", who=None).json() == before
    assert api.patch("/rules", "admin", json={"charter_min_group": 5}).status_code == 200
    assert api.patch("/rules", json={"charter_min_group": 6}).json()["charter_min_group"] == 6
    assert api.get("/travellers", "admin").status_code == 403
    assert api.get("/stats", "admin").status_code == 403
    assert len(api.get("/townships", "admin").json()) == 3
    for role in ("dispatcher", "admin"):
        assert api.post("/tokens", json={"role": role}).status_code == 403
        assert api.post("/tokens", "admin", json={"role": role}).status_code == 201
    assert api.post("/tokens", json={"role": "township", "scope": "360731100"}).status_code == 201
    assert api.post("/tokens", "360731100", json={"role": "township", "scope": "360731100"}).status_code == 403


def test_tokens_expire_are_listed_with_their_last_use_and_can_be_revoked(api: Api) -> None:
    """A token works until its expiry (default 60 days); the list shows when it was last used and never the
    token; a revoked token is refused at once; a dispatcher neither sees nor revokes the admin's tokens."""
    issued = api.post("/tokens", json={"role": "factory", "scope": "dg-humen", "label": "门卫 A"}).json()
    expires = dt.datetime.fromisoformat(issued["expires_at"])
    created = dt.datetime.fromisoformat(issued["created_at"])
    assert dt.timedelta(days=59) < expires - created <= dt.timedelta(days=60)
    assert api.client.get("/travellers", headers=_bearer(issued["token"])).status_code == 200
    listed = {t["id"]: t for t in api.get("/tokens").json()}
    assert listed[issued["id"]]["last_used_at"] is not None and listed[issued["id"]]["token"] is None
    assert all(t["role"] in ("township", "factory") for t in listed.values())
    admin_ids = {t["id"] for t in api.get("/tokens", "admin").json() if t["role"] == "admin"}
    assert admin_ids and all(api.delete(f"/tokens/{i}").status_code == 404 for i in admin_ids)
    with session_scope(_engine(api)) as session:
        later = m.utcnow() + dt.timedelta(days=61)
        assert authenticate(session, issued["token"], later) is None
        assert authenticate(session, issued["token"]) is not None
    assert api.delete(f"/tokens/{issued['id']}").status_code == 200
    assert api.client.get("/travellers", headers=_bearer(issued["token"])).status_code == 401


def test_people_sign_in_with_their_password_and_the_audit_log_names_them(api: Api) -> None:
    """The admin creates a clerk's account; the clerk signs in (the cookie is a session, not a token), registers
    a traveller in the pages, and the audit log names the clerk with the ID number masked; disabling the account
    ends the session."""
    clerk = api.post("/users", "admin", json={**NEW_CLERK, "scope": "360731100"})
    assert clerk.status_code == 201 and "password" not in clerk.text
    assert api.post("/users", json={**NEW_CLERK, "scope": "360731100"}).status_code == 403
    assert api.post("/users", "admin", json={**NEW_CLERK, "scope": "360731100"}).status_code == 409
    assert api.post("/users", "admin", json={**NEW_CLERK, "username": "x y", "scope": "1"}).status_code == 422
    wrong = api.client.post("/app/login", data={"username": "li.clerk", "password": "nope"}, follow_redirects=False)
    assert COOKIE not in wrong.cookies
    signed = api.client.post(
        "/app/login", data={"username": "li.clerk", "password": NEW_CLERK["password"]}, follow_redirects=False
    )
    assert signed.headers["location"] == "/app/township"
    cookie = {COOKIE: signed.cookies[COOKIE]}
    api.client.cookies.clear()
    body = {
        "name": "赵六",
        "id_number": "360731199001010012",
        "phone": "13900000077",
        "factory_id": "dg-humen",
        "earliest_date": "2026-02-20",
        "report_date": "2026-02-25",
    }
    made = api.client.post("/app/api/travellers", json=body, cookies=cookie)
    assert made.status_code == 201, made.text
    entries = api.get("/audit", "admin", params={"entity": "travellers", "entity_id": made.json()["id"]}).json()
    assert [e["action"] for e in entries] == ["create"] and entries[0]["actor"] == "li.clerk"
    assert entries[0]["after"]["id_number"] == "360731********0012" and entries[0]["after"]["name"] == "赵*"
    assert entries[0]["after"]["phone"] == "139****0077"
    api.patch(f"/users/{clerk.json()['id']}", "admin", json={"disabled": True})
    assert api.client.get("/app/township", cookies=cookie, follow_redirects=False).status_code == 303


def test_every_change_is_in_the_append_only_audit_log_without_full_id_numbers(api: Api) -> None:
    """Changes through the API (a traveller's phone, the rules, a token, a published plan) are recorded with
    who, before and after; the log cannot be updated or deleted; no full ID number is in it; xlsx exports it;
    only the admin reads it."""
    traveller = api.travellers("360731100")[0]
    assert api.patch(f"/travellers/{traveller['id']}", "360731100", json={"phone": "13700000001"}).status_code == 200
    assert api.patch("/rules", "admin", json={"charter_min_group": 3}).status_code == 200
    api.plan("2026-02-20")
    changed = api.get("/audit", "admin", params={"entity": "travellers", "entity_id": traveller["id"]}).json()
    update = next(e for e in changed if e["action"] == "update" and "phone" in e["after"])
    assert update["after"]["phone"] == "137****0001" and update["role"] == "township"
    other = api.travellers("360731101")[0]
    assert api.delete(f"/travellers/{other['id']}", "360731101", json={"reason": "王小明说不去了"}).status_code == 200
    cancelled = api.get("/audit", "admin", params={"entity": "travellers", "entity_id": other["id"]}).json()[0]
    assert cancelled["after"]["status"] == "cancelled" and cancelled["after"]["cancel_reason"] == "(7 characters)"
    rules = api.get("/audit", "admin", params={"entity": "policy", "action": "update"}).json()
    assert any(e["after"].get("value") == 3 or "3" in json.dumps(e["after"]) for e in rules)
    assert api.get("/audit", "admin", params={"entity": "plans", "action": "publish"}).json()
    assert api.get("/audit").status_code == 403 and api.get("/audit", "360731100").status_code == 403
    everything = json.dumps(api.get("/audit", "admin", params={"limit": 1000}).json(), ensure_ascii=False)
    full_ids = {t["id_number"] for t in api.travellers()}
    assert not [i for i in full_ids if i in everything]
    book = openpyxl.load_workbook(io.BytesIO(api.get("/audit", "admin", params={"format": "xlsx"}).content))
    assert book.active.max_row == len(api.get("/audit", "admin", params={"limit": 1000}).json()) + 1
    engine = _engine(api)
    for statement in ("UPDATE audit_log SET actor = 'nobody'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    assert "nobody" not in json.dumps(api.get("/audit", "admin", params={"limit": 1000}).json())


def test_guessing_tokens_is_braked_with_429(api: Api) -> None:
    """After a burst of bad tokens from one address the service answers 429 with Retry-After, and the sign-in
    form says to wait; the tokens guessed are not checked meanwhile."""
    for _ in range(10):
        assert api.client.get("/travellers", headers=_bearer("guess")).status_code == 401
    braked = api.client.get("/travellers", headers=_bearer("guess"))
    assert braked.status_code == 429 and int(braked.headers["retry-after"]) > 0 and braked.json()["detail_zh"]
    form = api.client.post("/app/login", data={"username": "a", "password": "b"}, follow_redirects=False)
    assert form.status_code == 200 and "秒后再试" in form.text


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_the_session_cookie_is_secure_over_https(api: Api, scheme: str) -> None:
    """The sign-in cookie is HttpOnly and SameSite=Strict, and Secure when the page is served over HTTPS."""
    response = api.client.post(
        f"{scheme}://testserver/app/login", data={"token": api.tokens["dg-humen"]}, follow_redirects=False
    )
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert ("secure" in cookie.split("; ")) == (scheme == "https")
    assert api.tokens["dg-humen"] not in response.headers["set-cookie"]


def test_revoking_a_token_ends_the_browser_sessions_opened_with_it(api: Api) -> None:
    """Signing in with a token opens a session of its own; revoking the token ends it; signing out revokes the
    session itself."""
    issued = api.post("/tokens", json={"role": "township", "scope": "360731101"}).json()
    opened = api.client.post("/app/login", data={"token": issued["token"]}, follow_redirects=False)
    cookie = {COOKIE: opened.cookies[COOKIE]}
    api.client.cookies.clear()
    assert api.client.get("/app/township", cookies=cookie, follow_redirects=False).status_code == 200
    api.delete(f"/tokens/{issued['id']}")
    assert api.client.get("/app/township", cookies=cookie, follow_redirects=False).status_code == 303
    again = {COOKIE: api.cookies("360731100")[COOKIE]}
    api.client.post("/app/logout", cookies=again)
    api.client.cookies.clear()
    assert api.client.get("/app/township", cookies=again, follow_redirects=False).status_code == 303


def test_methods_not_allowed_say_which_are(api: Api) -> None:
    """A 405 names the allowed methods in Allow."""
    response = api.client.put("/travellers", headers=api.headers("dispatcher"))
    assert response.status_code == 405 and "GET" in response.headers["allow"]


def test_purge_erases_personal_data_after_retention_and_keeps_the_figures(api: Api) -> None:
    """Within the retention period purge is refused; after it, names, ID numbers and phones are gone while the
    statistics and subsidy amounts are unchanged; a second purge erases nothing more."""
    api.plan("2026-02-20")
    arrived = next(t for t in api.travellers("dg-humen") if t["status"] == "planned")
    assert api.post("/arrivals", "dg-humen", json={"traveller_id": arrived["id"]}).status_code in (200, 201)
    stats = api.get("/stats").json()
    money = api.get("/subsidies").json()["total"]
    engine = _engine(api)
    with session_scope(engine) as session, pytest.raises(Exception, match="180"):
        purge(session, "2026", dt.date(2026, 4, 1), dt.date(2026, 6, 1), 180)
    with session_scope(engine) as session:
        report = purge(session, "2026", dt.date(2026, 4, 1), dt.date(2026, 10, 1), 180)
    everyone = api.travellers()
    assert report.travellers == len(everyone) > 0
    assert {t["name"] for t in everyone} == {ERASED} and all(t["id_number"].startswith(ERASED) for t in everyone)
    assert api.get("/stats").json() == stats and api.get("/subsidies").json()["total"] == money
    with session_scope(engine) as session:
        assert purge(session, "2026", dt.date(2026, 4, 1), dt.date(2026, 10, 1), 180).travellers == 0
        subsidies = session.exec(select(m.Subsidy)).all()
    assert subsidies and all(s.id_number.startswith(ERASED) for s in subsidies)
    assert api.get("/audit", "admin", params={"action": "purge"}).json()[0]["actor"] == "system"
