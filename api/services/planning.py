"""Planning jobs: each solve runs in its own process; its state and progress live in the database.

A job is written only by its worker process (running -> done | failed) and, if that process dies
without saying so, by the thread in the API process that waits for it. Planning never touches
travellers: only publishing does, in one transaction, so a crashed job leaves them as they were.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import secrets
import signal
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, update
from sqlmodel import Session

from api import models as m
from api.db import make_engine, session_scope
from api.services.lifeline import die_with_parent

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 0.5


class JobRunner:
    """Runs at most ``processes`` planning jobs at once, each in a fresh (spawned) process."""

    def __init__(self, engine: Engine, url: str, schema: str | None, processes: int) -> None:
        self.engine = engine
        self.url = url
        self.schema = schema
        self._threads = ThreadPoolExecutor(max_workers=max(1, processes), thread_name_prefix="plan-job")
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._processes: dict[int, multiprocessing.process.BaseProcess] = {}

    def submit(self, job_id: int) -> None:
        self._threads.submit(self._run, job_id)

    def _run(self, job_id: int) -> None:
        process = self._context.Process(target=run_job, args=(self.url, self.schema, job_id), name=f"plan-{job_id}")
        try:
            process.start()
            with self._lock:
                self._processes[job_id] = process
            process.join()
        except Exception as err:  # pragma: no cover - e.g. the OS refuses a new process
            log.exception("planning job %s could not run", job_id)
            mark_failed(
                self.engine, job_id, f"the planning process could not start: {err}", f"无法启动计划求解进程：{err}"
            )
            return
        finally:
            with self._lock:
                self._processes.pop(job_id, None)
            _end_group(process)
        if process.exitcode != 0:
            mark_failed(
                self.engine,
                job_id,
                f"the planning process ended unexpectedly (exit code {process.exitcode})",
                f"计划求解进程意外终止（退出码 {process.exitcode}）",
            )

    def shutdown(self) -> None:
        with self._lock:
            running = list(self._processes.items())
        for job_id, process in running:
            _end_group(process)
            process.join(5)
            mark_failed(self.engine, job_id, "the service stopped while the job was running", "计划求解期间服务已停止")
        self._threads.shutdown(wait=False, cancel_futures=True)


def _end_group(process: multiprocessing.process.BaseProcess) -> None:
    """Stop a job's process and the solver processes it forked: they share its process group (``run_job``
    makes one), and outlive it otherwise when it is killed."""
    if process.pid is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the whole group has ended already
        os.killpg(process.pid, signal.SIGTERM)


def _end_with_parent() -> None:
    """This worker dies with the service process that started it, and every solver process it forks with the
    worker (``api.services.lifeline``), so that no orphan goes on solving."""
    parent = os.getppid()
    die_with_parent()
    os.register_at_fork(after_in_child=die_with_parent)
    if os.getppid() != parent:  # the parent died before the call took effect
        os.killpg(0, signal.SIGKILL)


def mark_failed(engine: Engine, job_id: int, error: str, error_zh: str) -> None:
    """Fail a job that has not finished yet (a finished or published job is left alone)."""
    with session_scope(engine) as session:
        session.execute(
            update(m.PlanJob)
            .where(m.PlanJob.id == job_id, m.PlanJob.status.in_([m.JobStatus.queued, m.JobStatus.running]))  # type: ignore[attr-defined]
            .values(status=m.JobStatus.failed, error=error, error_zh=error_zh, finished_at=m.utcnow())
        )


def fail_unfinished_jobs(engine: Engine) -> int:
    """At start-up, jobs left queued or running by an earlier service process can never finish."""
    with session_scope(engine) as session:
        result = session.execute(
            update(m.PlanJob)
            .where(m.PlanJob.status.in_([m.JobStatus.queued, m.JobStatus.running]))  # type: ignore[attr-defined]
            .values(
                status=m.JobStatus.failed,
                error="the service restarted before the job finished",
                error_zh="计划完成前服务已重启，请重新生成计划",
                finished_at=m.utcnow(),
            )
        )
        return result.rowcount or 0


def run_job(url: str, schema: str | None, job_id: int) -> None:
    """Entry point of the worker process: build the day's (or the campaign's) problem, solve it, store the result.
    The process leads a process group of its own, so that the runner can stop it with the solver processes it
    forks."""
    os.setpgrp()
    _end_with_parent()
    from api.convert import JobResult, build_campaign, build_problem
    from scheduler.campaign import CampaignParams, plan_campaign
    from scheduler.messages import Message
    from scheduler.solve import SolveParams, solve

    logging.basicConfig(level=logging.WARNING)
    engine = make_engine(url, schema)
    try:
        with session_scope(engine) as session:
            job = session.get(m.PlanJob, job_id)
            if job is None or job.status != m.JobStatus.queued:
                return
            job.status = m.JobStatus.running
            job.started_at = m.utcnow()
            job.worker_pid = os.getpid()
            job.lease = lease = secrets.token_hex(16)
            job.message, job.message_zh = "loading registrations", "正在读取登记信息"
            day, end, open_from, time_limit = job.date, job.end_date, job.open_from, job.time_limit
        last = 0.0
        # Only this run, while the job is still running: a job failed meanwhile (the service restarted) stays
        # failed, whatever an orphaned run computes.
        owned = (m.PlanJob.id == job_id, m.PlanJob.status == m.JobStatus.running, m.PlanJob.lease == lease)

        def on_progress(share: float, message: Message) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last < PROGRESS_EVERY_S:
                return
            last = now
            with session_scope(engine) as s:
                s.execute(
                    update(m.PlanJob)
                    .where(*owned)
                    .values(
                        progress=round(min(max(share, 0.0), 0.99), 3),
                        message=message.en[:500],
                        message_zh=message.zh[:500],
                    )
                )

        if end is None:
            with Session(engine) as session:
                problem, versions, kept = build_problem(session, day)
                session.rollback()
            plan = solve(problem, SolveParams(time_limit_s=time_limit), on_progress=on_progress)
            result = JobResult.of(plan, problem, versions)
            done = Message("done", {"buses": plan.totals.buses, "on_buses": plan.totals.on_buses})
            fallback = len(plan.fallback)
        else:
            with Session(engine) as session:
                given = build_campaign(session, day, end)
                session.rollback()
            campaign = plan_campaign(
                given.scenario,
                given.start,
                end,
                CampaignParams(time_limit_s=time_limit),
                on_progress=on_progress,
                kept=given.kept,
                open_from=open_from,
            )
            result = JobResult.of_campaign(campaign, given.versions)
            kept = sum(len(p.buses) for p in given.kept)
            totals = campaign.to_dict()["totals"]
            done = Message("done", {"buses": totals["buses"], "on_buses": totals["on_buses"]})
            fallback = totals["travellers"] - totals["on_buses"]
        with session_scope(engine) as session:
            stored = session.execute(
                update(m.PlanJob)
                .where(*owned)
                .values(
                    status=m.JobStatus.done,
                    progress=1.0,
                    result=result.to_dict(),
                    kept_buses=kept,
                    finished_at=m.utcnow(),
                    message=f"{done.en}, {fallback} travellers on fallback",
                    message_zh=f"{done.zh}，其他方式{fallback}人",
                )
            )
            if not stored.rowcount:
                log.warning("planning job %s is no longer this run's: its result is dropped", job_id)
    except Exception as err:
        log.exception("planning job %s failed", job_id)
        detail = "".join(traceback.format_exception_only(type(err), err)).strip()
        mark_failed(engine, job_id, f"planning failed: {detail}", f"计划求解失败：{detail}")
    finally:
        engine.dispose()
