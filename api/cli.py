"""The ``fanggang`` command: the planning commands of ``scheduler.cli`` (``demo``, ``plan``, ``campaign``) and the
service's (``serve``, ``seed``, ``db upgrade``, ``token create``)."""

from __future__ import annotations

import argparse
import sys

from api.db import ensure_schema, make_engine, session_scope, upgrade
from api.errors import ApiError
from api.models import Role
from api.settings import get_settings
from scheduler.cli import PLANNING_COMMANDS, add_planning_commands, run_planning_command
from scheduler.policy import InvalidPolicy
from scheduler.validation import InvalidScenario

EXIT_BAD_INPUT = 2


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
    db = commands.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"], help="apply the migrations")
    token = commands.add_parser("token", help="issue bearer tokens")
    token.add_argument("action", choices=["create"])
    token.add_argument("--role", required=True, choices=["dispatcher", "township", "factory"])
    token.add_argument("--scope", default=None, help="township or factory id (not for dispatchers)")
    token.add_argument("--label", default="")


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
    if args.command == "token":
        from api.services.tokens import create_token

        try:
            with session_scope(_engine()) as session:
                _row, token = create_token(session, Role(args.role), args.scope, args.label)
        except ApiError as err:
            print(f"{err.message} ({err.message_zh})", file=sys.stderr)
            return EXIT_BAD_INPUT
        print(token)
        return 0
    import uvicorn

    from api.main import create_app

    uvicorn.run(create_app(settings), host=args.host, port=args.port)
    return 0


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
