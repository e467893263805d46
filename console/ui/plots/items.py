"""Plot items pyqtgraph has no cheap form of."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QBrush, QPainter, QPainterPath


class StackBand(pg.GraphicsObject):  # type: ignore[misc]
    """One band of a stacked area: the region between a lower and an upper curve.

    pyqtgraph stacks areas by filling each cumulative curve down to zero, so every band is
    painted over all the bands below it (five translucent layers on the team plot) and in
    chunks of fifty points each. A band that covers only its own region, in an opaque colour,
    paints every pixel once, in one call.
    """

    def __init__(self, brush: QBrush) -> None:
        super().__init__()
        # What the legend's sample reads: a filled area, no outline.
        self.opts: dict[str, object] = {
            "pen": None,
            "fillLevel": 0,
            "fillBrush": brush,
            "antialias": False,
            "symbol": None,
        }
        self._brush = brush
        self._x = np.zeros(0)
        self._lower = np.zeros(0)
        self._upper = np.zeros(0)
        self._path: QPainterPath | None = None
        self._rect = QRectF()

    def setData(self, x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """The band's samples; it repaints only if they changed."""
        if (
            x.shape == self._x.shape
            and np.array_equal(x, self._x)
            and np.array_equal(lower, self._lower)
            and np.array_equal(upper, self._upper)
        ):
            return
        self.prepareGeometryChange()
        self._x = np.array(x, dtype=np.float64)
        self._lower = np.array(lower, dtype=np.float64)
        self._upper = np.array(upper, dtype=np.float64)
        self._path = None
        if len(self._x):
            lo, hi = float(self._lower.min()), float(self._upper.max())
            x0, x1 = float(self._x[0]), float(self._x[-1])
            self._rect = QRectF(x0, lo, x1 - x0, hi - lo)
        else:
            self._rect = QRectF()
        self.informViewBoundsChanged()
        self.update()

    def getData(self) -> tuple[np.ndarray, np.ndarray]:
        """The band's top edge, as :meth:`pyqtgraph.PlotDataItem.getData` gives a curve."""
        return self._x, self._upper

    def dataBounds(
        self, ax: int, frac: float = 1.0, orthoRange: object = None
    ) -> tuple[float, float] | tuple[None, None]:
        if not len(self._x):
            return None, None
        if ax == 0:
            return float(self._x[0]), float(self._x[-1])
        return float(self._lower.min()), float(self._upper.max())

    def boundingRect(self) -> QRectF:
        return QRectF(self._rect)

    def _outline(self) -> QPainterPath:
        if self._path is None:
            # Along the top left to right, back along the bottom: one closed polygon.
            xs = np.concatenate([self._x, self._x[::-1]])
            ys = np.concatenate([self._upper, self._lower[::-1]])
            path = pg.arrayToQPath(xs, ys, connect="all")
            path.closeSubpath()
            self._path = path
        return self._path

    def paint(self, p: QPainter, *args: object) -> None:
        if len(self._x) < 2:
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.fillPath(self._outline(), self._brush)
