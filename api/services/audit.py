"""The audit log: who changed what, when, and the values before and after.

Every change the ORM flushes to an audited table is recorded by one session hook (``after_flush``), in the same
transaction as the change, so a change and its record are saved or lost together. The few changes made with
bulk statements (an import of thousands of rows, publishing a plan) call ``record`` once with a summary. Who is
``session.info["caller"]`` (set where the request is authenticated); without one the change is the service's
own ("system"), or the command line's when it says so.

Personal values never enter the log whole: ID numbers and phones are masked as on printed manifests, names keep
their first character and free-text notes only their length, so the log can be kept for as long as the county
wants and ``fanggang purge`` has nothing to erase in it.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlmodel import Session, SQLModel

from api import models as m
from api.privacy import mask_id_number, mask_name, mask_phone
from api.services.auth import Caller

AUDITED = {
    "travellers",
    "townships",
    "factories",
    "fleet",
    "policy",
    "plans",
    "buses",
    "receipts",
    "receipt_files",
    "subsidies",
    "tokens",
    "users",
}
# Columns that are bookkeeping, secrets or whole documents: a change to them alone is not recorded.
UNRECORDED = {
    "tokens": {"token_hash", "last_used_at"},
    "users": {"password_hash"},
    "plans": {"progress", "message", "message_zh", "result", "lease", "worker_pid", "error", "error_zh"},
    "buses": {"data"},
    "receipt_files": {"data"},
    "travellers": {"version", "updated_at"},
}


def _length_only(text: str) -> str:
    # Free text a clerk typed (why someone cancelled, a note on a receipt) may name people: only its length.
    return f"({len(text)} characters)" if text else ""


MASKED = {
    "id_number": mask_id_number,
    "phone": mask_phone,
    "name": mask_name,
    "escort_name": mask_name,
    "escort_phone": mask_phone,
    "cancel_reason": _length_only,
    "note": _length_only,
}
# Passwords are recorded as changed, never as values.
CHANGED_ONLY = {("users", "password_hash")}


def actor_of(session: Session) -> Caller | str:
    return session.info.get("caller") or session.info.get("actor") or "system"


def _plain(column: str, value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return MASKED[column](value) if column in MASKED and isinstance(value, str) else value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(column, v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(str(k), v) for k, v in value.items()}
    return str(value)


def _entry(actor: Caller | str, action: str, entity: str, entity_id: Any, before: Any, after: Any) -> dict[str, Any]:
    caller = actor if isinstance(actor, Caller) else None
    return {
        "at": m.utcnow(),
        "token_id": caller.token_id if caller else None,
        "actor": (caller.actor if caller else str(actor))[:200],
        "role": caller.role.value if caller else "",
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id)[:80],
        "before": before,
        "after": after,
    }


def record(
    session: Session,
    action: str,
    entity: str,
    entity_id: Any,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Record a change made without the ORM's unit of work (a bulk statement), in the session's transaction."""
    session.connection().execute(
        insert(m.AuditEntry),
        [_entry(actor_of(session), action, entity, entity_id, _plain("", before), _plain("", after))],
    )


def _key(obj: SQLModel) -> str:
    # The primary key as flushed (a new row's identity is only set once the flush is over).
    return "/".join(str(v) for v in inspect(obj).mapper.primary_key_from_instance(obj))


def _values(table: str, obj: SQLModel) -> dict[str, Any]:
    skip = UNRECORDED.get(table, set())
    state = inspect(obj)
    return {a.key: _plain(a.key, a.value) for a in state.attrs if a.key not in skip}


def _changes(table: str, obj: SQLModel) -> tuple[dict[str, Any], dict[str, Any]]:
    skip = UNRECORDED.get(table, set())
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for attr in inspect(obj).attrs:
        history = attr.history
        if not history.has_changes():
            continue
        if (table, attr.key) in CHANGED_ONLY:
            before[attr.key], after[attr.key] = "…", "(changed)"
            continue
        if attr.key in skip:
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old != new:
            before[attr.key], after[attr.key] = _plain(attr.key, old), _plain(attr.key, new)
    return before, after


def _table(obj: object) -> str | None:
    table = getattr(obj, "__tablename__", None)
    return table if isinstance(table, str) and table in AUDITED else None


def _record_flush(session: Session, _context: Any) -> None:
    actor = actor_of(session)
    entries = []
    for obj in session.new:
        if table := _table(obj):
            entries.append(_entry(actor, "create", table, _key(obj), None, _values(table, obj)))
    for obj in session.dirty:
        if (table := _table(obj)) and session.is_modified(obj, include_collections=False):
            before, after = _changes(table, obj)
            if after:
                entries.append(_entry(actor, "update", table, _key(obj), before, after))
    for obj in session.deleted:
        if table := _table(obj):
            entries.append(_entry(actor, "delete", table, _key(obj), _values(table, obj), None))
    if entries:
        session.connection().execute(insert(m.AuditEntry), entries)


event.listen(Session, "after_flush", _record_flush)
