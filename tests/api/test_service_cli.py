"""The service's admin commands: tokens created, listed and revoked, accounts created, purge refused within
the retention period."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from api.cli import main
from api.settings import get_settings


@pytest.fixture
def fanggang(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """``fanggang(*args, stdin="")`` runs the command on a fresh SQLite file: (exit code, stdout, stderr)."""
    monkeypatch.setenv("FANGGANG_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("FANGGANG_TODAY", "2026-12-01")
    get_settings.cache_clear()

    def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    yield run
    get_settings.cache_clear()


def test_tokens_are_created_listed_and_revoked_by_token_or_id(fanggang) -> None:  # type: ignore[no-untyped-def]
    """token create prints the token once; list shows role, label, expiry and state but never the token; revoke
    takes the token itself or its id; a township token without its scope exits 2 with the reason."""
    code, admin_token, _ = fanggang("token", "create", "--role", "admin", "--label", "县管理员")
    admin_token = admin_token.strip()
    assert code == 0 and len(admin_token) >= 40
    assert fanggang("token", "create", "--role", "dispatcher", "--days", "3")[0] == 0
    code, listed, _ = fanggang("token", "list")
    assert code == 0 and "县管理员" in listed and admin_token not in listed
    rows = [line.split("\t") for line in listed.strip().splitlines()[1:]]
    assert {r[2] for r in rows} == {"admin", "dispatcher"} and {r[-1] for r in rows} == {"active"}
    assert fanggang("token", "revoke", admin_token)[0] == 0
    dispatcher_id = next(r[0] for r in rows if r[2] == "dispatcher")
    assert fanggang("token", "revoke", dispatcher_id)[0] == 0
    rows = [line.split("\t") for line in fanggang("token", "list")[1].strip().splitlines()[1:]]
    assert {r[-1] for r in rows} == {"revoked"}
    code, _, err = fanggang("token", "create", "--role", "township")
    assert code == 2 and "scope" in err
    assert fanggang("token", "revoke", "no-such-token")[0] == 2


def test_accounts_are_created_with_a_password_from_standard_input(fanggang) -> None:  # type: ignore[no-untyped-def]
    """user create reads the password from standard input; a short one or a taken name exits 2."""
    account = ("user", "create", "--username", "wang.disp", "--role", "dispatcher")
    code, out, _ = fanggang(*account, stdin="long enough pw\n")
    assert code == 0 and "wang.disp" in out
    code, _, err = fanggang(*account, stdin="another pw\n")
    assert code == 2 and "taken" in err
    code, _, err = fanggang("user", "create", "--username", "li", "--role", "dispatcher", stdin="short\n")
    assert code == 2 and "password" in err


def test_purge_is_refused_within_the_retention_period(fanggang) -> None:  # type: ignore[no-untyped-def]
    """purge --before a date inside the retention period exits 2 naming the last date allowed; before it, 0."""
    code, _, err = fanggang("purge", "--campaign", "2026", "--before", "2026-11-01")
    assert code == 2 and "2026-06-04" in err
    code, out, _ = fanggang("purge", "--campaign", "2026", "--before", "2026-06-01")
    assert code == 0 and "0 traveller(s)" in out
