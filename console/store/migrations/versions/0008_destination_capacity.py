"""destination capacity: each destination's latest figure in a projection row of its own

Until now the figures were folded from every ``destination_status`` event in the log each time
they were read, which grows with every figure reported. Rows for the figures already in the
log are written here.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from console.store.rows import capacity_from_log

    table = op.create_table(
        "destination_capacity",
        sa.Column("destination_id", sa.String(length=128), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("destination_id"),
    )
    rows = capacity_from_log(op.get_bind())
    if rows:
        op.bulk_insert(table, rows)


def downgrade() -> None:
    op.drop_table("destination_capacity")
