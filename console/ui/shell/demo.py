"""The demo's own controls, in the status bar: the simulated dispatch's pace (1x to 60x) and
whether it waits for the supervisor before assigning a team to a new call itself."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QWidget

SPEEDS = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0)
DEFAULT_WAIT_S = 300.0


class DemoControls(QWidget):
    """Pace and "dispatch waits for the supervisor" for a running dispatch simulator.

    ``sim`` is the simulator (its ``speed`` and its world's generated shift): both are read by
    the simulator's thread, and each change is one attribute assignment."""

    def __init__(self, sim: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("demo-controls")
        self.sim = sim
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        label = QLabel("Demo &speed:", self)
        self.speed = QComboBox(self)
        for s in SPEEDS:
            self.speed.addItem(f"{s:g}×", s)
        label.setBuddy(self.speed)
        self.speed.setToolTip("Simulated time per real second (the demo's clock and calls)")
        current = float(sim.speed)
        self.speed.setCurrentIndex(min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - current)))
        self.speed.currentIndexChanged.connect(self._speed_changed)
        shift = getattr(sim.world, "generated", None)
        self._wait_s = (shift.dispatch_wait_s if shift is not None else 0.0) or DEFAULT_WAIT_S
        self.wait = QCheckBox("Dispatch &waits for the supervisor", self)
        self.wait.setToolTip(
            f"The simulated dispatch leaves a new call pending {self._wait_s / 60:g} min "
            "(simulated) before assigning a team itself, so you can act first"
        )
        self.wait.setChecked(shift is not None and shift.dispatch_wait_s > 0)
        self.wait.setEnabled(shift is not None)
        self.wait.toggled.connect(self._wait_toggled)
        lay.addWidget(label)
        lay.addWidget(self.speed)
        lay.addWidget(self.wait)

    def _speed_changed(self, index: int) -> None:
        self.sim.speed = float(self.speed.itemData(index))

    def _wait_toggled(self, on: bool) -> None:
        shift = getattr(self.sim.world, "generated", None)
        if shift is not None:
            shift.dispatch_wait_s = self._wait_s if on else 0.0
