"""/tokens: the dispatcher issues bearer tokens for townships, factories and other dispatchers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api import models as m
from api.deps import DispatcherDep, SessionDep
from api.services.tokens import create_token

router = APIRouter(tags=["tokens"])


@router.post("/tokens", response_model=m.TokenPublic, status_code=201)
def issue_token(body: m.TokenCreate, session: SessionDep, _caller: DispatcherDep) -> Any:
    """The token is shown once, in this answer; only its hash is stored."""
    row, token = create_token(session, body.role, body.scope, body.label)
    session.commit()
    return m.TokenPublic(
        id=row.id or 0, role=row.role, scope=row.scope, label=row.label, created_at=row.created_at, token=token
    )
