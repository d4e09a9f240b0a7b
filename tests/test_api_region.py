"""The region's deployment (issue 15): a prefecture's bureau reads its counties' service databases, read-only.

Three counties of tests/data/region_pooling, each served by its own service on its own database (SQLite files, or
schemas of the test PostgreSQL), with different progress: 于都 planned with buses, boarded and arrived; 瑞金 planned
to a fallback, two arrived; 兴国 registered only, one cancelled. Their registrations are dated before the season
(2026-02-10) and arrivals on 2026-02-19, so that the daily reports of ``DAY`` count them. The region's service reads
them with the region.json that ``fanggang region`` writes for the same three counties (module fixture, ~10 s of Ray).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import positive_data_acceptance
from sqlalchemy import text, update

from api import models as m
from api.db import make_engine, session_scope
from api.main import create_app
from api.services.accounts import create_user
from api.services.region import InvalidRegionSettings, region_config
from api.services.seed import seed
from api.services.tokens import create_token
from api.settings import Settings
from api.web.auth import COOKIE
from scheduler.cli import main as fanggang
from tests.api.conftest import PG_URL, Api, Database, make_database
from tests.web.conftest import start_server

DATA = Path(__file__).parent / "data" / "region_pooling"
COUNTIES = ("ruijin", "xingguo", "yudu")
NAMES = {"ruijin": "瑞金市", "xingguo": "兴国县", "yudu": "于都县"}
TOWNSHIP = {"ruijin": "360781100", "xingguo": "360732100", "yudu": "360731100"}
FACTORY = "ks-yushan"
TRAVEL = "2026-02-18"
DAY = "2026-02-25"
REGISTERED = dt.datetime(2026, 2, 10, 2, tzinfo=dt.UTC)
ARRIVED = dt.datetime(2026, 2, 19, 4, tzinfo=dt.UTC)
PASSWORD = "a long region password"


@dataclass
class County:
    key: str
    api: Api  # the county's own service, with its dispatcher's, township's and factory's tokens
    url: str  # its database, as the region's settings name it


@dataclass
class RegionService:
    api: Api  # the region's service: tokens "region" and "admin"; account "u-region"
    settings: Settings
    counties: dict[str, County]
    plan: dict[str, Any]  # region.json


def _county_url(db: Database) -> str:
    """The county's database as a URL of its own (a PostgreSQL schema as the connection's search_path)."""
    if db.schema is None:
        return db.url
    return f"{db.url}?options={quote(f'-csearch_path={db.schema}')}"


@pytest.fixture(scope="module")
def region_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`fanggang region` on the three counties: region.json with one coach pooling 瑞金 and 于都."""
    out = tmp_path_factory.mktemp("region-plan") / "out"
    args = ["region", str(DATA), "--from", "2026-02-18", "--to", "2026-02-24", "--out", str(out)]
    assert fanggang([*args, "--time-limit", "10"]) == 0
    return out


def _county_service(stack: ExitStack, key: str, db: Database) -> County:
    settings = Settings(
        database_url=db.url,
        database_schema=db.schema,
        campaign="2026",
        planning_processes=1,
        today=dt.date(2026, 2, 17),
        notice_outbox=db.folder / "outbox",
    )
    client = stack.enter_context(TestClient(create_app(settings)))
    engine = make_engine(db.url, db.schema)
    # 于都 charters for its 15 (threshold 2); the others keep the threshold of 20 and fall back.
    policy = {"charter_min_group": 2, "price_alternatives": False} if key == "yudu" else None
    seed(engine, "2026", DATA / key, policy=policy)
    with session_scope(engine) as session:
        tokens = {
            "dispatcher": create_token(session, m.Role.dispatcher, None)[1],
            "township": create_token(session, m.Role.township, TOWNSHIP[key])[1],
            "factory": create_token(session, m.Role.factory, FACTORY)[1],
        }
    api = Api(client, db, tokens)
    if key == "yudu":
        api.plan(TRAVEL)
        bus = api.get("/buses").json()[0]
        riders = [t for t in api.travellers() if t["bus_id"] == bus["id"]]
        boarded = api.post(f"/buses/{bus['id']}/boarding", "township", json={"no_shows": [riders[-1]["id"]]})
        assert boarded.status_code == 200, boarded.text
        for rider in riders[:5]:
            assert api.post("/arrivals", "factory", json={"traveller_id": rider["id"]}).status_code == 200
    elif key == "ruijin":
        api.plan(TRAVEL)
        for rider in api.travellers()[:2]:
            assert api.post("/arrivals", "factory", json={"traveller_id": rider["id"]}).status_code == 200
    else:
        first = api.travellers()[0]
        assert api.delete(f"/travellers/{first['id']}", json={"reason": "不去了"}).status_code == 200
    with engine.begin() as connection:
        connection.execute(update(m.Traveller).values(created_at=REGISTERED))
        connection.execute(update(m.Traveller).where(m.Traveller.arrived_at.is_not(None)).values(arrived_at=ARRIVED))  # type: ignore[union-attr]
        connection.execute(update(m.Subsidy).values(created_at=ARRIVED))
    engine.dispose()
    return County(key, api, _county_url(db))


