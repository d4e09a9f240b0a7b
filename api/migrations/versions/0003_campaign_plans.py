"""Campaign plans: a planning job over a range of dates, published date by date

- plans.end_date: a campaign's last date (NULL: the job plans one date, plans.date);
- plans.open_from: a campaign's first date open to new departures (dates before it had passed when it was made);
- plans.published_dates: the dates of the job published so far (NULL: none);
- plans.result keeps its JSON column; a result stored before (one date's plan at the top level) is read as a job
  of one date, so no row is rewritten.

A traveller's status may now also be "overdue" (a text column, no constraint to change).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("end_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("open_from", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "published_dates",
                sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql"),
                nullable=True,
            )
        )


def downgrade() -> None:
    # An overdue traveller was a registered one before.
    op.execute("UPDATE travellers SET status = 'registered' WHERE status = 'overdue'")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("published_dates")
        batch_op.drop_column("open_from")
        batch_op.drop_column("end_date")
