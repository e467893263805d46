"""The workload dock at its docked size: the open-calls plot with its own time axis, a time
window that starts at the data, plots in the window's theme, and a tooltip that says what
"eligible calls not served" counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import test_plots
from PySide6.QtGui import QColor

from console.ui.plots.colors import plot_colors
from console.ui.plots.plotset import NOT_SERVED_TIP, TIME_PLOTS

# The workload panel over a synthetic shift, as the other plot tests build it (fixtures
# "panel" and "shift").
panel = test_plots.panel
shift = test_plots.shift


def test_the_open_calls_plot_has_its_own_time_axis(qtbot: Any, panel: Any) -> None:
    p, _ctx, _shift = panel
    axes = {k: p.plotset.plots[k].getAxis("bottom").isVisible() for k in TIME_PLOTS}
    assert axes["open_calls"] and axes[TIME_PLOTS[-1]]
    assert not axes["teams"]  # the plots between share it
    # Docked short, the first plot and its axis are in view without scrolling.
    p.resize(1000, 260)
    qtbot.waitUntil(lambda: p.scroller.verticalScrollBar().maximum() > 0, timeout=10_000)
    axis = p.plotset.plots["open_calls"].getAxis("bottom")
    view = p.plotset.widget
    bottom = view.mapFromScene(axis.sceneBoundingRect()).boundingRect().bottom()
    assert bottom <= p.scroller.viewport().height()


def test_the_time_window_starts_at_the_data(qtbot: Any, panel: Any) -> None:
    p, _ctx, shift = panel
    p.set_window("24h")  # a day back: long before the first record
    p.redraw()
    first = p.agg.first_epoch
    lo, hi = p.plotset.plots["open_calls"].getViewBox().viewRange()[0]
    span = hi - lo
    assert lo >= first - 0.02 * span  # no empty day before the data
    assert hi >= shift.now.timestamp() - 0.02 * span
    assert (shift.now - timedelta(hours=24)).timestamp() < first  # the test can tell


def test_plots_follow_the_theme(qtbot: Any, panel: Any) -> None:
    p, _ctx, _shift = panel
    dark, light = plot_colors("dark"), plot_colors("light")
    p.set_theme("light")
    assert p.colors == light
    assert p.plotset.widget.backgroundBrush().color() == QColor(light.background)
    with qtbot.waitSignal(p.redrawn, timeout=5000):
        pass
    assert len(p.plotset.lines()[0].getData()[0]) > 0  # drawn again, in the new colours
    p.set_theme("dark")
    assert p.plotset.widget.backgroundBrush().color() == QColor(dark.background)


def test_not_served_says_what_it_counts(qtbot: Any, panel: Any) -> None:
    p, _ctx, _shift = panel
    p.redraw()
    assert "eligible calls not served" in p.status.full_text()
    assert NOT_SERVED_TIP in p.status.toolTip()
    assert "without any team ever having been assigned" in NOT_SERVED_TIP
    # The legend beside the coverage plot carries the same words.
    tips = {label.text: label.toolTip() for _s, label in p.plotset.leg_coverage.items}
    assert tips["Eligible, not served"] == NOT_SERVED_TIP


def test_a_status_line_too_long_for_the_dock_is_seen_to_be_cut(qtbot: Any, panel: Any) -> None:
    """In a narrow dock the workload line ends in "…" (never cut mid-word without a sign);
    widened, it is whole again."""
    p, _ctx, _shift = panel
    p.redraw()
    whole = p.status.full_text()
    p.resize(420, 600)
    p.show()
    qtbot.waitUntil(lambda: p.status.text().endswith("…"), timeout=3000)
    assert p.status.text()[:-1] in whole and len(p.status.text()) < len(whole)
    assert p.status.width() <= p.width()
    # What the cut hides (the not-served count at its end) is in the tooltip, whole.
    assert p.status.toolTip().startswith(whole) and NOT_SERVED_TIP in p.status.toolTip()
    # A larger font in the same width holds fewer letters.
    shown = p.status.text()
    font = p.status.font()
    font.setPointSizeF(font.pointSizeF() * 1.5)
    p.status.setFont(font)
    assert len(p.status.text()) < len(shown) and p.status.text().endswith("…")
    p.resize(p.status.fontMetrics().horizontalAdvance(whole) + 400, 600)
    qtbot.waitUntil(lambda: p.status.text() == whole, timeout=3000)