def _region_settings(db: Database, counties: dict[str, str], plan: Path | None) -> Settings:
    return Settings(
        database_url=db.url,
        database_schema=db.schema,
        today=dt.date.fromisoformat(DAY),
        planning_processes=1,
        notice_outbox=db.folder / "outbox",
        region_name="赣州市",
        region_counties=json.dumps(counties, ensure_ascii=False),
        region_plan=plan,
    )


def _region_service(stack: ExitStack, db: Database, counties: dict[str, str], plan: Path | None) -> Api:
    client = stack.enter_context(TestClient(create_app(_region_settings(db, counties, plan))))
    engine = make_engine(db.url, db.schema)
    with session_scope(engine) as session:
        tokens = {
            "region": create_token(session, m.Role.region, None, "赣州市人社局")[1],
            "admin": create_token(session, m.Role.admin, None, "region admin")[1],
        }
        create_user(session, m.UserCreate(username="u-region", password=PASSWORD, role=m.Role.region))
    engine.dispose()
    return Api(client, db, tokens)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def region(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, region_plan: Path
) -> Iterator[RegionService]:
    """The three county services and the region's, on SQLite or on PostgreSQL."""
    with ExitStack() as stack:
        counties = {}
        for key in COUNTIES:
            db = stack.enter_context(make_database(request.param, tmp_path_factory.mktemp(key)))
            counties[key] = _county_service(stack, key, db)
        db = stack.enter_context(make_database(request.param, tmp_path_factory.mktemp("region")))
        urls = {k: c.url for k, c in counties.items()}
        api = _region_service(stack, db, urls, region_plan)
        plan = json.loads((region_plan / "region.json").read_text("utf-8"))
        yield RegionService(api, _region_settings(db, urls, region_plan), counties, plan)


def _overview(region: RegionService) -> dict[str, Any]:
    response = region.api.get("/region", "region", params={"date": DAY})
    assert response.status_code == 200, response.text
    return response.json()


# --------------------------------------------------------------------------------------------- the figures


def test_each_countys_figures_are_what_the_county_itself_reports(region: RegionService) -> None:
    """For every county, the region's figures equal the county service's own /stats, daily report (cumulative
    to the date) and campaign summary; the counties differ, so a mix-up would show."""
    overview = _overview(region)
    assert overview["region"] == "赣州市" and [c["county"] for c in overview["counties"]] == list(COUNTIES)
    for row in overview["counties"]:
        county = region.counties[row["county"]].api
        own_stats = county.get("/stats").json()
        assert row["available"] and row["name"] == NAMES[row["county"]]
        assert row["stats"] == own_stats["overall"]
        assert region.api.get(f"/region/counties/{row['county']}/stats", "region").json() == own_stats
        dated = region.api.get(f"/region/counties/{row['county']}/stats", "region", params={"date": TRAVEL})
        assert dated.json() == county.get("/stats", params={"date": TRAVEL}).json()
        daily = county.get("/reports/daily", params={"date": DAY}).json()
        assert row["report"] == daily["county_total"]["cumulative"]
        summary = county.get("/reports/campaign", params={"to": DAY}).json()
        assert row["costs"] == summary["costs"] and row["total_cost_cny"] == summary["total_cost_cny"]
        assert [t["id"] for t in row["townships"]] == list(own_stats["townships"]) == [TOWNSHIP[row["county"]]]
    rows = {c["county"]: c for c in overview["counties"]}
    yudu, ruijin, xingguo = rows["yudu"], rows["ruijin"], rows["xingguo"]
    assert yudu["report"]["by_bus"] == 14 and yudu["report"]["buses"] >= 1 and yudu["stats"]["arrived"] == 5
    assert yudu["stats"]["no_show"] == 1 and yudu["report"]["arrival_rate"] == round(5 / 14, 4)
    assert ruijin["report"]["by_township_transport"] == 15 and ruijin["stats"]["arrived"] == 2
    assert ruijin["report"]["return_rate"] == 1.0 and ruijin["report"]["buses"] == 0
    assert xingguo["stats"] == {**xingguo["stats"], "registered": 14, "planned": 0, "cancelled": 1, "arrived": 0}
    assert yudu["total_cost_cny"] > 0 and ruijin["total_cost_cny"] > 0


