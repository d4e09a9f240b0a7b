"""Issuing, listing and revoking tokens (machines' API tokens and people's sessions alike)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from api import models as m
from api.errors import ApiError, not_found
from api.services.auth import Caller, hash_token, new_token

# Roles without a scope, whose tokens and accounts only the admin issues: the county's office, and on a region's
# deployment the region's readers.
COUNTY_WIDE = (m.Role.admin, m.Role.dispatcher, m.Role.region)


def check_scope(session: Session, role: m.Role, scope: str | None) -> str | None:
    """The scope a token or account of ``role`` gets: none county-wide, an existing township or factory else.

    Raises:
        ApiError: 422 for a missing or unknown scope.
    """
    if role in COUNTY_WIDE:
        return None
    if not scope:
        raise ApiError(422, f"a {role} token needs --scope with the {role} id", f"{role} 令牌需要指定 scope（编号）")
    if role == m.Role.township and session.get(m.Township, scope) is None:
        raise ApiError(422, f"unknown township {scope}", f"乡镇编号 {scope} 不存在")
    if role == m.Role.factory and session.get(m.Factory, scope) is None:
        raise ApiError(422, f"unknown factory {scope}", f"企业编号 {scope} 不存在")
    if role == m.Role.escort:
        bus = session.get(m.Bus, scope)
        if bus is None or bus.status != "published":
            raise ApiError(422, f"unknown or released bus {scope}", f"车辆 {scope} 不存在或已取消")
    return scope


def may_manage(issuer: Caller | None, role: m.Role | str) -> bool:
    """The county admin (and the command line, ``issuer`` None) manages every role; a dispatcher townships',
    factories' and escorts' only."""
    return issuer is None or issuer.role == m.Role.admin or m.Role(role) not in COUNTY_WIDE


def create_token(
    session: Session,
    role: m.Role,
    scope: str | None,
    label: str = "",
    days: int = 60,
    issuer: Caller | None = None,
) -> tuple[m.Token, str]:
    """A new API token for ``role``, working for ``days``; townships and factories need theirs as ``scope``.

    Raises:
        ApiError: 403 when ``issuer`` may not mint ``role``; 422 for a missing or unknown scope.
    """
    if not may_manage(issuer, role):
        raise ApiError(
            403, "a dispatcher issues township and factory tokens only", "县调度人员只能签发乡镇和企业的令牌"
        )
    scope = check_scope(session, role, scope)
    token, token_hash = new_token()
    row = m.Token(
        token_hash=token_hash,
        role=role.value,
        scope=scope,
        label=label,
        expires_at=m.utcnow() + dt.timedelta(days=days),
    )
    session.add(row)
    session.flush()
    return row, token


def token_public(row: m.Token, user: m.User | None = None, token: str | None = None) -> m.TokenPublic:
    return m.TokenPublic(
        id=row.id or 0,
        role=row.role,
        scope=row.scope,
        label=row.label,
        created_at=row.created_at,
        kind=row.kind,
        user=user.username if user else None,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked=row.revoked,
        token=token,
    )


def list_tokens(session: Session, viewer: Caller | None = None) -> list[m.TokenPublic]:
    """Every token ``viewer`` manages, newest first, with its person for sessions."""
    rows = session.exec(select(m.Token).order_by(col(m.Token.id).desc())).all()
    users = {u.id: u for u in session.exec(select(m.User)).all()}
    return [
        token_public(row, users.get(row.user_id) if row.user_id else None)
        for row in rows
        if may_manage(viewer, row.role)
    ]


def revoke_token(session: Session, id_or_token: str, revoker: Caller | None = None) -> m.Token:
    """Revoke a token by its id (as listed) or by the token itself.

    Raises:
        ApiError: 404 for an unknown token or one ``revoker`` does not manage.
    """
    row = None
    if id_or_token.isdigit() and len(id_or_token) <= 10:
        row = session.get(m.Token, int(id_or_token))
    if row is None:
        row = session.exec(select(m.Token).where(m.Token.token_hash == hash_token(id_or_token.strip()))).first()
    if row is None or not may_manage(revoker, row.role):
        raise not_found(f"token {id_or_token[:12]}", f"令牌 {id_or_token[:12]}")
    row.revoked = True
    session.add(row)
    session.flush()
    return row
