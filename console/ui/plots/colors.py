"""Plot colours by meaning, taken from the console theme.

The theme module owns the colours of statuses and surfaces; the plots add only what the theme has
no word for (one colour per call type, per escalation target).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from console.domain.model import TeamStatus
from console.ui.core import theme

log = logging.getLogger(__name__)

# Distinct on both a dark and a light background (Okabe-Ito plus four more), call-type order.
_TYPE_COLORS = (
    "#e69f00",
    "#56b4e9",
    "#009e73",
    "#f0e442",
    "#0072b2",
    "#d55e00",
    "#cc79a7",
    "#a6d854",
    "#b39ddb",
    "#9e9e9e",
    "#ad1457",
)
"""One per call type in ``CallType`` order (the last: a type outside the registry)."""
_ESC_COLORS = ("#ef5350", "#42a5f5", "#ab47bc", "#ffca28", "#f5f5f5")
"""police, EMS, mobile crisis, co-response, backup requests."""


@dataclass(frozen=True, slots=True)
class PlotColors:
    name: str
    background: str
    text: str
    muted: str
    grid: str
    pending: str
    assigned: str
    overdue: str
    target: str
    team_groups: tuple[str, ...]
    call_types: tuple[str, ...]
    escalations: tuple[str, ...]
    band: str
    staffed: str
    demand: str
    not_served: str


def plot_colors(theme_name: str | None = None) -> PlotColors:
    """The plot palette of ``theme_name`` (None: the theme applied last)."""
    try:
        c = theme.colors(theme_name)
    except ValueError:
        c = theme.colors(None)
    ts = c.team_status
    dark = c.name == "dark"
    return PlotColors(
        name=c.name,
        background=c.base,
        text=c.text,
        muted=c.muted,
        grid=c.border,
        pending=c.pending,
        assigned=ts[TeamStatus.ASSIGNED],
        overdue=c.severity[next(iter(c.severity))],
        target=c.warning if dark else c.unsafe,
        team_groups=(
            ts[TeamStatus.AVAILABLE],
            ts[TeamStatus.EN_ROUTE],
            ts[TeamStatus.ON_SCENE],
            ts[TeamStatus.TRANSPORTING],
            ts[TeamStatus.OUT_OF_SERVICE],
        ),
        call_types=_TYPE_COLORS,
        escalations=(*_ESC_COLORS[:4], c.text),
        band=c.muted,
        staffed=c.ok,
        demand=c.pending,
        not_served=c.error,
    )
