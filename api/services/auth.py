"""Who is calling: tokens and sessions checked at one place, passwords, and the brake on guessing.

A bearer token (a machine) and a signed-in browser (a person) are both rows of ``tokens``: 32 random bytes
shown once and stored as their sha256, with an expiry, the time they were last used, and for a session the
person it belongs to. ``authenticate`` is the only function that turns one into a ``Caller``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, replace

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from api import models as m

# Last-used times are written at most this often per token, so that reading does not become writing.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Caller:
    """The role and scope of a request, and who it is for the audit log (a token's label or a user name)."""

    role: m.Role
    scope: str | None
    token_id: int
    actor: str = ""
    user_id: int | None = None

    @property
    def is_dispatcher(self) -> bool:
        return self.role == m.Role.dispatcher

    @property
    def sees_whole_county(self) -> bool:
        """The county's figures whole: its dispatcher, or the region reading that county (``in_county``)."""
        return self.is_dispatcher or (self.role == m.Role.region and self.scope is not None)

    def in_county(self, county: str) -> Caller:
        """A region caller as it reads ``county``'s database: scoped to that county, still read-only and shown
        no traveller's personal data (api.privacy)."""
        if self.role != m.Role.region:
            raise ValueError(f"only a region caller reads a county, not a {self.role}")
        return replace(self, scope=county)


def hash_token(token: str) -> str:
    # Tokens are 32 random bytes, so a plain sha256 cannot be reversed by guessing.
    return hashlib.sha256(token.encode()).hexdigest()


TOKEN_PREFIX = "fg_"


def new_token() -> tuple[str, str]:
    """A fresh token and its hash. The prefix makes a leaked token recognisable (secret scanners) and keeps it from
    starting with "-", which a command line would take for an option."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hash_token(token)


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite gives back naive datetimes; everything the service stores is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _works(row: m.Token, now: dt.datetime) -> bool:
    return not row.revoked and (row.expires_at is None or _aware(row.expires_at) > now)


def authenticate(session: Session, token: str, now: dt.datetime | None = None) -> Caller | None:
    """The caller a token stands for, or None when it is unknown, revoked, expired or its person is disabled.

    Records the token's last use (at most once a minute), and ends the session's transaction either way: on
    SQLite a transaction holds the writers' lock, which a request should take only for its own work."""
    caller = _look_up(session, token, now)
    session.commit()
    return caller


def _look_up(session: Session, token: str, now: dt.datetime | None) -> Caller | None:
    token = token.strip()
    if not token or len(token) > 200:
        return None
    now = now or m.utcnow()
    row = session.exec(select(m.Token).where(m.Token.token_hash == hash_token(token))).first()
    if row is None or row.id is None or not _works(row, now):
        return None
    parent = session.get(m.Token, row.parent_id) if row.parent_id is not None else None
    if row.parent_id is not None and (parent is None or not _works(parent, now)):
        return None
    actor = (parent or row).label or f"token {(parent or row).id}"
    if row.user_id is not None:
        user = session.get(m.User, row.user_id)
        if user is None or user.disabled:
            return None
        actor = user.username
    if row.last_used_at is None or now - _aware(row.last_used_at) >= LAST_USED_RESOLUTION:
        row.last_used_at = now
        session.add(row)
    return Caller(m.Role(row.role), row.scope, row.id, actor, row.user_id)


# Argon2id with the library's defaults (RFC 9106's low-memory profile): 64 MiB, 3 passes.
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Compared against when the user name is unknown, so that the answer takes as long as for a wrong password.
_NOBODY = _hasher.hash(secrets.token_hex(16))


def _open_session(session: Session, row: m.Token) -> str:
    token, row.token_hash = new_token()
    row.kind = m.TokenKind.session.value
    session.add(row)
    session.flush()
    return token


def sign_in(session: Session, username: str, password: str, days: int) -> tuple[Caller, str] | None:
    """A new session for the person, or None for an unknown name, a wrong password or a disabled account."""
    user = session.exec(select(m.User).where(m.User.username == username.strip()[:60])).first()
    if user is None or user.disabled:
        password_matches(_NOBODY, password)
        return None
    if not password_matches(user.password_hash, password):
        return None
    expires = m.utcnow() + dt.timedelta(days=days)
    row = m.Token(
        token_hash="", role=user.role, scope=user.scope, label=user.username, user_id=user.id, expires_at=expires
    )
    token = _open_session(session, row)
    return Caller(m.Role(user.role), user.scope, row.id or 0, user.username, user.id), token


def sign_in_with_token(session: Session, api_token: str, days: int) -> tuple[Caller, str] | None:
    """A browser session opened with an API token, so that the cookie never holds the token itself; it ends
    when the token is revoked or expires."""
    caller = authenticate(session, api_token)
    if caller is None:
        return None
    parent = session.get(m.Token, caller.token_id)
    expires = m.utcnow() + dt.timedelta(days=days)
    if parent is not None and parent.expires_at is not None:
        expires = min(expires, _aware(parent.expires_at))
    row = m.Token(
        token_hash="",
        role=caller.role.value,
        scope=caller.scope,
        label=f"browser of token {caller.token_id}",
        parent_id=parent.parent_id or parent.id if parent else None,
        user_id=caller.user_id,
        expires_at=expires,
    )
    token = _open_session(session, row)
    return Caller(caller.role, caller.scope, row.id or 0, caller.actor, caller.user_id), token


class FailedAuthBrake:
    """At most ``limit`` failed authentications per client address in any minute; more are answered 429.

    Kept in the process's memory (a sliding window of failure times per address): one service process
    serves a county. No library here brakes on *failures* only (slowapi and limits count every request).
    """

    WINDOW_S = 60.0

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(address, deque())
        while failures and failures[0] <= now - self.WINDOW_S:
            failures.popleft()
        return failures

    def retry_after_s(self, address: str) -> int:
        """0 when the address may try again, else the seconds until it may."""
        now = time.monotonic()
        with self._lock:
            failures = self._recent(address, now)
            if len(failures) < self.limit:
                if not failures:
                    self._failures.pop(address, None)
                return 0
            return max(1, int(failures[0] + self.WINDOW_S - now + 1))

    def failed(self, address: str) -> None:
        with self._lock:
            self._recent(address, time.monotonic()).append(time.monotonic())
