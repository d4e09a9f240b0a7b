"""Issuing bearer tokens: 32 random bytes shown once, stored as their sha256."""

from __future__ import annotations

import secrets

from sqlmodel import Session

from api import models as m
from api.deps import hash_token
from api.errors import ApiError


def create_token(session: Session, role: m.Role, scope: str | None, label: str = "") -> tuple[m.Token, str]:
    """A new token for ``role``; townships and factories need the id of theirs as ``scope``.

    Raises:
        ApiError: 422 for a missing or unknown scope.
    """
    if role == m.Role.dispatcher:
        scope = None
    elif not scope:
        raise ApiError(422, f"a {role} token needs --scope with the {role} id", f"{role} 令牌需要指定 scope（编号）")
    elif role == m.Role.township and session.get(m.Township, scope) is None:
        raise ApiError(422, f"unknown township {scope}", f"乡镇编号 {scope} 不存在")
    elif role == m.Role.factory and session.get(m.Factory, scope) is None:
        raise ApiError(422, f"unknown factory {scope}", f"企业编号 {scope} 不存在")
    token = secrets.token_urlsafe(32)
    row = m.Token(token_hash=hash_token(token), role=role.value, scope=scope, label=label)
    session.add(row)
    session.flush()
    return row, token
