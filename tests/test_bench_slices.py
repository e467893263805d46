"""The ui_stall benchmark names each GUI job it times by its panel and step."""

from __future__ import annotations

from benchmarks.ui_stall import Slices


class QueuePanel:
    def _apply_pending(self) -> None: ...


def test_gui_jobs_are_named_by_panel_and_step() -> None:
    q = QueuePanel()
    s = Slices()
    s.recording = True
    s.record(q._apply_pending, 3.0)
    s.record((q, "tick"), 5.0)
    s.record((q, "tick"), 7.0)
    s.record((q, "backlog"), 1.0)
    s.recording = False
    s.record((q, "tick"), 99.0)  # outside the measured window
    out = s.summary()
    assert list(out) == ["QueuePanel.tick", "QueuePanel._apply_pending", "QueuePanel.backlog"]
    assert out["QueuePanel.tick"]["n"] == 2 and out["QueuePanel.tick"]["max_ms"] == 7.0
