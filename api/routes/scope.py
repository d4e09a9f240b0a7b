"""Who sees which travellers: a township its own, a factory those bound for it, an escort its bus's riders, the
dispatcher all; the region, reading a county's database, all of that county's (in figures only), and none of its
own deployment's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import false
from sqlmodel import Session

from api import models as m
from api.deps import Caller
from api.errors import not_found


def traveller_filters(caller: Caller) -> list[Any]:
    if caller.role == m.Role.region:
        return [] if caller.scope is not None else [false()]
    if caller.role == m.Role.escort:
        return [m.Traveller.bus_id == caller.scope]
    if caller.role == m.Role.township:
        return [m.Traveller.township_id == caller.scope]
    if caller.role == m.Role.factory:
        return [m.Traveller.factory_id == caller.scope]
    return []


def in_scope(caller: Caller, traveller: m.Traveller) -> bool:
    if caller.role == m.Role.region:
        return caller.scope is not None
    if caller.role == m.Role.escort:
        return traveller.bus_id == caller.scope
    if caller.role == m.Role.township:
        return traveller.township_id == caller.scope
    if caller.role == m.Role.factory:
        return traveller.factory_id == caller.scope
    return True


def get_traveller(session: Session, caller: Caller, traveller_id: int, lock: bool = False) -> m.Traveller:
    """The traveller, or 404 whether it does not exist or is out of the caller's scope (no leaking)."""
    from sqlmodel import select

    query = select(m.Traveller).where(m.Traveller.id == traveller_id)
    if lock:
        query = query.with_for_update()
    row = session.exec(query).first()
    if row is None or not in_scope(caller, row):
        raise not_found(f"traveller {traveller_id}", f"旅客 {traveller_id}")
    return row
