"""Real-time workload plots (the ``workload`` dock) and their exports."""

from console.ui.plots.panel import WINDOWS, WorkloadPanel, shift_start

__all__ = ["WINDOWS", "WorkloadPanel", "shift_start"]
