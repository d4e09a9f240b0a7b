"""FastAPI dependencies: the database session and the caller (bearer token -> role and scope), by role."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlmodel import Session

from api import models as m
from api.db import session_scope
from api.errors import ApiError
from api.services.auth import Caller, authenticate
from api.settings import Settings


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on any error."""
    with session_scope(engine) as session:
        yield session


_UNAUTHORISED = ("a valid bearer token is required", "需要有效的访问令牌（Authorization: Bearer ...）")


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def check_brake(request: Request) -> None:
    """429 while the client address has failed to authenticate too often in the last minute."""
    wait_s = request.app.state.auth_brake.retry_after_s(client_address(request))
    if wait_s:
        raise ApiError(
            429,
            f"too many failed sign-ins from this address; retry in {wait_s} s",
            f"登录失败次数过多，请 {wait_s} 秒后再试",
            headers={"Retry-After": str(wait_s)},
        )


def get_caller(request: Request, session: Annotated[Session, Depends(get_session)]) -> Caller:
    """The caller of the bearer token, also noted on the request's session for the audit log."""
    check_brake(request)
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    caller = authenticate(session, token) if scheme.lower() == "bearer" else None
    if caller is None:
        request.app.state.auth_brake.failed(client_address(request))
        raise ApiError(401, *_UNAUTHORISED)
    session.info["caller"] = caller
    return caller


_ROLE_ZH = {
    m.Role.admin: "县管理员",
    m.Role.dispatcher: "县调度人员",
    m.Role.township: "乡镇",
    m.Role.factory: "企业",
    m.Role.escort: "随车人员",
    m.Role.region: "市级（区域）只读用户",
}


def require_role(*roles: m.Role):  # type: ignore[no-untyped-def]
    """A dependency admitting only callers of ``roles`` (403 for the others)."""
    names = " or ".join(roles)
    names_zh = "或".join(_ROLE_ZH[r] for r in roles)

    def check(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
        if caller.role not in roles:
            raise ApiError(403, f"only the {names} may do this", f"只有{names_zh}可以执行此操作")
        return caller

    return check


SessionDep = Annotated[Session, Depends(get_session)]
# Anyone signed in (reference data and rules are read by every role).
AnyCallerDep = Annotated[Caller, Depends(get_caller)]
# The people who handle travellers: the county's administrator does not see them.
CallerDep = Annotated[Caller, Depends(require_role(m.Role.dispatcher, m.Role.township, m.Role.factory))]
DispatcherDep = Annotated[Caller, Depends(require_role(m.Role.dispatcher))]
TownshipOrDispatcherDep = Annotated[Caller, Depends(require_role(m.Role.dispatcher, m.Role.township))]
AdminDep = Annotated[Caller, Depends(require_role(m.Role.admin))]
TokenIssuerDep = Annotated[Caller, Depends(require_role(m.Role.admin, m.Role.dispatcher))]
RulesEditorDep = TokenIssuerDep  # the county office: its admin or its dispatcher
# The region's bureau: reads its counties (api.routes.region), writes nothing.
RegionDep = Annotated[Caller, Depends(require_role(m.Role.region))]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
