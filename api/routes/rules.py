"""/rules: the county's policy in force, public; the county admin replaces settings."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter

from api import models as m
from api.convert import POLICY_KEY, missing_home_settings, policy_data, rules_to_data
from api.deps import AdminDep, SessionDep
from api.errors import bad_input
from scheduler.policy import InvalidPolicy, policy_from_dict

router = APIRouter(tags=["rules"])


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
def update_rules(body: dict[str, Any], session: SessionDep, _caller: AdminDep) -> dict[str, Any]:
    """Change settings named as in policy.toml; unknown names or bad values give 422."""
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
