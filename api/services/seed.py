"""Loading a scenario folder (by default the fixture county) into the database, idempotently."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert
from sqlmodel import select

from api import models as m
from api.convert import (
    POLICY_KEY,
    bus_type_from_domain,
    factory_from_domain,
    rules_to_data,
    township_from_domain,
    traveller_values,
)
from api.db import session_scope
from scheduler.policy import policy_from_dict
from scheduler.scenario import load_scenario

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "yudu"


def seed(engine: Engine, campaign: str, folder: Path = FIXTURE, policy: dict[str, Any] | None = None) -> dict[str, int]:
    """Add the scenario's townships, factories, fleet, policy settings and travellers that are not there yet.

    Existing rows and settings are left as they are, so running it twice changes nothing. ``policy`` overrides
    settings of the folder's policy.toml. Every setting the file names is stored explicitly, so the fixture
    county's home settings (county, province, depot) are in the database, whatever PolicyRules' defaults are.

    Raises:
        InvalidScenario: the folder's files have problems.
        InvalidPolicy: the stored settings and the file's together are not valid rules.
    """
    scenario = load_scenario(folder)
    policy_file = folder / "policy.toml"
    data = tomllib.loads(policy_file.read_text(encoding="utf-8")) if policy_file.is_file() else {}
    data.update(policy or {})
    counts = {"townships": 0, "factories": 0, "fleet": 0, "travellers": 0, "settings": 0}
    with session_scope(engine) as session:
        have = set(session.exec(select(m.Township.id)).all())
        for t in scenario.townships:
            if t.township_id not in have:
                session.add(township_from_domain(t))
                counts["townships"] += 1
        have = set(session.exec(select(m.Factory.id)).all())
        for f in scenario.factories:
            if f.factory_id not in have:
                session.add(factory_from_domain(f))
                counts["factories"] += 1
        have = set(session.exec(select(m.BusType.vehicle_type)).all())
        for b in scenario.fleet:
            if b.vehicle_type not in have:
                session.add(bus_type_from_domain(b))
                counts["fleet"] += 1
        row = session.get(m.PolicySetting, POLICY_KEY) or m.PolicySetting(key=POLICY_KEY, data={})
        stored = dict(row.data)
        # JSON's own types (TOML's are a superset).
        new = {k: v for k, v in json.loads(json.dumps(data)).items() if stored.get(k) in (None, "")}
        if new:
            policy_from_dict(stored | new, source="county policy")
            row.data = rules_to_data(stored | new)
            session.add(row)
            counts["settings"] = len(new)
        session.flush()
        have = set(session.exec(select(m.Traveller.id_number).where(m.Traveller.campaign == campaign)).all())
        new = [traveller_values(t, campaign) for t in scenario.travellers if t.id_number not in have]
        for start in range(0, len(new), 5000):
            session.execute(insert(m.Traveller), new[start : start + 5000])
        counts["travellers"] = len(new)
    return counts
