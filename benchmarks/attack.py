"""Attacking the running service as issue 14's probes did: a junk import, a GET during it, and schemathesis over
every operation; the figures the issue asks for (time, memory, answer size, requests tried, refused, 5xx).

    .venv/bin/python -m benchmarks.attack [--db sqlite|postgresql|both] [--junk-lines 200000] [--examples 20]

The service runs as `fanggang serve` in its own process on a fresh database holding the small test county.
Memory is the service process's resident set (VmRSS) before and after, and its peak (VmHWM); the import's check
runs in a child process, whose peak is reported apart.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "tests" / "data" / "scenario_small"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
HOME = {"county": "于都县", "province": "江西省", "depot_lat": 25.95, "depot_lon": 115.41}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _memory_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _children(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if f"\nPPid:\t{pid}\n" in text:
            found.append(int(status.parent.name))
    return found


def _prepare(url: str, schema: str | None) -> tuple[str, str, str]:
    from api.db import ensure_schema, make_engine, session_scope, upgrade
    from api.models import Role
    from api.services.seed import seed
    from api.services.tokens import create_token

    engine = make_engine(url, schema)
    if schema:
        ensure_schema(engine, schema)
    upgrade(engine)
    seed(engine, "2026", SMALL, policy=HOME)
    with session_scope(engine) as session:
        tokens = tuple(
            create_token(session, role, scope, "attack", 1)[1]
            for role, scope in ((Role.dispatcher, None), (Role.admin, None), (Role.township, "360731100"))
        )
    engine.dispose()
    return tokens  # type: ignore[return-value]


def _junk_import(base: str, township: str, lines: int, pid: int) -> dict[str, str]:
    junk = ("a\n" * lines).encode()  # the file: 400 KB of 200,000 one-character lines
    headers = {"Authorization": f"Bearer {township}"}
    before = _memory_mb(pid, "VmRSS")
    waits: list[float] = []
    peak_child = 0.0
    done = threading.Event()

    def meanwhile() -> None:
        nonlocal peak_child
        with httpx.Client(timeout=60) as client:
            while not done.is_set():
                started = time.perf_counter()
                client.get(f"{base}/townships", headers=headers)
                waits.append(time.perf_counter() - started)
                for child in _children(pid):
                    with contextlib.suppress(OSError):
                        peak_child = max(peak_child, _memory_mb(child, "VmRSS"))
                time.sleep(0.05)

    watcher = threading.Thread(target=meanwhile)
    watcher.start()
    started = time.perf_counter()
    response = httpx.post(f"{base}/travellers/import", headers=headers, files={"file": ("junk.csv", junk)}, timeout=300)
    elapsed = time.perf_counter() - started
    done.set()
    watcher.join()
    return {
        "lines": f"{lines:,}",
        "file KB": f"{len(junk) / 1024:.0f}",
        "status": str(response.status_code),
        "answer KB": f"{len(response.content) / 1024:.0f}",
        "seconds": f"{elapsed:.1f}",
        "service RSS MB before/after/peak": f"{before:.0f} / {_memory_mb(pid, 'VmRSS'):.0f} / "
        f"{_memory_mb(pid, 'VmHWM'):.0f}",
        "checking process peak MB": f"{peak_child:.0f}",
        "slowest GET meanwhile s": f"{max(waits, default=0):.2f}",
    }


def _schemathesis(base: str, token: str, examples: int, folder: Path) -> dict[str, str]:
    har = folder / "schemathesis.har"
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{base}/openapi.json",
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",
        "-H",
        f"Authorization: Bearer {token}",
        "--max-examples",
        str(examples),
        # Revoking its own token would end the run early (revoking is tested in the suite).
        "--exclude-name",
        "DELETE /tokens/{token_id}",
        "--generation-deterministic",
        "--report",
        "har",
        "--report-har-path",
        str(har),
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    entries = json.loads(har.read_text())["log"]["entries"] if har.exists() else []
    statuses = Counter(e["response"]["status"] for e in entries)
    summary = [line for line in run.stdout.splitlines() if "passed" in line or "failed" in line][-1:]
    return {
        "requests": f"{len(entries):,}",
        "refused 4xx": f"{sum(n for s, n in statuses.items() if 400 <= s < 500):,}",
        "5xx": str(sum(n for s, n in statuses.items() if s >= 500)),
        "by status": ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())),
        "schemathesis": (summary[0].strip(" =") if summary else run.stdout[-300:]),
    }


def run(kind: str, args: argparse.Namespace) -> dict[str, dict[str, str]]:
    folder = Path(tempfile.mkdtemp(prefix="fanggang-attack-"))
    schema = None
    url = f"sqlite:///{folder / 'attack.db'}"
    if kind == "postgresql":
        url, schema = PG_URL, f"attack_{uuid.uuid4().hex[:8]}"
    dispatcher, admin, township = _prepare(url, schema)
    port = _free_port()
    env = dict(os.environ, FANGGANG_DATABASE_URL=url, FANGGANG_TODAY="2026-02-17", FANGGANG_PLANNING_PROCESSES="1")
    # schemathesis sends requests without and with wrong tokens on purpose; the brake (tested on its own) would
    # answer the rest of the run 429.
    env["FANGGANG_AUTH_FAILURES_PER_MINUTE"] = "10000"
    if schema:
        env["FANGGANG_DATABASE_SCHEMA"] = schema
    fanggang = str(Path(sys.executable).parent / "fanggang")
    server = subprocess.Popen(
        [fanggang, "serve", "--port", str(port)], cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/rules", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        results = {"junk import": _junk_import(base, township, args.junk_lines, server.pid)}
        results["junk import at the row cap"] = _junk_import(base, township, 50_000, server.pid)
        for who, token in (("dispatcher", dispatcher), ("admin", admin)):
            results[f"schemathesis as {who}"] = _schemathesis(base, token, args.examples, folder)
        return results
    finally:
        server.terminate()
        server.wait(30)
        if schema:
            from sqlalchemy import create_engine, text

            engine = create_engine(PG_URL)
            with engine.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--junk-lines", type=int, default=200_000)
    parser.add_argument("--examples", type=int, default=20)
    args = parser.parse_args()
    for kind in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        for probe, figures in run(kind, args).items():
            print(f"{kind} · {probe}")
            for name, value in figures.items():
                print(f"    {name}: {value}")


if __name__ == "__main__":
    main()