def test_the_totals_add_up(region: RegionService) -> None:
    """The region's totals are the counties' sums, its rates computed from the sums; the region plan's lines and
    totals are region.json's."""
    overview = _overview(region)
    counties, totals = overview["counties"], overview["totals"]
    assert totals["counties"] == totals["available"] == 3
    for key in ("registered", "planned", "departed", "arrived", "no_show", "cancelled", "overdue"):
        assert totals["stats"][key] == sum(c["stats"][key] for c in counties)
    for key in ("registered", "by_bus", "by_township_transport", "departed", "arrived", "buses"):
        assert totals["report"][key] == sum(c["report"][key] for c in counties)
    assert totals["stats"]["rate"] == round(totals["stats"]["arrived"] / totals["stats"]["registered"], 4)
    assert totals["report"]["return_rate"] == round(totals["report"]["departed"] / totals["report"]["registered"], 4)
    assert totals["report"]["arrival_rate"] == round(totals["report"]["arrived"] / totals["report"]["departed"], 4)
    assert totals["total_cost_cny"] == round(sum(c["total_cost_cny"] for c in counties), 2)
    assert overview["plan"] == {"from": region.plan["from"], "to": region.plan["to"], "totals": region.plan["totals"]}
    assert {c["county"]: c["plan"] for c in counties} == {c["county"]: c for c in region.plan["counties"]}
    assert [b["bus_id"] for b in overview["pooled"]] == [b["bus_id"] for b in region.plan["pooled"]]


def test_the_pooled_coach_has_its_route_across_the_counties(region: RegionService) -> None:
    """The pooled coach's stops come from its counties' day plans (riders of both added up) and are placed where
    each county's database has the place."""
    overview = _overview(region)
    (bus,) = overview["pooled"]
    (source,) = region.plan["pooled"]
    assert {k: bus[k] for k in source} == source
    assert sum(s["boarding"] for s in bus["stops"]) == sum(s["alighting"] for s in bus["stops"]) == bus["load"] == 30
    counties = {s["county"] for s in bus["stops"] if s["kind"] == "pickup"}
    assert counties == {c["county"] for c in bus["counties"]} == {"ruijin", "yudu"}
    for stop in bus["stops"]:
        if stop["kind"] == "pickup":
            township = region.counties[stop["county"]].api.get(f"/townships/{stop['place_id']}").json()
        else:
            township = region.counties[stop["county"]].api.get(f"/factories/{stop['place_id']}").json()
        assert (stop["lat"], stop["lon"]) == (township["lat"], township["lon"])


