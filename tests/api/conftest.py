"""API test fixtures: the same suite runs on SQLite and on PostgreSQL.

- ``db_url`` (parametrised "sqlite" / "postgresql"): a fresh empty database for one test. SQLite is
  a file in the test's tmp folder; PostgreSQL (127.0.0.1:5432, database ``test``) is a schema of
  its own, dropped afterwards. When PostgreSQL is unreachable its tests are skipped, unless the
  environment variable CI is set: then they fail, so CI proves both databases.
- ``api``: an ``Api`` around a running app (lifespan, migrations) seeded with
  tests/data/scenario_small (policy: the fixture county's home settings, charter threshold 2, no pricing of
  alternatives, so small groups get buses), with tokens for the dispatcher, every township and every factory.
- ``api_on_day``: the seeded app whose today is a given date (the default today is ``TODAY``).
- ``empty_api``: the same app on an empty database (migrated, nothing loaded), with a dispatcher token only.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.db import make_engine, session_scope
from api.main import create_app
from api.models import Role
from api.services.seed import seed
from api.services.tokens import create_token
from api.settings import Settings
from api.web.auth import COOKIE

DATA = Path(__file__).resolve().parents[1] / "data"
SMALL = DATA / "scenario_small"
PG_URL = os.environ.get("FANGGANG_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# The fixture county's home settings: the service plans for no county until they are stored.
HOME = {
    "county": "于都县",
    "province": "江西省",
    "depot_name": "于都汽车站",
    "depot_lat": 25.9594,
    "depot_lon": 115.411,
}
SMALL_POLICY = {**HOME, "charter_min_group": 2, "price_alternatives": False}
TOWNSHIPS = ("360731100", "360731101", "360731102")
# The service's today: the eve of the small county's season, so that a campaign plan may use every date of it.
TODAY = dt.date(2026, 2, 17)
FACTORIES = ("dg-changan", "dg-humen", "ks-yushan")


def _pg_reachable() -> str | None:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as err:
        return str(err).splitlines()[0]


@dataclass
class Database:
    url: str
    schema: str | None
    kind: str
    folder: Path  # the test's own folder (the SMS outbox goes here)


@contextmanager
def make_database(kind: str, folder: Path) -> Iterator[Database]:
    """A fresh SQLite file in ``folder``, or a fresh schema in the test PostgreSQL (dropped afterwards)."""
    if kind == "sqlite":
        yield Database(f"sqlite:///{folder / 'test.db'}", None, "sqlite", folder)
        return
    problem = _pg_reachable()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {PG_URL} is not reachable (CI is set): {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield Database(PG_URL, schema, "postgresql", folder)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with make_database(request.param, tmp_path) as db:
        yield db


@dataclass
class Api:
    """A test client plus tokens: ``api.get(path, who="360731100")`` calls as that township's token."""

    client: TestClient
    db: Database
    tokens: dict[str, str] = field(default_factory=dict)

    def cookies(self, who: str) -> dict[str, str]:
        """The session cookie of a browser signed in with ``who``'s token through /app/login."""
        response = self.client.post("/app/login", data={"token": self.tokens[who]}, follow_redirects=False)
        assert response.status_code == 303 and COOKIE in response.cookies, response.text
        self.client.cookies.clear()
        return {COOKIE: response.cookies[COOKIE]}

    def headers(self, who: str | None) -> dict[str, str]:
        return {} if who is None else {"Authorization": f"Bearer {self.tokens[who]}"}

    def get(self, path: str, who: str | None = "dispatcher", **kw: Any) -> Any:
        return self.client.get(path, headers=self.headers(who), **kw)

    def post(self, path: str, who: str | None = "dispatcher", **kw: Any) -> Any:
        return self.client.post(path, headers=self.headers(who), **kw)

    def patch(self, path: str, who: str | None = "dispatcher", **kw: Any) -> Any:
        return self.client.patch(path, headers=self.headers(who), **kw)

    def put(self, path: str, who: str | None = "dispatcher", **kw: Any) -> Any:
        return self.client.put(path, headers=self.headers(who), **kw)

    def delete(self, path: str, who: str | None = "dispatcher", **kw: Any) -> Any:
        return self.client.request("DELETE", path, headers=self.headers(who), **kw)

    def travellers(self, who: str = "dispatcher", **params: Any) -> list[dict[str, Any]]:
        response = self.get("/travellers", who, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def by_ref(self, ref: str) -> dict[str, Any]:
        return next(t for t in self.travellers() if t["ref"] == ref)

    def plan(self, date: str, time_limit: float = 2, publish: bool = True) -> dict[str, Any]:
        """Start a planning job, wait for it, and publish it."""
        response = self.post("/plans", json={"date": date, "time_limit": time_limit})
        assert response.status_code == 202, response.text
        job = wait_for_job(self, response.json()["id"])
        assert job["status"] == "done", job
        if publish:
            published = self.post(f"/plans/{job['id']}/publish")
            assert published.status_code == 200, published.text
        return job


def wait_for_job(api: Api, job_id: int, timeout_s: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = api.get(f"/plans/{job_id}").json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"planning job {job_id} did not finish in {timeout_s} s")


def _running_api(database: Database, seeded: bool, today: dt.date = TODAY) -> Iterator[Api]:
    settings = Settings(
        database_url=database.url,
        database_schema=database.schema,
        campaign="2026",
        planning_processes=2,
        today=today,
        notice_outbox=database.folder / "outbox",
    )
    app = create_app(settings)
    with TestClient(app) as client:
        engine = make_engine(database.url, database.schema)
        if seeded:
            seed(engine, "2026", SMALL, policy=SMALL_POLICY)
        tokens: dict[str, str] = {}
        with session_scope(engine) as session:
            tokens["dispatcher"] = create_token(session, Role.dispatcher, None)[1]
            tokens["admin"] = create_token(session, Role.admin, None, "county admin")[1]
            for township in TOWNSHIPS if seeded else ():
                tokens[township] = create_token(session, Role.township, township)[1]
            for factory in FACTORIES if seeded else ():
                tokens[factory] = create_token(session, Role.factory, factory)[1]
        engine.dispose()
        yield Api(client, database, tokens)


@pytest.fixture
def api(database: Database) -> Iterator[Api]:
    yield from _running_api(database, seeded=True)


@pytest.fixture
def api_on_day(database: Database) -> Iterator[Callable[[dt.date], Api]]:
    """The seeded service as it would be on a later date: ``api_on_day(date)`` (one per test)."""
    running: list[Iterator[Api]] = []

    def start(today: dt.date) -> Api:
        running.append(_running_api(database, seeded=True, today=today))
        return next(running[-1])

    yield start
    for it in running:
        next(it, None)


@pytest.fixture
def empty_api(database: Database) -> Iterator[Api]:
    yield from _running_api(database, seeded=False)
