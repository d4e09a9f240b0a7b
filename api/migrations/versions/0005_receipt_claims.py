"""Receipts: a traveller is paid once

- receipt_claims (traveller_id primary key, receipt_id, share): the travellers a submitted or approved receipt
  covers, each at most once, with its share of the amount. Filled from the receipts stored so far, oldest
  first; a traveller an older receipt already covers is not claimed again by a later one (which keeps its
  amount, for the county to review).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 12:10:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "receipt_claims",
        sa.Column("traveller_id", sa.Integer(), nullable=False),
        sa.Column("receipt_id", sa.Integer(), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["receipt_id"], ["receipts.id"]),
        sa.PrimaryKeyConstraint("traveller_id"),
    )
    op.create_index("ix_receipt_claims_receipt_id", "receipt_claims", ["receipt_id"])
    connection = op.get_bind()
    receipts = connection.execute(
        sa.text("select id, amount, traveller_ids from receipts where status in ('submitted', 'approved') order by id")
    ).all()
    claimed: set[int] = set()
    claims = sa.table(
        "receipt_claims", sa.column("traveller_id"), sa.column("receipt_id"), sa.column("share", sa.Float)
    )
    for receipt_id, amount, ids in receipts:
        ids = json.loads(ids) if isinstance(ids, str) else ids
        mine = [i for i in dict.fromkeys(ids or []) if i not in claimed]
        claimed.update(mine)
        if mine:
            share = round(amount / len(ids), 2)
            op.bulk_insert(claims, [{"traveller_id": i, "receipt_id": receipt_id, "share": share} for i in mine])


def downgrade() -> None:
    op.drop_index("ix_receipt_claims_receipt_id", table_name="receipt_claims")
    op.drop_table("receipt_claims")