def test_a_countys_plans_are_read_without_travellers(region: RegionService) -> None:
    """The region lists a county's plans as the county does and reads one with every bus and fallback counted:
    riders boarding add up to each bus's load, fallbacks to the travellers not on buses."""
    for key in ("yudu", "ruijin"):
        own = region.counties[key].api.get("/plans").json()
        listed = region.api.get(f"/region/counties/{key}/plans", "region").json()
        assert [(p["id"], p["status"]) for p in listed] == [(p["id"], p["status"]) for p in own] and own
        plan = region.api.get(f"/region/counties/{key}/plans/{own[0]['id']}", "region").json()
        county_plan = region.counties[key].api.get(f"/plans/{own[0]['id']}").json()
        (day,) = plan["days"]
        (own_day,) = county_plan["days"]
        assert day["totals"] == own_day["plan"]["totals"] and day["published"] is True
        assert [b["bus_id"] for b in day["buses"]] == [b["bus_id"] for b in own_day["plan"]["buses"]]
        for bus in day["buses"]:
            assert sum(s["boarding"] for s in bus["stops"]) == bus["load"] > 0
            assert all(set(s) == set(m.RegionStop.model_fields) for s in bus["stops"])
        assert sum(f["travellers"] for f in day["fallback"]) == len(own_day["plan"]["fallback"])
        assert day["subsidies"] == len(own_day["plan"]["subsidies"])
    ruijin_plan = region.api.get("/region/counties/ruijin/plans", "region").json()[0]
    (day,) = region.api.get(f"/region/counties/ruijin/plans/{ruijin_plan['id']}", "region").json()["days"]
    assert day["buses"] == [] and day["fallback"][0]["travellers"] == 15
    assert region.api.get("/region/counties/xingguo/plans", "region").json() == []
    missing = region.api.get("/region/counties/xingguo/plans/99", "region")
    assert missing.status_code == 404 and "plan 99 of xingguo" in missing.json()["detail"]


# --------------------------------------------------------------------------------------------- what the region sees


def _personal_data() -> set[str]:
    """Every traveller's name, ID number, phone and township reference in the three counties' files."""
    found: set[str] = set()
    for key in COUNTIES:
        with (DATA / key / "travellers.csv").open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                found |= {row["name"], row["id_number"], row["phone"], row["traveller_id"]}
    return found


def test_no_region_answer_holds_personal_data(region: RegionService) -> None:
    """No name, ID number, phone or township reference of any traveller is in any answer the region gets: the
    overview, the counties' stats and plans, the page and its map data."""
    api = region.api
    answers = [api.get("/region", "region", params={"date": DAY}).text]
    for key in COUNTIES:
        answers.append(api.get(f"/region/counties/{key}/stats", "region").text)
        plans = api.get(f"/region/counties/{key}/plans", "region")
        answers.append(plans.text)
        answers += [api.get(f"/region/counties/{key}/plans/{p['id']}", "region").text for p in plans.json()]
    cookies = api.cookies("region")
    answers.append(api.client.get("/app/region", cookies=cookies).text)
    answers.append(api.client.get("/app/api/region/geojson", cookies=cookies).text)
    assert len(answers) == 1 + 3 * 2 + 2 + 2
    everything = "\n".join(answers)
    assert "P0218-001" in everything and "贡江镇" in everything  # the answers do hold the plans
    assert not [value for value in _personal_data() if value in everything]
    # Nor a traveller of the plan files, by the ids the county plans name them with.
    assert not re.search(r'"traveller_id"|"board"|"alight"|"traveller_refs"', everything)


def _all_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if hasattr(route, "original_router"):
            yield from _all_routes(route.original_router.routes)
        elif isinstance(route, APIRoute):
            yield route


def test_every_write_answers_403_for_the_region(region: RegionService) -> None:
    """Every route that changes something (each POST, PUT, PATCH and DELETE, of the API and of the pages' actions)
    answers 403 to the region's token or signed-in browser; sign-in and sign-out are the only ones it may use."""
    api = region.api
    cookies = api.cookies("region")
    tried = 0
    for route in _all_routes(api.client.app.routes):
        for method in route.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            if route.path in ("/app/login", "/app/logout"):
                continue
            path = re.sub(r"\{[^}/]+\}", "1", route.path.replace(":int}", "}"))
            if path.startswith("/app/"):
                response = api.client.request(method, path, json={}, cookies=cookies, follow_redirects=False)
            else:
                response = api.client.request(method, path, json={}, headers=api.headers("region"))
            assert response.status_code == 403, (method, route.path, response.status_code, response.text[:200])
            tried += 1
    assert tried >= 50
    assert api.post("/tokens", "region", json={"role": "region"}).status_code == 403


