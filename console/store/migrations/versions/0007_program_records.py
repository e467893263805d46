"""program records: how calls ended, why eligible calls went unserved, naloxone, follow-ups

The console's own facts are events in the log like any other; this table is their projection
(one row per record, its JSON as the fold keeps it). Existing logs hold none of them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "program_records",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key"),
    )
    op.create_index("ix_program_records_call_id", "program_records", ["call_id"])


def downgrade() -> None:
    op.drop_index("ix_program_records_call_id", table_name="program_records")
    op.drop_table("program_records")
