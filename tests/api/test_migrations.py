"""Migrations on SQLite and PostgreSQL: 0002 converts rows stored by 0001 (JSON-in-Text) and back, the schema
at head is the models' schema, and the service answers for rows an earlier version wrote."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from sqlmodel import Session, SQLModel, select

from api import models as m
from api.db import downgrade, make_engine, session_scope, upgrade
from api.main import create_app
from api.services.auth import authenticate, hash_token
from api.services.tokens import create_token
from api.settings import Settings
from tests.api.conftest import Database

NOW = dt.datetime(2026, 2, 19, 8, 0, tzinfo=dt.UTC)
POLICY = {"county": "于都县", "province": "江西省", "charter_min_group": 2}
BUS = {
    "bus_id": "0220-001",
    "vehicle_type": "coach35",
    "seats": 35,
    "load": 1,
    "area": "东莞市",
    "distance_km": 1010.4,
    "drive_hours": 6.9,
    "drivers": 1,
    "cost": 7252.0,
    "stops": [
        {
            "place_id": "360731100",
            "place_name": "贡江镇",
            "kind": "pickup",
            "arrival": "2026-02-20T05:28",
            "departure": "2026-02-20T05:38",
            "board": ["1"],
            "alight": [],
        },
        {
            "place_id": "dg-humen",
            "place_name": "虎门服装城",
            "kind": "dropoff",
            "arrival": "2026-02-20T12:40",
            "departure": "2026-02-20T12:50",
            "board": [],
            "alight": ["1"],
        },
    ],
}
# plan.json as 0001's planner wrote it: a fallback line with an English reason and no cause.
OLD_PLAN = {
    "date": "2026-02-20",
    "buses": [BUS],
    "fallback": [{"traveller_id": "2", "mode": "free_ticket", "reason": "traveller travelling alone", "est_cost": 9}],
    "subsidies": [],
    "totals": {},
    "stats": {},
}
OLD_RESULT = {"plan": OLD_PLAN, "manifests": {"0220-001": [{"seat": "1", "traveller_id": "1"}]}, "versions": {}}
SMALL_FLOW = {
    "township": "贡江镇",
    "factory": "玉山电子厂",
    "area": "苏州市",
    "size": 1,
    "group_size": 1,
    "flow_size": 1,
    "mode": "free_ticket",
    "per_person": 572.0,
    "threshold": 2,
    "priced": False,
    "max_pickup_stops": 3,
    "max_dropoff_stops": 3,
}


def _insert_0001_rows(engine: Any) -> None:
    """One row of every table 0002 changes, as 0001 stored them."""
    with engine.begin() as c:
        c.execute(text("insert into townships (id, name, lat, lon) values ('360731100', '贡江镇', 25.96, 115.41)"))
        c.execute(
            text(
                "insert into factories (id, name, lat, lon, city, province, receive_from, receive_until) "
                "values ('dg-humen', '虎门服装城', 22.81, 113.67, '东莞市', '广东省', '07:30', '24:00')"
            )
        )
        c.execute(text("insert into policy (key, data) values ('policy', :d)"), {"d": json.dumps(POLICY)})
        for job_id, status in ((1, "published"), (2, "done")):
            c.execute(
                text(
                    "insert into plans (id, date, time_limit, status, progress, message, kept_buses, created_at, "
                    "result) values (:i, '2026-02-20', 2, :s, 1, '1 buses', 0, :t, :r)"
                ),
                {"i": job_id, "s": status, "t": NOW, "r": json.dumps(OLD_RESULT, ensure_ascii=False)},
            )
        c.execute(
            text(
                "insert into buses (id, plan_id, date, vehicle_type, seats, status, data) "
                "values ('P1-0220-001', 1, '2026-02-20', 'coach35', 35, 'published', :d)"
            ),
            {"d": json.dumps(BUS, ensure_ascii=False)},
        )
        for tid, mode, reason in ((1, "bus", None), (2, "free_ticket", "traveller travelling alone")):
            c.execute(
                text(
                    "insert into travellers (id, name, id_number, phone, earliest_date, report_date, group_id, "
                    "registered_poor, campaign, ref, township_id, factory_id, status, version, no_shows, "
                    "created_at, updated_at, plan_id, mode, bus_id, fallback_reason) values (:i, '旅客', :n, "
                    "'13800000001', '2026-02-20', '2026-02-22', '', true, '2026', :ref, '360731100', 'dg-humen', "
                    "'planned', 2, 0, :t, :t, 1, :mode, :bus, :reason)"
                ),
                {
                    "i": tid,
                    "n": f"36073119900101001{tid}",
                    "ref": f"T00{tid}",
                    "t": NOW,
                    "mode": mode,
                    "bus": "P1-0220-001" if mode == "bus" else None,
                    "reason": reason,
                },
            )
        # A row referring to travellers: on SQLite 0002 copies the travellers table under it.
        c.execute(
            text(
                "insert into subsidies (campaign, id_number, traveller_id, township_id, factory_id, amount, "
                "created_at) values ('2026', '360731199001010011', 1, '360731100', 'dg-humen', 1000, :t)"
            ),
            {"t": NOW},
        )
        c.execute(
            text(
                "insert into receipts (township_id, number, amount, traveller_ids, status, note, created_at) "
                "values ('360731100', 'FP-1', 9, '[2]', 'submitted', '', :t)"
            ),
            {"t": NOW},
        )


def test_0002_converts_rows_both_ways(database: Database) -> None:
    """Rows 0001 stored as JSON text read as JSON after 0002 (JSONB on PostgreSQL) and as the same text after a
    downgrade; a stored cause becomes 0001's English reason again; nothing is lost on the way."""
    engine = make_engine(database.url, database.schema)
    upgrade(engine, "0001")
    _insert_0001_rows(engine)
    upgrade(engine)
    with Session(engine) as session:
        assert session.get(m.PolicySetting, "policy").data == POLICY
        jobs = session.exec(select(m.PlanJob).order_by(m.PlanJob.id)).all()
        assert [j.result for j in jobs] == [OLD_RESULT, OLD_RESULT]
        assert [j.message_zh for j in jobs] == ["", ""]
        assert session.get(m.Bus, "P1-0220-001").data == BUS
        assert session.exec(select(m.Receipt)).one().traveller_ids == [2]
        # 0005: the submitted receipt's traveller is claimed by it, once.
        assert [(c.traveller_id, c.share) for c in session.exec(select(m.ReceiptClaim)).all()] == [(2, 9.0)]
        fallback = session.get(m.Traveller, 2)
        assert fallback.fallback_cause is None and fallback.fallback_params is None and fallback.mode == "free_ticket"
        assert len(session.exec(select(m.Subsidy)).all()) == 1
    if database.kind == "postgresql":
        columns = {c["name"]: c["type"] for c in inspect(engine).get_columns("plans", schema=database.schema)}
        assert type(columns["result"]).__name__ == "JSONB"

    with session_scope(engine) as session:
        row = session.get(m.Traveller, 2)
        row.fallback_cause, row.fallback_params = "small_flow", SMALL_FLOW
        session.add(row)
    downgrade(engine, "0001")
    with engine.connect() as c:
        assert json.loads(c.execute(text("select data from policy")).scalar()) == POLICY
        assert json.loads(c.execute(text("select result from plans where id = 1")).scalar()) == OLD_RESULT
        assert json.loads(c.execute(text("select data from buses")).scalar()) == BUS
        assert json.loads(c.execute(text("select traveller_ids from receipts")).scalar()) == [2]
        reason = c.execute(text("select fallback_reason from travellers where id = 2")).scalar()
        assert reason.startswith("traveller travelling alone from 贡江镇 to 玉山电子厂")
    upgrade(engine)
    with Session(engine) as session:
        assert session.get(m.PlanJob, 2).result == OLD_RESULT
    engine.dispose()