def test_only_the_region_reads_the_region(region: RegionService) -> None:
    """The region deployment's admin issues region tokens (403 for the region's own reading), and a county's
    dispatcher may not read the region; on a county's service /region answers 404."""
    api = region.api
    assert api.get("/region", "admin").status_code == 403
    issued = api.post("/tokens", "admin", json={"role": "region", "scope": "ignored", "label": "市局 李"})
    assert issued.status_code == 201 and issued.json()["scope"] is None
    fresh = {"Authorization": f"Bearer {issued.json()['token']}"}
    assert api.client.get("/region", headers=fresh, params={"date": DAY}).status_code == 200
    assert api.get("/region", None).status_code == 401
    county = region.counties["yudu"].api
    assert county.get("/region", "dispatcher").status_code == 403
    with session_scope(make_engine(county.db.url, county.db.schema)) as session:
        token = create_token(session, m.Role.region, None)[1]
    stray = {"Authorization": f"Bearer {token}"}
    assert county.client.get("/region", headers=stray).status_code == 404
    # A region token on a county's service sees none of its travellers.
    assert county.client.get("/travellers", headers=stray).status_code == 403
    assert county.client.get("/buses", headers=stray).status_code == 403
    bus = county.get("/buses").json()[0]["id"]
    county.tokens["stray region"] = token
    for who, status in (("dispatcher", 200), ("stray region", 404)):
        page = county.client.get(f"/app/buses/{bus}/driver", cookies=county.cookies(who))
        assert page.status_code == status


def test_an_unknown_county_is_404_in_both_languages(region: RegionService) -> None:
    """A county the settings do not name is 404 on each county route, naming the region in both languages."""
    for path in ("/region/counties/南康区/stats", "/region/counties/nowhere/plans", "/region/counties/x/plans/1"):
        response = region.api.get(path, "region")
        assert response.status_code == 404
        body = response.json()
        assert "is not one of 赣州市's counties" in body["detail"] and "不是赣州市所辖的区县" in body["detail_zh"]


def _broken_urls(kind: str, folder: Path) -> dict[str, str]:
    if kind == "sqlite":
        return {"南康区": f"sqlite:///{folder / 'never-made.db'}"}
    return {
        "南康区": f"{PG_URL}?options={quote('-csearch_path=no_such_schema')}",  # a database without fanggang's tables
        "上犹县": "postgresql+psycopg://postgres@127.0.0.1:1/test",  # nobody listens
    }


