"""Load figures for the HTTP service on SQLite and PostgreSQL (loopback only, bounded request counts).

Measures requests/s and p50/p99 latency of: single registrations, the import of the fixture county's
20,000 travellers in one file, the planning job of its busiest day, and manifest fetches.

    .venv/bin/python benchmarks/api_load.py [--db sqlite|postgresql|both] [--registrations 400]
        [--manifests 400] [--concurrency 8] [--plan-time-limit 30]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import text
from stdnum.cn import ric

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "fixtures" / "yudu"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _report(name: str, latencies: list[float], wall_s: float) -> dict[str, str]:
    return {
        "what": name,
        "n": str(len(latencies)),
        "req/s": f"{len(latencies) / wall_s:.1f}",
        "p50 ms": f"{_percentile(latencies, 0.5) * 1000:.1f}",
        "p99 ms": f"{_percentile(latencies, 0.99) * 1000:.1f}",
        "mean ms": f"{statistics.fmean(latencies) * 1000:.1f}",
    }


def _timed(client: httpx.Client, method: str, url: str, **kw) -> tuple[float, httpx.Response]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    response = client.request(method, url, **kw)
    return time.perf_counter() - started, response


def _prepare(url: str, schema: str | None) -> tuple[str, str]:
    """Reference data and policy of the fixture county, no travellers; a dispatcher and a township token."""
    from api.db import ensure_schema, make_engine, session_scope, upgrade
    from api.models import Role
    from api.services.seed import seed
    from api.services.tokens import create_token

    engine = make_engine(url, schema)
    if schema:
        ensure_schema(engine, schema)
    upgrade(engine)
    seed(engine, "2026", FIXTURE)
    with session_scope(engine) as session:
        session.execute(text("DELETE FROM travellers"))
        dispatcher = create_token(session, Role.dispatcher, None)[1]
        township = create_token(session, Role.township, "360731100")[1]
    engine.dispose()
    return dispatcher, township


def run(kind: str, args: argparse.Namespace) -> list[dict[str, str]]:
    tmp = Path(tempfile.mkdtemp(prefix="fanggang-bench-"))
    schema = None
    if kind == "sqlite":
        url = f"sqlite:///{tmp / 'bench.db'}"
    else:
        url, schema = PG_URL, f"bench_{uuid.uuid4().hex[:8]}"
    dispatcher, township = _prepare(url, schema)
    port = _free_port()
    env = dict(os.environ, FANGGANG_DATABASE_URL=url, FANGGANG_DATABASE_SCHEMA=schema or "")
    if not schema:
        env.pop("FANGGANG_DATABASE_SCHEMA")
    server = subprocess.Popen(
        [sys.executable, "-m", "scheduler.cli", "serve", "--port", str(port)],
        cwd=tmp,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    rows: list[dict[str, str]] = []
    try:
        with httpx.Client(base_url=base, timeout=600) as client:
            for _ in range(100):
                try:
                    if client.get("/rules").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            auth_d = {"Authorization": f"Bearer {dispatcher}"}
            auth_t = {"Authorization": f"Bearer {township}"}

            # 1. The county's 20,000 registrations in one import.
            content = (FIXTURE / "travellers.csv").read_bytes()
            seconds, response = _timed(
                client, "POST", "/travellers/import", headers=auth_d, files={"file": ("travellers.csv", content)}
            )
            assert response.status_code == 200, response.text[:500]
            rows.append(
                {
                    **_report("import 20,000 rows (1 request)", [seconds], seconds),
                    "note": f"{20000 / seconds:.0f} rows/s",
                }
            )

            # 2. Single registrations by a township, concurrently.
            def register(i: int) -> float:
                base17 = f"3607311995{i // 28 % 12 + 1:02d}{i % 28 + 1:02d}{i % 1000:03d}"
                number = base17 + ric.calc_check_digit(base17 + "0")
                body = {
                    "name": f"测试{i}",
                    "id_number": number,
                    "phone": f"139{i:08d}",
                    "factory_id": "F001",
                    "earliest_date": "2026-03-20",
                    "report_date": "2026-03-25",
                }
                seconds, response = _timed(client, "POST", "/travellers", headers=auth_t, json=body)
                assert response.status_code in (201, 409), response.text[:300]
                return seconds

            started = time.perf_counter()
            with ThreadPoolExecutor(args.concurrency) as pool:
                latencies = list(pool.map(register, range(args.registrations)))
            rows.append(
                _report(
                    f"register one traveller (x{args.concurrency} clients)", latencies, time.perf_counter() - started
                )
            )

            # 3. The busiest day's planning job, then publishing it.
            day = _busiest_day()
            started = time.perf_counter()
            job = client.post("/plans", headers=auth_d, json={"date": day, "time_limit": args.plan_time_limit}).json()
            accepted = time.perf_counter() - started
            while True:
                state = client.get(f"/plans/{job['id']}", headers=auth_d).json()
                if state["status"] not in ("queued", "running"):
                    break
                time.sleep(0.5)
            planned = time.perf_counter() - started
            assert state["status"] == "done", state.get("error")
            seconds, response = _timed(client, "POST", f"/plans/{job['id']}/publish", headers=auth_d)
            assert response.status_code == 200, response.text[:300]
            totals = state["plan"]["totals"]
            rows.append(
                {
                    "what": f"planning job {day} (time_limit {args.plan_time_limit:g} s)",
                    "n": "1",
                    "req/s": "-",
                    "p50 ms": f"{planned * 1000:.0f}",
                    "p99 ms": "-",
                    "mean ms": "-",
                    "note": f"202 in {accepted * 1000:.0f} ms; {totals['travellers']} travellers, "
                    f"{totals['buses']} buses; publish {seconds:.1f} s",
                }
            )

            # 4. Manifest fetches (dispatcher, JSON), round-robin over the published buses.
            buses = [b["id"] for b in client.get("/buses", headers=auth_d, params={"date": day}).json()]

            def fetch(i: int) -> float:
                seconds, response = _timed(client, "GET", f"/buses/{buses[i % len(buses)]}/manifest", headers=auth_d)
                assert response.status_code == 200
                return seconds

            started = time.perf_counter()
            with ThreadPoolExecutor(args.concurrency) as pool:
                latencies = list(pool.map(fetch, range(args.manifests)))
            rows.append(
                _report(f"manifest fetch (x{args.concurrency} clients)", latencies, time.perf_counter() - started)
            )
    finally:
        server.terminate()
        server.wait(30)
        if schema:
            from api.db import make_engine

            engine = make_engine(PG_URL)
            with engine.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            engine.dispose()
    return rows


def _busiest_day() -> str:
    from scheduler.scenario import load_scenario

    return load_scenario(FIXTURE).busiest_day().isoformat()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--registrations", type=int, default=400)
    parser.add_argument("--manifests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--plan-time-limit", type=float, default=30.0)
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    for kind in kinds:
        print(f"\n## {kind}")
        print("| what | n | req/s | p50 ms | p99 ms | mean ms | note |")
        print("|---|---|---|---|---|---|---|")
        for row in run(kind, args):
            print(
                "| "
                + " | ".join(row.get(k, "") for k in ("what", "n", "req/s", "p50 ms", "p99 ms", "mean ms", "note"))
                + " |",
                flush=True,
            )


if __name__ == "__main__":
    main()
