"""Run one campaign benchmark method in this (fresh) process and write its measurements as JSON.

    python -m benchmarks.campaign_run METHOD SCENARIO_DIR FROM TO TIME_LIMIT_S OUT.json

METHOD is ``day_by_day``, ``manual``, ``campaign`` or ``bound`` (``benchmarks.campaign``). Peak memory is that
of this process and its children (``benchmarks.county_run.PeakMemory``). Every plan's cost is re-counted from its
days and checked by the independent ``benchmarks.campaign_check.check_campaign``.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

from benchmarks.county_run import PeakMemory


def run(method: str, scenario_dir: Path, start: dt.date, end: dt.date, time_limit_s: float) -> dict:
    from benchmarks.campaign_check import check_campaign
    from benchmarks.campaign_methods import merged_day, run_manual
    from benchmarks.county_day import CountyDay
    from benchmarks.county_methods import lower_bound
    from scheduler.campaign import CampaignParams, plan_campaign
    from scheduler.scenario import load_scenario

    with PeakMemory() as memory:
        started = time.monotonic()
        scenario = load_scenario(scenario_dir)
        load_s = time.monotonic() - started
        if method == "bound":
            day = CountyDay(merged_day(scenario, start, end))
            result = lower_bound(day, time_limit_s)
            campaign = None
        elif method == "manual":
            campaign = run_manual(scenario, start, end)
        elif method in ("campaign", "day_by_day"):
            chosen = method == "campaign"
            params = CampaignParams(time_limit_s=time_limit_s, choose_dates=chosen, late_seating=chosen)
            campaign = plan_campaign(scenario, start, end, params)
        else:
            raise SystemExit(f"Unknown method {method!r}.")
        wall_s = time.monotonic() - started - load_s
    row: dict = {"method": method, "wall_s": round(wall_s, 2), "load_s": round(load_s, 2)}
    row["peak_mb"] = round(memory.peak_mb, 1)
    if campaign is None:
        # Charter and fallback only: the bound counts the subsidies every plan pays, which the plans' costs leave out.
        row["cost"] = round((result.bound_cny or 0.0) - sum(day.subsidies().values()), 2)
        row["notes"] = result.notes
        return row
    totals = campaign.to_dict()["totals"]
    row.update(
        cost=round(totals["total_cost"] - totals["subsidy_cost"], 2),
        charter_cost=totals["charter_cost"],
        fallback_cost=round(totals["reimbursement_cost"] + totals["ticket_cost"], 2),
        buses=totals["buses"],
        on_buses=totals["on_buses"],
        fallback=totals["travellers"] - totals["on_buses"],
        overdue=totals["overdue"],
        seat_fill=totals["seat_fill"],
        wait_person_days=totals["wait_person_days"],
        coaches_used=len(campaign.coaches()),
        violations=check_campaign(scenario, campaign),
        notes=", ".join(f"{k}={v}" for k, v in sorted(campaign.stats.items()) if k in ("date_moves", "bookings")),
    )
    return row


def main(argv: list[str] | None = None) -> int:
    method, scenario, start, end, limit, out = sys.argv[1:] if argv is None else argv
    row = run(method, Path(scenario), dt.date.fromisoformat(start), dt.date.fromisoformat(end), float(limit))
    Path(out).write_text(json.dumps(row, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