def test_a_county_whose_database_cannot_be_read_is_named_not_a_500(
    region: RegionService, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A county whose database is missing or down is a row marked unavailable (the totals leave it out) and a 503
    naming it on its own routes; the other counties are read as before, and no file is created for it."""
    folder = tmp_path_factory.mktemp("broken")
    broken = _broken_urls(region.api.db.kind, folder)
    urls = {k: c.url for k, c in region.counties.items()} | broken
    with ExitStack() as stack:
        db = stack.enter_context(make_database(region.api.db.kind, tmp_path_factory.mktemp("region-broken")))
        api = _region_service(stack, db, urls, None)
        response = api.get("/region", "region", params={"date": DAY})
        assert response.status_code == 200, response.text
        rows = {c["county"]: c for c in response.json()["counties"]}
        for county in broken:
            assert rows[county]["available"] is False and rows[county]["stats"] is None
            assert county in rows[county]["detail"] and county in rows[county]["detail_zh"]
            for path in (f"/region/counties/{county}/stats", f"/region/counties/{county}/plans"):
                answer = api.get(path, "region")
                assert answer.status_code == 503 and answer.json()["county"] == county
                assert county in answer.json()["detail_zh"]
        totals = response.json()["totals"]
        assert totals["counties"] == 3 + len(broken) and totals["available"] == 3
        assert totals["stats"] == _overview(region)["totals"]["stats"]
        page = api.client.get("/app/region", cookies=api.cookies("region"))
        assert page.status_code == 200 and page.text.count('class="unavailable"') == len(broken)
    assert not (folder / "never-made.db").exists()


def test_the_county_databases_are_opened_read_only(region: RegionService) -> None:
    """The region's engine on a county database refuses to write (SQLite mode=ro, PostgreSQL read-only sessions)."""
    from sqlalchemy.exc import DBAPIError

    region_state = region.api.client.app.state.region
    county = region.counties["xingguo"]
    with region_state.reading("xingguo") as session:
        assert session.exec(text("select count(*) from travellers")).one()[0] == 15
        with pytest.raises(DBAPIError):
            session.exec(text("update travellers set name = 'x'"))
    assert county.api.travellers()[0]["name"] != "x"


# --------------------------------------------------------------------------------------------- the page


def test_the_region_signs_in_to_its_page_with_table_charts_and_map(region: RegionService) -> None:
    """A region user's sign-in lands on /app/region: the counties' table with the totals, a chart of the counties
    and one per county, and the pooled coach in its table and on the map's data, placed on its route."""
    client = region.api.client
    signed_in = client.post("/app/login", data={"username": "u-region", "password": PASSWORD}, follow_redirects=False)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/app/region"
    cookies = {COOKIE: signed_in.cookies[COOKIE]}
    client.cookies.clear()
    page = client.get("/app/region", cookies=cookies)
    assert page.status_code == 200
    html = page.text
    overview = _overview(region)
    for row in overview["counties"]:
        match = re.search(rf'<tr data-county="{row["county"]}">(.*?)</tr>', html, re.S)
        assert match and row["name"] in match.group(1)
        numbers = re.findall(r'<td class="num">([^<]*)</td>', match.group(1))
        assert numbers[:5] == [
            str(row["stats"][k]) for k in ("registered", "planned", "departed", "arrived", "overdue")
        ]
        assert numbers[5:7] == [str(row["report"]["departed"]), f"{row['report']['return_rate'] * 100:.1f}%"]
    assert f'<td class="num">{overview["totals"]["stats"]["registered"]}</td>' in html.split("<tfoot>")[1]
    assert html.count('<svg id="chart-county-') == 3 and '<svg id="chart-counties"' in html
    assert html.count('class="bar-arrived"') == 3 + 3  # a bar per county, and one per county's township
    assert '<tr data-bus="P0218-001">' in html and 'data-geojson="/app/api/region/geojson"' in html
    assert "象湖镇（瑞金市）" in html and "贡江镇（于都县）" in html
    features = client.get("/app/api/region/geojson", cookies=cookies).json()["features"]
    (line,) = [f for f in features if f["properties"]["kind"] == "bus"]
    assert line["properties"]["bus_id"] == "P0218-001" and line["properties"]["index"] == 0
    bus = overview["pooled"][0]
    assert line["geometry"]["coordinates"] == [[s["lon"], s["lat"]] for s in bus["stops"]]
    assert {f["properties"]["name"] for f in features if f["geometry"]["type"] == "Point"} == set(
        line["properties"]["stops"]
    )
    assert client.get("/app/overview", cookies=cookies, follow_redirects=False).headers["location"] == "/app/region"
    english = client.get("/app/region", cookies={**cookies, "fanggang_lang": "en"}).text
    assert "Pooled coaches" in english and "跨县拼车" not in english


# --------------------------------------------------------------------------------------------- the settings


def _settings(tmp_path: Path, **region: Any) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'own.db'}", **region)


def test_a_county_deployment_has_no_region(tmp_path: Path) -> None:
    """Without any FANGGANG_REGION_* setting the service is a county's (no region)."""
    assert region_config(_settings(tmp_path)) is None


