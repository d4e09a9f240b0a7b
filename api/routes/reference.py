"""/townships, /factories, /fleet: the county's reference data (the county admin writes, every token reads).

A row created or changed is checked by the same checks as the scenario files (``scheduler.validation``) before
it is stored, so that nothing the planner would refuse (a blank province, gate hours in the wrong order, an
infinite price) reaches the database: 422 naming the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter
from sqlmodel import SQLModel, select

from api import models as m
from api.deps import AdminDep, AnyCallerDep, SessionDep
from api.errors import conflict, not_found
from scheduler.validation import InvalidScenario, check_bus_type_row, check_factory_row, check_township_row

router = APIRouter(tags=["reference data"])


# A table's scenario file: its checker, the table's key, and the file's name for it (the API's name too).
Checker = Callable[..., tuple[Any, list[Any]]]
CHECKS: dict[type[SQLModel], tuple[Checker, str, str]] = {
    m.Township: (check_township_row, "id", "township_id"),
    m.Factory: (check_factory_row, "id", "factory_id"),
    m.BusType: (check_bus_type_row, "vehicle_type", "vehicle_type"),
}


def _check(table: type[SQLModel], values: Mapping[str, Any]) -> dict[str, Any]:
    """The row's values with its text as the checks leave it (NFC); 422 per field for a row the scenario
    files' checks would refuse."""
    checker, key, column = CHECKS[table]
    row = {(column if k == key else k): "" if v is None else str(v) for k, v in values.items()}
    checked, problems = checker(row, file=table.__tablename__)  # type: ignore[attr-defined]
    if problems:
        raise InvalidScenario(problems)
    text = {k: getattr(checked, k) for k in ("name", "city", "province") if k in values}
    return dict(values) | text


def _create(session: Any, table: type[SQLModel], body: SQLModel, what: tuple[str, str]) -> Any:
    _, key, column = CHECKS[table]
    values = body.model_dump()
    ident = values.pop(column)
    values = _check(table, {key: ident, **values})
    if session.get(table, ident) is not None:
        raise conflict(f"{what[0]} {ident} already exists", f"{what[1]} {ident} 已存在")
    row = table.model_validate(values)
    session.add(row)
    session.commit()
    return row


def _update(session: Any, table: type[SQLModel], ident: str, body: SQLModel, what: tuple[str, str]) -> Any:
    row = session.get(table, ident)
    if row is None:
        raise not_found(f"{what[0]} {ident}", f"{what[1]} {ident}")
    row.sqlmodel_update(_check(table, row.model_dump() | body.model_dump(exclude_unset=True)))
    session.add(row)
    session.commit()
    return row


def _get(session: Any, table: type[SQLModel], ident: str, what: tuple[str, str]) -> Any:
    row = session.get(table, ident)
    if row is None:
        raise not_found(f"{what[0]} {ident}", f"{what[1]} {ident}")
    return row


TOWNSHIP = ("township", "乡镇")
FACTORY = ("factory", "企业")
BUS_TYPE = ("coach type", "车型")


@router.get("/townships", response_model=list[m.TownshipPublic])
def list_townships(session: SessionDep, _caller: AnyCallerDep) -> Any:
    return session.exec(select(m.Township).order_by(m.Township.id)).all()


@router.get("/townships/{township_id}", response_model=m.TownshipPublic)
def get_township(township_id: str, session: SessionDep, _caller: AnyCallerDep) -> Any:
    return _get(session, m.Township, township_id, TOWNSHIP)


@router.post("/townships", response_model=m.TownshipPublic, status_code=201)
def create_township(body: m.TownshipCreate, session: SessionDep, _caller: AdminDep) -> Any:
    return _create(session, m.Township, body, TOWNSHIP)


@router.patch("/townships/{township_id}", response_model=m.TownshipPublic)
def update_township(township_id: str, body: m.TownshipUpdate, session: SessionDep, _caller: AdminDep) -> Any:
    return _update(session, m.Township, township_id, body, TOWNSHIP)


@router.get("/factories", response_model=list[m.FactoryPublic])
def list_factories(session: SessionDep, _caller: AnyCallerDep) -> Any:
    return session.exec(select(m.Factory).order_by(m.Factory.id)).all()


@router.get("/factories/{factory_id}", response_model=m.FactoryPublic)
def get_factory(factory_id: str, session: SessionDep, _caller: AnyCallerDep) -> Any:
    return _get(session, m.Factory, factory_id, FACTORY)


@router.post("/factories", response_model=m.FactoryPublic, status_code=201)
def create_factory(body: m.FactoryCreate, session: SessionDep, _caller: AdminDep) -> Any:
    return _create(session, m.Factory, body, FACTORY)


@router.patch("/factories/{factory_id}", response_model=m.FactoryPublic)
def update_factory(factory_id: str, body: m.FactoryUpdate, session: SessionDep, _caller: AdminDep) -> Any:
    return _update(session, m.Factory, factory_id, body, FACTORY)


@router.get("/fleet", response_model=list[m.BusTypePublic])
def list_fleet(session: SessionDep, _caller: AnyCallerDep) -> Any:
    return session.exec(select(m.BusType).order_by(m.BusType.vehicle_type)).all()


@router.post("/fleet", response_model=m.BusTypePublic, status_code=201)
def create_bus_type(body: m.BusTypeCreate, session: SessionDep, _caller: AdminDep) -> Any:
    return _create(session, m.BusType, body, BUS_TYPE)


@router.patch("/fleet/{vehicle_type}", response_model=m.BusTypePublic)
def update_bus_type(vehicle_type: str, body: m.BusTypeUpdate, session: SessionDep, _caller: AdminDep) -> Any:
    return _update(session, m.BusType, vehicle_type, body, BUS_TYPE)
