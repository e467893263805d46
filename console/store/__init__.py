"""Persistence: the event log, its projections and the tables around them (SQLAlchemy 2)."""

from console.domain.changes import Changes

from .db import (
    SchemaMissing,
    SchemaTooNew,
    SchemaTooOld,
    StoreCorrupt,
    StoreError,
    StoreWriteError,
    make_engine,
    normalize_url,
    upgrade,
)
from .store import (
    AppendResult,
    AuditEntry,
    CommandConflict,
    LinkReport,
    OutboxItem,
    QuarantineItem,
    Store,
    Submitted,
    sender_identity,
)

__all__ = [
    "AppendResult",
    "AuditEntry",
    "Changes",
    "CommandConflict",
    "LinkReport",
    "OutboxItem",
    "QuarantineItem",
    "SchemaMissing",
    "SchemaTooNew",
    "SchemaTooOld",
    "Store",
    "StoreCorrupt",
    "StoreError",
    "StoreWriteError",
    "Submitted",
    "make_engine",
    "normalize_url",
    "sender_identity",
    "upgrade",
]
