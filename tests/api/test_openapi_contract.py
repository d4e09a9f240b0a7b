"""The published OpenAPI document is true: schemathesis generates requests for every operation (valid and
invalid ones) against the running service and checks every answer against the document: no 5xx, only
documented statuses, bodies and content types as documented, 405 with Allow."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from api.db import make_engine, session_scope
from api.main import create_app
from api.models import Role
from api.services.seed import seed
from api.services.tokens import create_token
from api.settings import Settings
from tests.api.conftest import SMALL, SMALL_POLICY, Database, make_database
from tests.web.conftest import start_server

# Examples per operation: enough to reach every parameter's edges, small enough for the suite.
EXAMPLES = 20
# What only the county admin may do; the rest is tried as the dispatcher, who may do the most.
ADMIN_PATHS = ("/tokens", "/users", "/audit", "/townships", "/factories", "/fleet", "/rules")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The small county served over HTTP on each database, with a dispatcher and an admin token."""
    with make_database(request.param, Path(tmp_path_factory.mktemp("contract"))) as db:
        yield from _serve(db)


def _serve(db: Database) -> Iterator[dict[str, Any]]:
    app_settings = Settings(
        database_url=db.url,
        database_schema=db.schema,
        campaign="2026",
        planning_processes=1,
        today=dt.date(2026, 2, 17),
    )
    server, thread, base = start_server(app_settings)
    engine = make_engine(db.url, db.schema)
    seed(engine, "2026", SMALL, policy=SMALL_POLICY)
    with session_scope(engine) as session:
        tokens = {
            "dispatcher": create_token(session, Role.dispatcher, None, "contract dispatcher", 3)[1],
            "admin": create_token(session, Role.admin, None, "contract admin", 3)[1],
        }
    engine.dispose()
    try:
        yield {"url": base, "tokens": tokens}
    finally:
        server.should_exit = True
        thread.join(15)


# The document the service publishes at /openapi.json (the same app, built without a database).
schema = schemathesis.openapi.from_dict(create_app(Settings(database_url="sqlite://")).openapi())


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_answers_as_documented(case: Any, service: dict[str, Any]) -> None:
    """Every check schemathesis has passes for generated requests to this operation."""
    admin = (case.operation.path.startswith(ADMIN_PATHS) and case.method.upper() != "GET") or (
        case.operation.path.startswith(("/tokens", "/users", "/audit"))
    )
    if case.operation.path.startswith("/tokens/") and case.method.upper() == "DELETE":
        # Revoking the caller's own token would end the run: only ids no token has (404); revoking is tested
        # in test_who_changed_what.
        case.path_parameters = {"token_id": 2_000_000_000}
    if isinstance(case.body, dict) and "time_limit" in case.body:
        case.body["time_limit"] = 1  # plans are planned, briefly
    token = service["tokens"]["admin" if admin else "dispatcher"]
    # Every check but positive_data_acceptance: the service refuses some schema-valid requests on purpose, by
    # rules JSON Schema cannot state (an ID number's checksum, a scope its role requires, date or from/to, a
    # township that exists), with a 422 that names the field.
    case.call_and_validate(
        base_url=service["url"],
        headers={"Authorization": f"Bearer {token}"},
        excluded_checks=[positive_data_acceptance],
    )