@pytest.mark.parametrize(
    ("settings", "english", "chinese"),
    [
        ({"region_name": "赣州市"}, "FANGGANG_REGION_COUNTIES is not set", "未设置 FANGGANG_REGION_COUNTIES"),
        ({"region_counties": '{"yudu": "sqlite:////x.db"}'}, "FANGGANG_REGION_NAME is not set", "请填写区域名称"),
        ({"region_name": "赣州市", "region_counties": '{"yudu": '}, "is not JSON", "不是有效的 JSON"),
        ({"region_name": "赣州市", "region_counties": "[]"}, "must be a JSON object", "应为至少含一个区县"),
        ({"region_name": "赣州市", "region_counties": '{"a/b": "sqlite:////x.db"}'}, "without '/'", "不含“/”"),
        ({"region_name": "赣州市", "region_counties": '{"yudu": 3}'}, "must be a URL", "数据库应为地址"),
        (
            {"region_name": "赣州市", "region_counties": '{"yudu": "postgresql+nodriver://h/db"}'},
            "not understood",
            "无法识别",
        ),
        (
            {"region_name": "赣州市", "region_counties": '{"yudu": "mysql://h/db"}'},
            "must be a SQLite file",
            "应为 SQLite",
        ),
        ({"region_name": "赣州市", "region_counties": '{"yudu": "sqlite://"}'}, "a SQLite file", "SQLite 文件"),
        ({"region_name": "赣州市", "region_counties": '{"yudu": "OWN"}'}, "this service's own", "本服务自身"),
        (
            {"region_name": "赣州市", "region_counties": '{"yudu": "sqlite:////x.db"}', "region_plan": "nowhere"},
            "region.json cannot be read",
            "无法读取",
        ),
    ],
)
def test_bad_region_settings_stop_the_start_in_both_languages(
    tmp_path: Path, settings: dict[str, Any], english: str, chinese: str
) -> None:
    """Each wrong setting is refused at start-up (create_app) with what is wrong, in English and Chinese."""
    own = f"sqlite:///{tmp_path / 'own.db'}"
    if "region_counties" in settings:
        settings = {**settings, "region_counties": settings["region_counties"].replace("OWN", own)}
    if "region_plan" in settings:
        settings = {**settings, "region_plan": tmp_path / settings["region_plan"]}
    with pytest.raises(InvalidRegionSettings) as refused:
        create_app(_settings(tmp_path, **settings))
    assert english in str(refused.value) and chinese in str(refused.value)


def test_region_json_must_be_the_regions_and_name_configured_counties(tmp_path: Path, region_plan: Path) -> None:
    """A region.json of another region, or naming a county the settings do not, is refused, naming both."""
    counties = json.dumps({"ruijin": "sqlite:////r.db", "yudu": "sqlite:////y.db"})
    with pytest.raises(InvalidRegionSettings) as refused:
        region_config(_settings(tmp_path, region_name="吉安市", region_counties=counties, region_plan=region_plan))
    message = str(refused.value)
    assert "is the plan of 赣州市, not of 吉安市" in message and "是 赣州市 的计划，不是 吉安市 的" in message
    assert "xingguo" in message and "不在 FANGGANG_REGION_COUNTIES 中" in message
    every = json.dumps({k: f"sqlite:////{k}.db" for k in COUNTIES})
    config = region_config(_settings(tmp_path, region_name="赣州市", region_counties=every, region_plan=region_plan))
    assert config is not None and sorted(config.counties) == list(COUNTIES)


def test_fanggang_serve_refuses_bad_region_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`fanggang serve` with a broken FANGGANG_REGION_COUNTIES prints the problem in both languages and exits 2."""
    from api.cli import main
    from api.settings import get_settings

    monkeypatch.setenv("FANGGANG_DATABASE_URL", f"sqlite:///{tmp_path / 'own.db'}")
    monkeypatch.setenv("FANGGANG_REGION_NAME", "赣州市")
    monkeypatch.setenv("FANGGANG_REGION_COUNTIES", "{not json")
    get_settings.cache_clear()
    try:
        assert main(["serve"]) == 2
    finally:
        get_settings.cache_clear()
    error = capsys.readouterr().err
    assert "FANGGANG_REGION_COUNTIES is not JSON" in error and "不是有效的 JSON" in error


# --------------------------------------------------------------------------------------------- over HTTP


@pytest.fixture(scope="module")
def region_server(region: RegionService) -> Iterator[str]:
    """The region's service over HTTP (uvicorn on a free port), on the same databases."""
    server, thread, base = start_server(region.settings)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(15)


region_schema = schemathesis.openapi.from_dict(create_app(Settings(database_url="sqlite://")).openapi()).include(
    path_regex="^/region"
)


@region_schema.parametrize()
@hypothesis_settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_region_routes_answer_as_documented(case: Any, region: RegionService, region_server: str) -> None:
    """schemathesis on every /region operation as the region: only documented answers, never a 5xx (unknown
    counties and plans are 404, bad dates 422)."""
    case.call_and_validate(
        base_url=region_server,
        headers={"Authorization": f"Bearer {region.api.tokens['region']}"},
        excluded_checks=[positive_data_acceptance],
    )
