"""People's accounts: created by the county admin, scoped like tokens, passwords hashed with Argon2id."""

from __future__ import annotations

from sqlmodel import Session, col, select

from api import models as m
from api.errors import conflict, not_found
from api.services.auth import hash_password
from api.services.tokens import check_scope


def create_user(session: Session, body: m.UserCreate) -> m.User:
    """Raises: ApiError 409 for a user name taken, 422 for a missing or unknown scope."""
    if session.exec(select(m.User).where(m.User.username == body.username)).first() is not None:
        raise conflict(f"user name {body.username} is taken", f"用户名 {body.username} 已被使用")
    user = m.User(
        username=body.username,
        display_name=body.display_name,
        password_hash=hash_password(body.password),
        role=body.role.value,
        scope=check_scope(session, body.role, body.scope),
    )
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[m.User]:
    return list(session.exec(select(m.User).order_by(col(m.User.username))).all())


def update_user(session: Session, user_id: int, body: m.UserUpdate) -> m.User:
    """Raises: ApiError 404 for an unknown user."""
    user = session.get(m.User, user_id)
    if user is None:
        raise not_found(f"user {user_id}", f"用户 {user_id}")
    if body.display_name is not None:
        user.display_name = body.display_name
    if body.disabled is not None:
        user.disabled = body.disabled
    if body.password is not None:
        user.password_hash = hash_password(body.password)
    if body.password is not None or body.disabled:
        for token in session.exec(select(m.Token).where(m.Token.user_id == user_id, m.Token.revoked == False)):  # noqa: E712
            token.revoked = True
            session.add(token)
    session.add(user)
    session.flush()
    return user
