"""quarantine reprocessed: when a kept message was read again and entered the log

``responder-console quarantine --reprocess`` re-reads quarantined dispatch messages with the
current reader and code table; what it could read is marked so a second run adds nothing. The
raw message stays.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reprocessed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reprocess_note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_column("reprocess_note")
        batch_op.drop_column("reprocessed_at")
