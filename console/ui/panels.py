"""Old import path, kept for the benchmarks: see ``console.ui.tables.panel``."""

from console.ui.tables.panel import BoardPanel, QueuePanel, _TablePanel

__all__ = ["BoardPanel", "QueuePanel", "_TablePanel"]
