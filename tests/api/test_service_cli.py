"""The service's admin commands: tokens created, listed and revoked, accounts created, purge refused within
the retention period."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from api.cli import main
from api.settings import get_settings

DATA = Path(__file__).resolve().parents[1] / "data"


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


def _travellers_in(tmp_path: Path) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with engine.connect() as connection:
        count = connection.execute(text("select count(*) from travellers")).scalar()
    engine.dispose()
    return int(count or 0)


def test_load_puts_a_county_in_all_or_nothing_and_twice_changes_nothing(fanggang, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """fanggang load adds the scenario's places, fleet, settings and travellers; loading it again adds and
    changes nothing; a corrected township is updated; a file with bad rows exits 2 naming them and stores
    nothing."""
    import shutil

    code, out, _ = fanggang("load", str(DATA / "scenario_bad_rows"))
    assert code == 2
    assert _travellers_in(tmp_path) == 0
    code, out, err = fanggang("load", str(DATA / "scenario_small"))
    assert code == 0, err
    assert "3 townships, 3 factories, 2 fleet, 10 travellers" in out and "新增" in out
    assert _travellers_in(tmp_path) == 10
    code, out, _ = fanggang("load", str(DATA / "scenario_small"))
    assert code == 0 and "added: nothing; updated: nothing; 10 traveller(s) already registered" in out
    copy = tmp_path / "county"
    shutil.copytree(DATA / "scenario_small", copy)
    townships = (copy / "townships.csv").read_text(encoding="utf-8")
    (copy / "townships.csv").write_text(townships.replace("贡江镇", "贡江镇（新）"), encoding="utf-8")
    code, out, _ = fanggang("load", str(copy))
    assert code == 0 and "updated: 1 townships" in out


def test_load_reads_a_workbook_and_stores_the_home_settings_it_infers(fanggang, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An .xlsx workbook (one sheet per file) without home settings loads, and the county, province and depot
    inferred as fanggang plan infers them are stored and said."""
    import csv

    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name in ("townships", "factories", "travellers", "fleet"):
        sheet = book.create_sheet(name)
        with open(DATA / "scenario_xinhua" / f"{name}.csv", encoding="utf-8-sig") as f:
            for row in csv.reader(f):
                sheet.append(row)
    book.save(tmp_path / "county.xlsx")
    code, out, err = fanggang("load", str(tmp_path / "county.xlsx"))
    assert code == 0, err
    assert "assumed:" in out
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with engine.connect() as connection:
        stored = connection.execute(text("select data from policy")).scalar()
    engine.dispose()
    assert all(f'"{key}"' in stored for key in ("county", "province", "depot_lat", "depot_lon"))
