"""Old import path, kept for the benchmarks: see ``console.ui.audit.panel``."""

from console.ui.audit.panel import AuditPanel

__all__ = ["AuditPanel"]
