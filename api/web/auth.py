"""Sign-in for the pages: the service's bearer token, kept in an HttpOnly cookie.

The cookie is SameSite=Strict and scoped to /app, so another site cannot make the browser send it;
the JSON actions of the pages only accept JSON or multipart bodies from the same origin.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlmodel import Session, select

from api.deps import Caller, get_engine, hash_token
from api.models import Role, Token

COOKIE = "fanggang_token"
LANG_COOKIE = "fanggang_lang"
LANDING = {Role.dispatcher: "/app/dispatcher", Role.township: "/app/township", Role.factory: "/app/factory"}


class NotSignedIn(Exception):
    """Raised by page dependencies; answered with a redirect to /app/login (or 401 JSON for /app/api)."""


class WrongRole(Exception):
    def __init__(self, caller: Caller) -> None:
        super().__init__(caller.role)
        self.caller = caller


def caller_for_token(engine: Engine, token: str) -> Caller | None:
    if not token.strip():
        return None
    with Session(engine) as session:
        row = session.exec(select(Token).where(Token.token_hash == hash_token(token.strip()))).first()
    if row is None or row.revoked or row.id is None:
        return None
    return Caller(Role(row.role), row.scope, row.id)


def web_caller(request: Request, engine: Annotated[Engine, Depends(get_engine)]) -> Caller:
    caller = caller_for_token(engine, request.cookies.get(COOKIE, ""))
    if caller is None:
        raise NotSignedIn()
    return caller


def role(*roles: Role):  # type: ignore[no-untyped-def]
    """A dependency admitting only ``roles`` (others are sent to their own page)."""

    def check(caller: Annotated[Caller, Depends(web_caller)]) -> Caller:
        if caller.role not in roles:
            raise WrongRole(caller)
        return caller

    return check


WebCallerDep = Annotated[Caller, Depends(web_caller)]
DispatcherPage = Annotated[Caller, Depends(role(Role.dispatcher))]
TownshipPage = Annotated[Caller, Depends(role(Role.township))]
FactoryPage = Annotated[Caller, Depends(role(Role.factory))]
