"""Old import path, kept for the benchmarks: see ``console.ui.map.panel``."""

from console.ui.map.panel import MapPanel

__all__ = ["MapPanel"]
