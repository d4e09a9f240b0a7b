"""Notices to travellers, a bus's escort, receipts' photos

- notices: one text message per traveller and change (publish, cancellation, a freed seat, a new time), queued
  for the county's SMS platform and marked sent when exported to it.
- buses.escort_name, buses.escort_phone: the person the township sends along, printed on the boarding slips.
- receipt_files: the photo or PDF of a township's receipt, kept with the record.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 16:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("traveller_id", sa.Integer(), nullable=False),
        sa.Column("township_id", sa.String(length=40), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("batch", sa.String(length=60), nullable=True),
        sa.ForeignKeyConstraint(["traveller_id"], ["travellers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notices_traveller_id", "notices", ["traveller_id"])
    op.create_index("ix_notices_township_id", "notices", ["township_id"])
    op.create_index("ix_notices_status", "notices", ["status"])
    with op.batch_alter_table("buses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("escort_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("escort_phone", sa.String(length=40), nullable=True))
    op.create_table(
        "receipt_files",
        sa.Column("receipt_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["receipt_id"], ["receipts.id"]),
        sa.PrimaryKeyConstraint("receipt_id"),
    )


def downgrade() -> None:
    op.drop_table("receipt_files")
    with op.batch_alter_table("buses", schema=None) as batch_op:
        batch_op.drop_column("escort_phone")
        batch_op.drop_column("escort_name")
    op.drop_index("ix_notices_status", table_name="notices")
    op.drop_index("ix_notices_township_id", table_name="notices")
    op.drop_index("ix_notices_traveller_id", table_name="notices")
    op.drop_table("notices")
