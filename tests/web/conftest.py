"""Browser tests of the pages under /app.

- ``server``: a running service (uvicorn in a thread, free localhost port) on a fresh SQLite file in
  the test's tmp folder, seeded with tests/data/scenario_small through the service code (policy as in
  tests/api), with tokens for the dispatcher, every township and every factory.
- ``browser``: the Debian package chromium driven by Playwright (``.ci/install-browser`` installs it;
  Playwright never downloads a browser of its own). Without it the tests are skipped, unless CI is
  set: then they fail.
- ``signed_in(server, who)``: a new page signed in through /app/login as that token.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from api.db import make_engine, session_scope
from api.main import create_app
from api.models import Role, UserCreate
from api.services.accounts import create_user
from api.services.seed import seed
from api.services.tokens import create_token
from api.settings import Settings
from tests.api.conftest import SMALL, SMALL_POLICY, TOWNSHIPS  # the same small county and rules as the API tests

FACTORIES = ("dg-changan", "dg-humen", "ks-yushan")
CHROMIUM = os.environ.get("FANGGANG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """The running service: ``url``, tokens by who ("dispatcher", a township id, a factory id)."""

    url: str
    tokens: dict[str, str] = field(default_factory=dict)

    def api(self, method: str, path: str, who: str = "dispatcher", **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return httpx.request(method, self.url + path, headers=headers, timeout=30, **kw)

    def plan(self, date: str, time_limit: float = 2) -> dict[str, Any]:
        """Start a plan through the HTTP API, wait for it and publish it."""
        job = self.api("POST", "/plans", json={"date": date, "time_limit": time_limit}).json()
        deadline = time.monotonic() + 90
        while job["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.2)
            job = self.api("GET", f"/plans/{job['id']}").json()
        assert job["status"] == "done", job
        published = self.api("POST", f"/plans/{job['id']}/publish")
        assert published.status_code == 200, published.text
        return job


def start_server(settings: Settings) -> tuple[uvicorn.Server, threading.Thread, str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    url = f"sqlite:///{tmp_path / 'web.db'}"
    settings = Settings(database_url=url, campaign="2026", planning_processes=1, notice_outbox=tmp_path / "outbox")
    uv, thread, base = start_server(settings)
    try:
        engine = make_engine(url, None)
        seed(engine, "2026", SMALL, policy=SMALL_POLICY)
        tokens: dict[str, str] = {}
        with session_scope(engine) as session:
            tokens["dispatcher"] = create_token(session, Role.dispatcher, None)[1]
            tokens["admin"] = create_token(session, Role.admin, None)[1]
            for township in TOWNSHIPS:
                tokens[township] = create_token(session, Role.township, township)[1]
            for factory in FACTORIES:
                tokens[factory] = create_token(session, Role.factory, factory)[1]
            for who in tokens:
                role = who if who in ("dispatcher", "admin") else "township" if who in TOWNSHIPS else "factory"
                scope = None if who in ("dispatcher", "admin") else who
                body = UserCreate(username=f"u-{who}", password=PASSWORD, role=role, scope=scope)
                create_user(session, body)
        engine.dispose()
        yield Server(base, tokens)
    finally:
        uv.should_exit = True
        thread.join(15)


@pytest.fixture
def empty_server(tmp_path: Path) -> Iterator[Server]:
    """The service on an empty database: no county yet, an admin and a dispatcher (tokens and accounts)."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    uv, thread, base = start_server(
        Settings(database_url=url, campaign="2026", planning_processes=1, notice_outbox=tmp_path / "outbox")
    )
    try:
        engine = make_engine(url, None)
        tokens: dict[str, str] = {}
        with session_scope(engine) as session:
            for who, role in (("admin", Role.admin), ("dispatcher", Role.dispatcher)):
                tokens[who] = create_token(session, role, None)[1]
                create_user(session, UserCreate(username=f"u-{who}", password=PASSWORD, role=role))
        engine.dispose()
        yield Server(base, tokens)
    finally:
        uv.should_exit = True
        thread.join(15)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    problem = None
    if not Path(CHROMIUM).is_file():
        problem = f"{CHROMIUM} not found (run .ci/install-browser)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        problem = "the playwright package is not installed"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    # A stray proxy setting must not send localhost requests elsewhere.
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


PASSWORD = "correct horse battery"


def signed_in(browser: Any, server: Server, who: str, lang: str = "zh", **context: Any) -> Any:
    """A new page signed in through the login form as ``who``'s account (user ``u-<who>``); JS errors fail the
    test."""
    ctx = browser.new_context(**context)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.js_errors = errors
    if lang == "en":
        page.goto(f"{server.url}/app/lang/en?next=/app/login")
    page.goto(f"{server.url}/app/login")
    page.fill("#username", f"u-{who}")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_load_state("networkidle")
    return page
