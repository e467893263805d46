"""outbox subjects: the call and team a queued command is about, as columns

The conflict check between supervisors compares them by equality (it matched a piece of the
serialised command before, where a ``%`` or ``_`` in an id acted as a wildcard).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("call_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("team_id", sa.String(length=64), nullable=True))
    # Backfill from the stored command (its JSON has the same names as the columns).
    outbox = sa.table(
        "outbox",
        sa.column("command_id", sa.String),
        sa.column("payload", sa.Text),
        sa.column("call_id", sa.String),
        sa.column("team_id", sa.String),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.select(outbox.c.command_id, outbox.c.payload)).all()
    values = []
    for command_id, payload in rows:
        try:
            body = json.loads(payload)
        except ValueError:
            continue
        if not isinstance(body, dict):
            continue
        call_id, team_id = body.get("call_id"), body.get("team_id")
        if call_id is not None or team_id is not None:
            values.append({"k": command_id, "c": call_id, "t": team_id})
    if values:
        conn.execute(
            outbox.update()
            .where(outbox.c.command_id == sa.bindparam("k"))
            .values(call_id=sa.bindparam("c"), team_id=sa.bindparam("t")),
            values,
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_call_id", ["call_id"], unique=False)
        batch_op.create_index("ix_outbox_team_id", ["team_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_team_id")
        batch_op.drop_index("ix_outbox_call_id")
        batch_op.drop_column("team_id")
        batch_op.drop_column("call_id")
