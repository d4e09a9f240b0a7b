"""JSON columns, reasons as data, bilingual job messages

- plans.result, buses.data, policy.data and receipts.traveller_ids: JSON-in-Text becomes JSON (JSONB on
  PostgreSQL, where every existing row is converted with ``::jsonb``; SQLite keeps the same text under a JSON
  column type).
- travellers.fallback_reason (an English sentence) becomes fallback_cause + fallback_params, from which both
  languages are rendered. Rows published before keep no cause (their sentences stay in their plan's result);
  a downgrade renders the English sentence back from the cause.
- plans.message_zh and plans.error_zh: the job's progress message and error in Chinese.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, nullable)
JSON_COLUMNS = (
    ("plans", "result", True),
    ("buses", "data", False),
    ("policy", "data", False),
    ("receipts", "traveller_ids", False),
)


def _json() -> sa.types.TypeEngine:
    return sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    for table, column, nullable in JSON_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=sa.Text(),
                type_=postgresql.JSONB() if _postgresql() else sa.JSON(),
                existing_nullable=nullable,
                postgresql_using=f"{column}::jsonb",
            )
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("message_zh", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("error_zh", sa.Text(), nullable=True))
    with op.batch_alter_table("travellers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fallback_cause", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True))
        batch_op.add_column(sa.Column("fallback_params", _json(), nullable=True))
        batch_op.drop_column("fallback_reason")


def downgrade() -> None:
    with op.batch_alter_table("travellers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fallback_reason", sa.Text(), nullable=True))
    _render_reasons()
    with op.batch_alter_table("travellers", schema=None) as batch_op:
        batch_op.drop_column("fallback_params")
        batch_op.drop_column("fallback_cause")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("error_zh")
        batch_op.drop_column("message_zh")
    for table, column, nullable in JSON_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=postgresql.JSONB() if _postgresql() else sa.JSON(),
                type_=sa.Text(),
                existing_nullable=nullable,
                postgresql_using=f"{column}::text",
            )


def _render_reasons() -> None:
    """The English sentence of each stored cause, as 0001 kept it."""
    from scheduler.messages import Message

    travellers = sa.table(
        "travellers",
        sa.column("id", sa.Integer()),
        sa.column("fallback_cause", sa.String()),
        sa.column("fallback_params", _json()),
        sa.column("fallback_reason", sa.Text()),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(travellers.c.id, travellers.c.fallback_cause, travellers.c.fallback_params).where(
            travellers.c.fallback_cause.is_not(None)
        )
    ).all()
    for traveller_id, cause, params in rows:
        try:
            reason = Message(cause, params or {}).en
        except (ValueError, KeyError, TypeError):
            reason = cause
        bind.execute(travellers.update().where(travellers.c.id == traveller_id).values(fallback_reason=reason))
