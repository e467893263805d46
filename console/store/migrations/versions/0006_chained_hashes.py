"""chained hashes: every event and audit row carries a SHA-256 over the row before's and its own

An edited, deleted or inserted row no longer matches (``responder-console db verify``). Rows
written before this revision are chained here, in their stored order.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from console.store.chain import backfill

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain", sa.String(length=64), nullable=True))
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain", sa.String(length=64), nullable=True))
    backfill(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_column("chain")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("chain")
