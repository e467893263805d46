"""The alerts dock and the critical-alert banner."""

# Benchmarks time ``console.ui.alerts.AlertsPanel``.
from console.ui.alerts.panel import AlertsPanel

__all__ = ["AlertsPanel"]
