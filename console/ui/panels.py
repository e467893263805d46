"""Old import path, kept for the benchmarks: see ``console.ui.queue``, ``console.ui.board`` and
``console.ui.tables``."""

from console.ui.board.panel import BoardPanel
from console.ui.queue.panel import QueuePanel
from console.ui.tables.panel import TablePanel as _TablePanel

__all__ = ["BoardPanel", "QueuePanel", "_TablePanel"]
