"""Planning jobs that stay dead: kill -9 of the server ends its solver, and a run that no longer owns its job
(the service restarted and failed it) can never store a result."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import text

from api.db import make_engine, session_scope
from api.models import Role
from api.services.planning import fail_unfinished_jobs
from api.services.seed import seed
from api.services.tokens import create_token
from tests.api.conftest import SMALL, SMALL_POLICY, TODAY
from tests.web.conftest import free_port

SERVE = """
import sys, uvicorn
from api.main import create_app
from api.settings import Settings
settings = Settings(database_url=sys.argv[1], campaign="2026", planning_processes=1, today=sys.argv[3])
uvicorn.run(create_app(settings), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead too (its parent, the killed server, never reaps it).
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


def _serve(url: str, port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen([sys.executable, "-c", SERVE, url, str(port), TODAY.isoformat()])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/rules", timeout=2)
            return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise AssertionError("the service did not start")


def _seed_with_dispatcher(engine) -> str:  # type: ignore[no-untyped-def]
    """Load the small county into the running service's database; a dispatcher token for it."""
    seed(engine, "2026", SMALL, policy=SMALL_POLICY)
    with session_scope(engine) as session:
        return create_token(session, Role.dispatcher, None)[1]


def _job(engine, job_id: int) -> tuple[str, int | None]:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        row = connection.execute(text("select status, worker_pid from plans where id = :i"), {"i": job_id}).one()
    return row[0], row[1]


def _start_job(port: int, token: str, time_limit: float) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    response = httpx.post(
        f"http://127.0.0.1:{port}/plans",
        json={"from": "2026-02-18", "to": "2026-02-28", "time_limit": time_limit},
        headers=headers,
        timeout=30,
    )
    assert response.status_code == 202, response.text
    return response.json()["id"]


def _wait_running(engine, job_id: int) -> int:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status, pid = _job(engine, job_id)
        if status == "running" and pid:
            return pid
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} never ran")


def test_kill_9_of_the_server_ends_the_solver_and_the_job_stays_failed(tmp_path: Path) -> None:
    """kill -9 of the service during a planning job: its worker process ends within seconds; after a restart
    the job is failed and stays failed."""
    url = f"sqlite:///{tmp_path / 'kill.db'}"
    port = free_port()
    server = _serve(url, port)
    engine = make_engine(url, None)
    try:
        token = _seed_with_dispatcher(engine)
        job_id = _start_job(port, token, time_limit=60)
        worker = _wait_running(engine, job_id)
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        deadline = time.monotonic() + 10
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(worker), "the solver outlived the killed server"
        server = _serve(url, port)
        assert _job(engine, job_id)[0] == "failed"
        time.sleep(3)
        assert _job(engine, job_id)[0] == "failed"
    finally:
        server.kill()
        server.wait(10)
        engine.dispose()


def test_a_run_that_lost_its_job_cannot_store_a_result(tmp_path: Path) -> None:
    """A job failed while its run goes on (what a restart does to an orphan) stays failed when the run finishes:
    the result is written only under the run's lease."""
    url = f"sqlite:///{tmp_path / 'lease.db'}"
    port = free_port()
    server = _serve(url, port)
    engine = make_engine(url, None)
    try:
        token = _seed_with_dispatcher(engine)
        job_id = _start_job(port, token, time_limit=3)
        worker = _wait_running(engine, job_id)
        assert fail_unfinished_jobs(engine) == 1
        deadline = time.monotonic() + 60
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(worker)
        with engine.connect() as connection:
            status, result = connection.execute(
                text("select status, result from plans where id = :i"), {"i": job_id}
            ).one()
        assert status == "failed" and result is None
    finally:
        server.kill()
        server.wait(10)
        engine.dispose()
