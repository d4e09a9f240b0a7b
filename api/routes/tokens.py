"""/tokens and /users: the county admin issues tokens and accounts; a dispatcher those of townships and factories."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api import models as m
from api.deps import AdminDep, SessionDep, SettingsDep, TokenIssuerDep
from api.services import accounts
from api.services.tokens import create_token, list_tokens, revoke_token, token_public

router = APIRouter(tags=["tokens"])


@router.post("/tokens", response_model=m.TokenPublic, status_code=201)
def issue_token(body: m.TokenCreate, session: SessionDep, settings: SettingsDep, caller: TokenIssuerDep) -> Any:
    """The token is shown once, in this answer; only its hash is stored. It works for ``days`` (default: the
    service's ``token_days``, 60)."""
    row, token = create_token(
        session, body.role, body.scope, body.label, body.days or settings.token_days, issuer=caller
    )
    session.commit()
    return token_public(row, token=token)


@router.get("/tokens", response_model=list[m.TokenPublic])
def get_tokens(session: SessionDep, caller: TokenIssuerDep) -> Any:
    """The tokens and sessions the caller manages (never the tokens themselves), with expiry and last use."""
    return list_tokens(session, caller)


@router.delete("/tokens/{token_id}", response_model=m.TokenPublic)
def delete_token(token_id: m.RowId, session: SessionDep, caller: TokenIssuerDep) -> Any:
    """Revoke a token: it stops working at once."""
    row = revoke_token(session, str(token_id), caller)
    session.commit()
    return token_public(row)


@router.post("/users", response_model=m.UserPublic, status_code=201)
def create_user(body: m.UserCreate, session: SessionDep, _caller: AdminDep) -> Any:
    """An account for a person, scoped like a token; the password is stored as an Argon2id hash."""
    user = accounts.create_user(session, body)
    session.commit()
    return user


@router.get("/users", response_model=list[m.UserPublic])
def get_users(session: SessionDep, _caller: AdminDep) -> Any:
    return accounts.list_users(session)


@router.patch("/users/{user_id}", response_model=m.UserPublic)
def update_user(user_id: m.RowId, body: m.UserUpdate, session: SessionDep, _caller: AdminDep) -> Any:
    """Rename, set a new password or disable an account; disabling or a new password ends its sessions."""
    user = accounts.update_user(session, user_id, body)
    session.commit()
    return user
