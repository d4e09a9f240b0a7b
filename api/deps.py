"""FastAPI dependencies: the database session and the caller (bearer token -> role and scope)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlmodel import Session, select

from api.db import session_scope
from api.errors import ApiError
from api.models import Role, Token
from api.settings import Settings


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on any error."""
    with session_scope(engine) as session:
        yield session


def hash_token(token: str) -> str:
    # Tokens are 32 random bytes, so a plain sha256 cannot be reversed by guessing.
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Caller:
    role: Role
    scope: str | None
    token_id: int

    @property
    def is_dispatcher(self) -> bool:
        return self.role == Role.dispatcher


_UNAUTHORISED = ("a valid bearer token is required", "需要有效的访问令牌（Authorization: Bearer ...）")


def get_caller(request: Request, engine: Annotated[Engine, Depends(get_engine)]) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, *_UNAUTHORISED)
    with Session(engine) as session:
        row = session.exec(select(Token).where(Token.token_hash == hash_token(token.strip()))).first()
        if row is None or row.revoked or row.id is None:
            raise ApiError(401, *_UNAUTHORISED)
        return Caller(Role(row.role), row.scope, row.id)


def require_dispatcher(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
    if not caller.is_dispatcher:
        raise ApiError(403, "only the county dispatcher may do this", "只有县调度人员可以执行此操作")
    return caller


SessionDep = Annotated[Session, Depends(get_session)]
CallerDep = Annotated[Caller, Depends(get_caller)]
DispatcherDep = Annotated[Caller, Depends(require_dispatcher)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
