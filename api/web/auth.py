"""Sign-in for the pages: people with their user name and password (or an API token), remembered by a session.

The cookie holds a session token of its own (never an API token), HttpOnly, SameSite=Strict, scoped to /app and
Secure when the page is served over HTTPS, so another site cannot make the browser send it; the JSON actions of
the pages only accept JSON or multipart bodies from the same origin.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from api.deps import Caller, check_brake, client_address, get_session
from api.models import Role
from api.services.auth import authenticate
from api.settings import Settings

COOKIE = "fanggang_session"
LANG_COOKIE = "fanggang_lang"
LANDING = {
    Role.admin: "/app/admin",
    Role.dispatcher: "/app/dispatcher",
    Role.township: "/app/township",
    Role.factory: "/app/factory",
    Role.region: "/app/region",
}


def landing(caller: Caller) -> str:
    """Where a signed-in person starts: their role's page; an escort, its bus."""
    if caller.role == Role.escort:
        return f"/app/buses/{caller.scope}/driver"
    return LANDING[caller.role]


def open_session(
    request: Request, session: Session, settings: Settings, opened: tuple[Caller, str] | None, next: str = ""
) -> Response:
    """The answer to a sign-in: the session cookie and the page to go to, or back to the form (the failure
    counted by the brake)."""
    if opened is None:
        request.app.state.auth_brake.failed(client_address(request))
        return RedirectResponse("/app/login?error=1", status_code=303)
    caller, session_token = opened
    target = next if next.startswith("/app/") and not next.startswith("/app/login") else landing(caller)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        session_token,
        max_age=settings.session_days * 24 * 3600,
        httponly=True,
        samesite="strict",
        path="/app",
        secure=request.url.scheme == "https",
    )
    return response


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
# The county's figures: everyone who works for the campaign, not an escort's one-bus link.
CountyPage = Annotated[Caller, Depends(role(Role.admin, Role.dispatcher, Role.township, Role.factory))]
DispatcherPage = Annotated[Caller, Depends(role(Role.dispatcher))]
TownshipPage = Annotated[Caller, Depends(role(Role.township))]
FactoryPage = Annotated[Caller, Depends(role(Role.factory))]
AdminPage = Annotated[Caller, Depends(role(Role.admin))]
# The region's bureau: its overview of the counties, nothing else.
RegionPage = Annotated[Caller, Depends(role(Role.region))]
TokenIssuerPage = Annotated[Caller, Depends(role(Role.admin, Role.dispatcher))]
# Who ticks riders off on the bus's own page: the escort, or the township's clerk.
EscortPage = Annotated[Caller, Depends(role(Role.escort, Role.township))]
