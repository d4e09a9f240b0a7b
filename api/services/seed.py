"""Loading a county's scenario (a folder or workbook; by default the fixture county) into the database."""

from __future__ import annotations

import json
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, inspect
from sqlmodel import SQLModel, select

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
from api.services import audit
from api.services.auth import Caller
from scheduler.messages import Message
from scheduler.policy import HOME_SETTINGS, policy_from_dict
from scheduler.scenario import POLICY_FILE, load_scenario

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
    report = load_county(engine, campaign, folder, overrides=policy, replace=False)
    return {kind: report.added[kind] for kind in KINDS}


KINDS = ("townships", "factories", "fleet", "travellers", "settings")


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What a load added and changed, per kind (``KINDS``), and what it assumed for unset home settings."""

    added: Counter[str]
    updated: Counter[str]
    already_registered: int
    assumptions: tuple[Message, ...]

    def summary(self) -> str:
        def counts(c: Counter[str]) -> str:
            return ", ".join(f"{c[k]} {k}" for k in KINDS if c[k]) or "nothing"

        lines = [
            f"added: {counts(self.added)}; updated: {counts(self.updated)}; "
            f"{self.already_registered} traveller(s) already registered kept as they are",
            f"新增：{_counts_zh(self.added)}；更新：{_counts_zh(self.updated)}；"
            f"已登记的 {self.already_registered} 名旅客保持不变",
        ]
        lines += [f"assumed: {a.en} / {a.zh}" for a in self.assumptions]
        return "\n".join(lines)


_KINDS_ZH = {"townships": "乡镇", "factories": "企业", "fleet": "车型", "travellers": "旅客", "settings": "项政策设置"}


def _counts_zh(c: Counter[str]) -> str:
    return "，".join(f"{c[k]} {_KINDS_ZH[k]}" for k in KINDS if c[k]) or "无"


def policy_file_of(path: Path, policy_path: Path | None) -> Path:
    """The policy.toml ``load_scenario`` reads for ``path`` (a folder, or the file next to a workbook)."""
    if policy_path is not None:
        return policy_path
    return path / POLICY_FILE if path.is_dir() else path.with_name(POLICY_FILE)


def load_county(
    engine: Engine,
    campaign: str,
    path: Path,
    policy_path: Path | None = None,
    overrides: dict[str, Any] | None = None,
    replace: bool = True,
    actor: Caller | str | None = None,
) -> LoadReport:
    """Put a scenario (the folder or .xlsx ``fanggang plan`` reads) into the database, all or nothing.

    Townships, factories and coach types are added, and with ``replace`` changed to the file's values; the
    policy file's settings are stored (with ``replace`` over stored ones, else only where unset), and home
    settings the file leaves unset are stored as ``load_scenario`` inferred them; travellers whose ID number is
    not yet registered in ``campaign`` are added, the others are left as their township keeps them. Loading
    the same files twice changes nothing. ``actor`` is who the audit log names (default: the command line).

    Raises:
        InvalidScenario: the files' problems, every row named as by ``fanggang plan`` (nothing is stored).
        InvalidPolicy: the stored settings and the file's together are not valid rules.
    """
    path = Path(path)
    scenario = load_scenario(path, policy_path)
    policy_file = policy_file_of(path, policy_path)
    data = tomllib.loads(policy_file.read_text(encoding="utf-8")) if policy_file.is_file() else {}
    data.update(overrides or {})
    inferred = {name: getattr(scenario.rules, name) for name in HOME_SETTINGS if data.get(name) in (None, "")}
    added, updated = Counter[str](), Counter[str]()
    with session_scope(engine) as session:
        session.info["caller" if isinstance(actor, Caller) else "actor"] = actor or f"load {path.name}"
        rows: list[tuple[str, SQLModel]] = [
            *(("townships", township_from_domain(t)) for t in scenario.townships),
            *(("factories", factory_from_domain(f)) for f in scenario.factories),
            *(("fleet", bus_type_from_domain(b)) for b in scenario.fleet),
        ]
        for kind, new in rows:
            key = inspect(new).mapper.primary_key_from_instance(new)
            old = session.get(type(new), key)
            if old is None:
                session.add(new)
                added[kind] += 1
            elif replace and old.model_dump() != new.model_dump():
                old.sqlmodel_update(new.model_dump())
                session.add(old)
                updated[kind] += 1
        row = session.get(m.PolicySetting, POLICY_KEY) or m.PolicySetting(key=POLICY_KEY, data={})
        stored = dict(row.data)
        # JSON's own types (TOML's are a superset).
        given = json.loads(json.dumps(data))
        changes = {k: v for k, v in given.items() if stored.get(k) != v and (replace or stored.get(k) in (None, ""))}
        changes |= {k: v for k, v in inferred.items() if stored.get(k) in (None, "") and v not in (None, "")}
        if changes:
            policy_from_dict(stored | changes, source="county policy")
            row.data = rules_to_data(stored | changes)
            session.add(row)
            added["settings"] = sum(1 for k in changes if stored.get(k) in (None, ""))
            updated["settings"] = len(changes) - added["settings"]
        session.flush()
        have = set(session.exec(select(m.Traveller.id_number).where(m.Traveller.campaign == campaign)).all())
        new_travellers = [traveller_values(t, campaign) for t in scenario.travellers if t.id_number not in have]
        for start in range(0, len(new_travellers), 5000):
            session.execute(insert(m.Traveller), new_travellers[start : start + 5000])
        added["travellers"] = len(new_travellers)
        if new_travellers:
            audit.record(session, "import", "travellers", path.name, after={"imported": len(new_travellers)})
    return LoadReport(added, updated, len(scenario.travellers) - len(new_travellers), scenario.assumptions)
