"""Planning jobs: the run that owns a job

- plans.lease: a random token the worker process sets when it takes a queued job; progress and the result are
  written only where the job is still running under that lease, in the same statement, so a solver orphaned by
  a killed server can never turn a failed job into a done one.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("lease")
