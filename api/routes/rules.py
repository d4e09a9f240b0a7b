"""/rules: the county's policy in force, public; the dispatcher replaces settings."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter

from api import models as m
from api.convert import POLICY_KEY, load_rules, policy_data, rules_to_data
from api.deps import DispatcherDep, SessionDep
from scheduler.policy import policy_from_dict

router = APIRouter(tags=["rules"])


def _public(rules: Any) -> dict[str, Any]:
    data = rules.public_rules()
    data["fallback"] = {
        "township_transport": "groups below charter_min_group: township transport, reimbursed against receipts "
        "up to reimburse_per_km per person and km",
        "free_ticket": "at most scattered_max people: a free ticket",
    }
    data["assembly_points"] = [dataclasses.asdict(p) for p in rules.assembly_points]
    return data


@router.get("/rules")
def get_rules(session: SessionDep) -> dict[str, Any]:
    """The published rules (thresholds, reimbursement and ticket rates, subsidies). No token needed."""
    return _public(load_rules(session))


@router.patch("/rules")
def update_rules(body: dict[str, Any], session: SessionDep, _caller: DispatcherDep) -> dict[str, Any]:
    """Change settings named as in policy.toml; unknown names or bad values give 422."""
    data = policy_data(session) | body
    rules = policy_from_dict(data, source="rules")
    row = session.get(m.PolicySetting, POLICY_KEY) or m.PolicySetting(key=POLICY_KEY, data={})
    row.data = rules_to_data(data)
    session.add(row)
    session.commit()
    return _public(rules)
