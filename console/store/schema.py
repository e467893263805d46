"""The database schema: one append-only event log, the projection tables folded from it, and the
tables around it (outbox, audit, quarantine, persons).

Times are stored in UTC. Projection rows keep the whole record as JSON in ``data`` (the exact
domain record, so loading never loses a field) beside indexed columns for queries.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite wants INTEGER PRIMARY KEY for its rowid alias; PostgreSQL gets a 64-bit sequence.
SeqInt = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (naive text) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


events = Table(
    "events",
    metadata,
    Column("seq", SeqInt, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("source_id", String(255), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("entity_id", String(128), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("payload", Text, nullable=False),
    # SHA-256 chained to the row before (migration 0006, console.store.chain).
    Column("chain", String(64)),
    UniqueConstraint("source", "source_id", name="uq_events_source_source_id"),
)
Index("ix_events_occurred_at", events.c.occurred_at)
Index("ix_events_kind", events.c.kind)

calls = Table(
    "calls",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("type", String(40), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("cleared_at", UtcDateTime),
    Column("team", String(64)),
    Column("escalated_to", String(20)),
    Column("unsafe", Boolean, nullable=False, default=False),
    Column("neighborhood", String(80)),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Column("k_source_id", String(255), nullable=False),
    Column("data", Text, nullable=False),
)
Index("ix_calls_received_at", calls.c.received_at)
Index("ix_calls_status", calls.c.status)

teams = Table(
    "teams",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("provider", String(80)),
    Column("call", String(64)),
    Column("status_since", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("k_source_id", String(255), nullable=False),
    Column("data", Text, nullable=False),
)

positions = Table(
    "positions",
    metadata,
    Column("team_id", String(64), primary_key=True),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

commands = Table(
    "commands",
    metadata,
    Column("command_id", String(64), primary_key=True),
    Column("kind", String(40)),
    Column("status", String(20), nullable=False),
    Column("operator", String(120), nullable=False, default=""),
    Column("requested_at", UtcDateTime),
    Column("answered_at", UtcDateTime),
    Column("answer", Text, nullable=False, default=""),
    Column("data", Text),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("severity", String(20), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("message", Text, nullable=False),
    Column("raised_at", UtcDateTime, nullable=False),
)

acks = Table(
    "acks",
    metadata,
    Column("alert_id", String(200), primary_key=True),
    Column("operator", String(120), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("note", Text, nullable=False, default=""),
)

notes = Table(
    "notes",
    metadata,
    Column("source", String(32), primary_key=True),
    Column("source_id", String(255), primary_key=True),
    Column("call_id", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("author", String(120), nullable=False),
    Column("at", UtcDateTime, nullable=False),
)
Index("ix_notes_call_id", notes.c.call_id)

assignments = Table(
    "assignments",
    metadata,
    Column("call_id", String(64), primary_key=True),
    Column("team_id", String(64), primary_key=True),
    Column("at", UtcDateTime, nullable=False),
)

escalations = Table(
    "escalations",
    metadata,
    Column("call_id", String(64), primary_key=True),
    Column("target", String(20), nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

program_records = Table(
    "program_records",
    metadata,
    Column("kind", String(20), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("call_id", String(64), nullable=False, default=""),
    Column("data", Text, nullable=False),
)
"""The program's own records (outcomes, unserved reasons, naloxone, follow-ups), one row each,
as the fold keeps them (``console.domain.program``)."""
Index("ix_program_records_call_id", program_records.c.call_id)

destination_capacity = Table(
    "destination_capacity",
    metadata,
    Column("destination_id", String(128), primary_key=True),
    Column("data", Text, nullable=False),
)
"""Each destination's latest capacity figure, as the fold keeps it (``console.domain.codec``'s
``capacity_to_dict``): one row each, however many figures the log holds."""

outbox = Table(
    "outbox",
    metadata,
    Column("command_id", String(64), primary_key=True),
    Column("idempotency_key", String(64), nullable=False, unique=True),
    Column("kind", String(40), nullable=False),
    Column("payload", Text, nullable=False),
    Column("operator", String(120), nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Column("answered_at", UtcDateTime),
    Column("answer", Text, nullable=False, default=""),
    # Which sender holds the row and until when (migration 0002): several sync services can
    # share one outbox; a crashed sender's rows are taken over once its lease runs out.
    Column("claimed_by", String(120)),
    Column("claimed_until", UtcDateTime),
    # The call and team the command is about (migration 0004), for the conflict check.
    Column("call_id", String(64)),
    Column("team_id", String(64)),
)
Index("ix_outbox_status", outbox.c.status)
Index("ix_outbox_claimed_until", outbox.c.claimed_until)
Index("ix_outbox_call_id", outbox.c.call_id)
Index("ix_outbox_team_id", outbox.c.team_id)

audit = Table(
    "audit",
    metadata,
    Column("id", SeqInt, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("operator", String(120), nullable=False),
    Column("role", String(20), nullable=False),
    Column("action", String(40), nullable=False),
    Column("call_id", String(64)),
    Column("team_id", String(64)),
    Column("reason", Text, nullable=False, default=""),
    Column("detail", Text, nullable=False, default="{}"),
    Column("command_id", String(64)),
    Column("answer_status", String(20), nullable=False),
    Column("answer", Text, nullable=False, default=""),
    Column("answered_at", UtcDateTime),
    # SHA-256 chained to the row before (migration 0006, console.store.chain).
    Column("chain", String(64)),
)
Index("ix_audit_command_id", audit.c.command_id)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", SeqInt, primary_key=True, autoincrement=True),
    Column("received_at", UtcDateTime, nullable=False),
    Column("source", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("raw", Text, nullable=False),
    Column("reprocessed_at", UtcDateTime, nullable=True),
    # Set when `quarantine --reprocess` read the message and its facts entered the log.
    Column("reprocess_note", Text, nullable=True),
)

persons = Table(
    "persons",
    metadata,
    Column("id", SeqInt, primary_key=True, autoincrement=True),
    Column("call_id", String(64), nullable=False),
    Column("role", String(40), nullable=False, default=""),
    Column("data", Text, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
)
Index("ix_persons_call_id", persons.c.call_id)

link_status = Table(
    "link_status",
    metadata,
    # One row per sync service (migration 0003): consoles that share the database but not the
    # dispatch link read the link's health here, and see a silent service as a dead link.
    Column("service", String(120), primary_key=True),
    Column("state", String(20), nullable=False),
    Column("since", UtcDateTime, nullable=False),
    Column("url", String(255), nullable=False, default=""),
    Column("last_message_at", UtcDateTime),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=False, default=""),
    Column("reported_at", UtcDateTime, nullable=False),
)

PROJECTION_TABLES = (
    calls,
    teams,
    positions,
    commands,
    alerts,
    acks,
    notes,
    assignments,
    escalations,
    program_records,
    destination_capacity,
)
