"""The ``fanggang`` command: the planning commands of ``scheduler.cli`` (``demo``, ``plan``, ``campaign``) and the
service's (``serve``, ``seed``, ``load``, ``db upgrade``, ``token create|list|revoke``, ``user create``, ``purge``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from api.db import ensure_schema, make_engine, session_scope, upgrade
from api.errors import ApiError
from api.models import Role
from api.settings import beijing_minute, get_settings
from scheduler.cli import PLANNING_COMMANDS, add_planning_commands, run_planning_command
from scheduler.policy import InvalidPolicy
from scheduler.validation import InvalidScenario

EXIT_BAD_INPUT = 2
SCOPE_HELP = "township or factory id, an escort's bus (not for admins, dispatchers and region readers)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fanggang", description="返岗 point-to-point bus planning for a county.")
    commands = parser.add_subparsers(dest="command", required=True)
    add_planning_commands(commands)
    add_service_commands(commands)
    args = parser.parse_args(argv)
    if args.command in PLANNING_COMMANDS:
        return run_planning_command(args)
    return run_service_command(args)


def add_service_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = commands.add_parser("serve", help="run the HTTP service (SQLite file by default)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--seed", action="store_true", help="load the fixture county first")
    commands.add_parser("seed", help="load the fixture county into the database (idempotent)")
    load = commands.add_parser(
        "load", help="put a county's scenario (the folder or .xlsx `fanggang plan` reads) into the database"
    )
    load.add_argument("scenario", type=Path, help="a folder of CSV files with policy.toml, or an .xlsx workbook")
    load.add_argument("--policy", type=Path, default=None, help="a policy.toml instead of the one beside the data")
    db = commands.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"], help="apply the migrations")
    token = commands.add_parser("token", help="issue, list and revoke bearer tokens")
    token_actions = token.add_subparsers(dest="action", required=True)
    create = token_actions.add_parser("create", help="issue a token (printed once)")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--scope", default=None, help=SCOPE_HELP)
    create.add_argument("--label", default="", help="who holds it, shown in the audit log")
    create.add_argument("--days", type=int, default=None, help="days it works (default: token_days, 60)")
    token_actions.add_parser("list", help="every token and session: id, role, scope, label, expiry, last use")
    revoke = token_actions.add_parser("revoke", help="stop a token at once")
    revoke.add_argument("id_or_token", help="the id from `fanggang token list`, or the token itself")
    user = commands.add_parser("user", help="people's accounts for the pages")
    user_actions = user.add_subparsers(dest="action", required=True)
    user_create = user_actions.add_parser("create", help="an account (the password is read from standard input)")
    user_create.add_argument("--username", required=True)
    user_create.add_argument("--role", required=True, choices=[r.value for r in Role])
    user_create.add_argument("--scope", default=None, help=SCOPE_HELP)
    user_create.add_argument("--name", default="", help="the person's name as shown in the pages")
    purge = commands.add_parser(
        "purge", help="erase the names, ID numbers and phones of a finished campaign (statistics and amounts stay)"
    )
    purge.add_argument("--campaign", required=True)
    purge.add_argument("--before", required=True, type=_date, help="travellers whose report date is before this date")


def _engine():  # type: ignore[no-untyped-def]
    settings = get_settings()
    engine = make_engine(settings.database_url, settings.database_schema)
    if settings.database_schema and not settings.database_url.startswith("sqlite"):
        ensure_schema(engine, settings.database_schema)
    upgrade(engine)
    return engine


def run_service_command(args: argparse.Namespace) -> int:
    settings = get_settings()
    if args.command == "db":
        _engine()
        print(f"database {_safe_url(settings.database_url)} is at the latest schema")
        return 0
    if args.command == "load":
        from api.services.seed import load_county

        try:
            report = load_county(_engine(), settings.campaign, args.scenario, args.policy)
        except (InvalidScenario, InvalidPolicy) as err:
            print(err, file=sys.stderr)
            return EXIT_BAD_INPUT
        print(report.summary())
        return 0
    if args.command == "seed" or (args.command == "serve" and args.seed):
        from api.services.seed import seed

        try:
            counts = seed(_engine(), settings.campaign)
        except (InvalidScenario, InvalidPolicy) as err:
            print(err, file=sys.stderr)
            return EXIT_BAD_INPUT
        print("seeded: " + ", ".join(f"{n} {what}" for what, n in counts.items()) + " (existing rows kept)")
        if args.command == "seed":
            return 0
    if args.command in ("token", "user", "purge"):
        try:
            with session_scope(_engine()) as session:
                session.info["actor"] = f"command line: {args.command} {args.action if 'action' in args else ''}"
                print(_run_admin_command(session, args, settings))
        except ApiError as err:
            print(f"{err.message} ({err.message_zh})", file=sys.stderr)
            return EXIT_BAD_INPUT
        return 0
    import uvicorn

    from api.main import create_app
    from api.services.region import InvalidRegionSettings

    try:
        app = create_app(settings)
    except InvalidRegionSettings as err:
        print(err, file=sys.stderr)
        return EXIT_BAD_INPUT
    uvicorn.run(app, host=args.host, port=args.port)
    return 0


def _run_admin_command(session, args: argparse.Namespace, settings) -> str:  # type: ignore[no-untyped-def]
    from api.services import accounts, tokens
    from api.services.purge import purge

    if args.command == "token" and args.action == "create":
        days = args.days or settings.token_days
        _row, token = tokens.create_token(session, Role(args.role), args.scope, args.label, days)
        return token
    if args.command == "token" and args.action == "list":
        rows = tokens.list_tokens(session)
        lines = ["id\tkind\trole\tscope\tlabel\texpires (Beijing)\tlast used (Beijing)\tstate"]
        for t in rows:
            state = "revoked" if t.revoked else "active"
            lines.append(
                f"{t.id}\t{t.kind}\t{t.role}\t{t.scope or ''}\t{t.user or t.label}\t{beijing_minute(t.expires_at)}"
                f"\t{beijing_minute(t.last_used_at)}\t{state}"
            )
        return "\n".join(lines)
    if args.command == "token":
        row = tokens.revoke_token(session, args.id_or_token)
        return f"token {row.id} ({row.role} {row.scope or ''} {row.label}) revoked"
    if args.command == "user":
        password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else _ask_password()
        body = _user_create(args, password)
        user = accounts.create_user(session, body)
        return f"user {user.username} ({user.role} {user.scope or ''}) created"
    report = purge(session, args.campaign, args.before, settings.today_here(), settings.retention_days)
    return report.summary()


def _user_create(args: argparse.Namespace, password: str):  # type: ignore[no-untyped-def]
    from pydantic import ValidationError

    from api.models import UserCreate

    try:
        return UserCreate(
            username=args.username, display_name=args.name, password=password, role=args.role, scope=args.scope
        )
    except ValidationError as err:
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors())
        raise ApiError(422, f"invalid account: {where}", f"账户信息有误：{where}") from err


def _ask_password() -> str:
    import getpass

    first = getpass.getpass("password (at least 8 characters): ")
    if getpass.getpass("again: ") != first:
        raise ApiError(422, "the two passwords differ", "两次输入的密码不一致")
    return first


def _date(text: str):  # type: ignore[no-untyped-def]
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-03-31, got {text!r}") from None


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
