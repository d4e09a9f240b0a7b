"""/rules: the county's policy in force, public; the county admin or the dispatcher changes settings, and every
change is kept (GET /rules/history, from the audit log)."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter

from api import models as m
from api.convert import POLICY_KEY, missing_home_settings, policy_data, rules_to_data
from api.deps import RulesEditorDep, SessionDep
from api.errors import ApiError, bad_input
from api.routes.audit import audit_entries
from api.settings import beijing_minute
from scheduler.policy import InvalidPolicy, policy_from_dict

router = APIRouter(tags=["rules"])

# The settings of a season, which the dispatcher may change too (the rest, the county's home and its planning
# settings, are the county admin's), with what a person reads for each.
SEASON_RULES = {
    "charter_min_group": ("包车起组人数", "charter threshold (people)"),
    "reimburse_per_km": ("自行组织报销标准（元/人·公里）", "reimbursement (CNY per person-km)"),
    "scattered_max": ("零散人员上限（免费车票）", "scattered at most (free ticket)"),
    "subsidy_in_province": ("省内就业补贴（元）", "subsidy in province (CNY)"),
    "subsidy_out_of_province": ("省外就业补贴（元）", "subsidy out of province (CNY)"),
}


def _public(stored: dict[str, Any]) -> dict[str, Any]:
    rules = policy_from_dict(stored, source="county policy")
    data = rules.public_rules()
    # The home county as stored: none until the county's settings are loaded, whatever the defaults.
    data["county"], data["province"] = stored.get("county") or None, stored.get("province") or None
    data["missing_settings"] = missing_home_settings(stored)
    data["fallback"] = {
        "township_transport": "groups below charter_min_group: township transport, reimbursed against receipts "
        "up to reimburse_per_km per person and km",
        "free_ticket": "at most scattered_max people: a free ticket",
    }
    data["assembly_points"] = [dataclasses.asdict(p) for p in rules.assembly_points]
    return data


@router.get("/rules")
def get_rules(session: SessionDep) -> dict[str, Any]:
    """The published rules (thresholds, reimbursement and ticket rates, subsidies). No token needed.
    ``missing_settings`` names the home settings (county, province, depot_lat, depot_lon) not yet set: until
    they are, no day can be planned."""
    return _public(policy_data(session))


@router.patch("/rules")
def update_rules(body: dict[str, Any], session: SessionDep, caller: RulesEditorDep) -> dict[str, Any]:
    """Change settings named as in policy.toml; unknown names or bad values give 422. The dispatcher changes the
    season's settings (``SEASON_RULES``); the others are the county admin's (403)."""
    others = sorted(set(body) - set(SEASON_RULES))
    if caller.role == m.Role.dispatcher and others:
        raise ApiError(
            403,
            f"only the county admin changes {', '.join(others)}",
            f"{'、'.join(others)} 由县管理员修改，调度人员只能修改包车起组人数、报销标准、零散上限和补贴",
        )
    data = policy_data(session) | body
    try:
        m.refuse_control_characters(body, "rules")
        policy_from_dict(data, source="rules")
    except InvalidPolicy:
        raise
    except (TypeError, ValueError, AttributeError) as err:  # a value of a shape policy_from_dict does not expect
        # (or text with a control character)
        raise bad_input(f"rules: a setting has the wrong shape: {err}", f"县政策设置格式有误：{err}") from None
    row = session.get(m.PolicySetting, POLICY_KEY) or m.PolicySetting(key=POLICY_KEY, data={})
    row.data = rules_to_data(data)
    session.add(row)
    session.commit()
    return _public(data)


@router.get("/rules/history")
def rules_history(session: SessionDep, _caller: RulesEditorDep, limit: int = 100) -> list[dict[str, Any]]:
    """Every change of the rules, newest first: when (Beijing time), who, and each setting before and after."""
    changes = []
    for e in audit_entries(session, entity=m.PolicySetting.__tablename__, limit=max(1, min(limit, 1000))):
        before, after = e.before or {}, e.after or {}
        old, new = before.get("data") or {}, after.get("data") or {}
        changed = {k: {"before": old.get(k), "after": new.get(k)} for k in sorted(set(old) | set(new))
                   if old.get(k) != new.get(k)}  # fmt: skip
        changes.append({"at": beijing_minute(e.at), "actor": e.actor, "role": e.role, "changed": changed})
    return changes
