"""Sign-in for the pages: people with their user name and password (or an API token), remembered by a session.

The cookie holds a session token of its own (never an API token), HttpOnly, SameSite=Strict, scoped to /app and
Secure when the page is served over HTTPS, so another site cannot make the browser send it; the JSON actions of
the pages only accept JSON or multipart bodies from the same origin.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from api.deps import Caller, check_brake, get_session
from api.models import Role
from api.services.auth import authenticate

COOKIE = "fanggang_session"
LANG_COOKIE = "fanggang_lang"
LANDING = {
    Role.admin: "/app/admin",
    Role.dispatcher: "/app/dispatcher",
    Role.township: "/app/township",
    Role.factory: "/app/factory",
}


class NotSignedIn(Exception):
    """Raised by page dependencies; answered with a redirect to /app/login (or 401 JSON for /app/api)."""


class WrongRole(Exception):
    def __init__(self, caller: Caller) -> None:
        super().__init__(caller.role)
        self.caller = caller


def web_caller(request: Request, session: Annotated[Session, Depends(get_session)]) -> Caller:
    """The signed-in caller of the session cookie, also noted on the request's session for the audit log."""
    check_brake(request)
    caller = authenticate(session, request.cookies.get(COOKIE, ""))
    if caller is None:
        raise NotSignedIn()
    session.info["caller"] = caller
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
AdminPage = Annotated[Caller, Depends(role(Role.admin))]
