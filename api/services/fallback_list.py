"""A plan's fallback list (who does not ride a bus, how they travel, why) as rows.

The reason is data (``cause``, ``params``) rendered in both languages.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from api import models as m
from api.convert import in_ids
from api.web.i18n import MODES
from scheduler.plan import Plan


def fallback_rows(session: Session, plan: Plan) -> list[dict[str, Any]]:
    """The plan's fallback lines with each traveller's ref, name, township and factory, and the reason in both
    languages (``reason``, ``reason_zh``) beside its ``cause`` and ``params``."""
    ids = [int(f.traveller_id) for f in plan.fallback]
    people = {t.id or 0: t for t in session.exec(select(m.Traveller).where(in_ids(m.Traveller.id, ids))).all()}
    towns = dict(session.exec(select(m.Township.id, m.Township.name)).all())
    factories = dict(session.exec(select(m.Factory.id, m.Factory.name)).all())
    rows = []
    for f in plan.fallback:
        t = people.get(int(f.traveller_id))
        rows.append(
            {
                "traveller_id": int(f.traveller_id),
                "ref": t.ref if t else "",
                "name": t.name if t else "?",
                "township_id": t.township_id if t else "",
                "township": towns.get(t.township_id, "") if t else "",
                "factory_id": t.factory_id if t else "",
                "factory": factories.get(t.factory_id, "") if t else "",
                "mode": f.mode,
                "mode_zh": MODES.get(f.mode, (f.mode, f.mode))[0],
                "est_cost": f.est_cost,
                "cause": f.cause,
                "params": f.params,
                "reason": f.reason,
                "reason_zh": f.reason_zh,
            }
        )
    return rows