def test_schema_at_head_is_the_models_schema(database: Database) -> None:
    """Alembic finds nothing to autogenerate at head: the migrations create exactly the tables of api/models.py."""
    engine = make_engine(database.url, database.schema)
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_schemas": False, "target_metadata": SQLModel.metadata}
        )
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == []


def test_service_answers_for_rows_an_earlier_version_wrote(database: Database) -> None:
    """A plan stored before reasons were data is listed and fetched (without its plan, saying why) and cannot be
    published; its published bus is served typed; nothing answers 500."""
    engine = make_engine(database.url, database.schema)
    upgrade(engine, "0001")
    _insert_0001_rows(engine)
    settings = Settings(database_url=database.url, database_schema=database.schema, planning_processes=1)
    with TestClient(create_app(settings)) as client:
        with session_scope(engine) as session:
            token = create_token(session, m.Role.dispatcher, None)[1]
        headers = {"Authorization": f"Bearer {token}"}
        old = client.get("/plans/1", headers=headers)
        assert old.status_code == 200, old.text
        assert old.json()["plan"] is None and "旧版本" in old.json()["error_zh"]
        assert client.get("/plans", headers=headers).status_code == 200
        refused = client.post("/plans/2/publish", headers=headers)
        assert refused.status_code == 409 and "earlier version" in refused.json()["detail"]
        bus = client.get("/buses/P1-0220-001", headers=headers)
        assert bus.status_code == 200 and bus.json()["bus"] == BUS | {"coach_id": ""}  # no coach named back then
        assert client.get("/buses/P1-0220-001/manifest", headers=headers).status_code == 200
        assert client.get("/travellers/2", headers=headers).json()["fallback_reason_zh"] is None
        assert client.get("/reimbursements", headers=headers).status_code == 200
        assert client.get("/plans/1/fallback", headers=headers).status_code == 409
    engine.dispose()


def test_0006_keeps_earlier_tokens_working_for_60_days_and_downgrades_with_the_audit_log(database: Database) -> None:
    """A token stored before 0006 still works after it and expires 60 days after the upgrade; the audit log
    written at head goes with a downgrade to 0005, and the upgrade again starts it empty."""
    engine = make_engine(database.url, database.schema)
    upgrade(engine, "0005")
    with engine.begin() as c:
        c.execute(
            text(
                "insert into tokens (token_hash, role, scope, label, created_at, revoked) "
                "values (:h, 'dispatcher', null, 'old', :t, :r)"
            ),
            {"h": hash_token("fg_old-token"), "t": NOW, "r": False},
        )
    upgrade(engine)
    with session_scope(engine) as session:
        caller = authenticate(session, "fg_old-token")
        assert caller is not None and caller.actor == "old"
        row = session.get(m.Token, caller.token_id)
        left = _aware(row.expires_at) - m.utcnow()
        assert dt.timedelta(days=59) < left <= dt.timedelta(days=60)
        session.add(m.Township(id="360731199", name="新乡", lat=25.9, lon=115.4))
    with engine.connect() as c:
        assert c.execute(text("select count(*) from audit_log")).scalar() == 1
    downgrade(engine, "0005")
    assert "audit_log" not in inspect(engine).get_table_names(schema=database.schema)
    upgrade(engine)
    with engine.connect() as c:
        assert c.execute(text("select count(*) from audit_log")).scalar() == 0
    engine.dispose()


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
