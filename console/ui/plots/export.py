"""Exports: one plot to PNG, its data to CSV, the whole set as a one-page shift summary.

The summary is drawn with QPainter, onto a QImage (PNG) or a QPdfWriter (PDF, A4 landscape),
from a fresh :class:`PlotSet` laid out at page size, so it does not depend on how large the
dock happens to be.
"""

from __future__ import annotations

import contextlib
import csv
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from PySide6.QtCore import QMarginsF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPageLayout, QPageSize, QPainter, QPdfWriter

from console.files import create_private
from console.store.read.aggregates import Aggregates
from console.ui.plots.colors import PlotColors
from console.ui.plots.plotset import INTERVAL_LABELS, PlotSet, plot_table

SUMMARY_SCENE = (1600, 1000)
_ARGB = QImage.Format.Format_ARGB32
"""Logical size the summary's plots are laid out at before being scaled onto the page."""


class ExportError(RuntimeError):
    """An export that could not be written; the message names the file and why."""


def _private(p: Path) -> Path:
    """Exports carry call data: readable by their owner only."""
    with contextlib.suppress(OSError):
        os.chmod(p, 0o600)
    return p


def write_csv(path: str | Path, header: list[str], rows: list[Any]) -> Path:
    p = Path(path)
    try:
        create_private(p)
        with p.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(rows)
    except OSError as exc:
        raise ExportError(f"cannot write {p}: {exc.strerror or exc}") from exc
    return _private(p)


def export_plot_csv(
    key: str, agg: Aggregates, now: datetime, x_lo: float, path: str | Path
) -> Path:
    header, rows = plot_table(key, agg, now, x_lo)
    return write_csv(path, header, rows)


def export_plot_png(plot: pg.PlotItem, path: str | Path, width: int = 1400) -> Path:
    p = Path(path)
    exp = ImageExporter(plot)
    exp.parameters()["width"] = width
    try:
        exp.export(str(p))
    except OSError as exc:
        raise ExportError(f"cannot write {p}: {exc}") from exc
    if not p.is_file():
        raise ExportError(f"cannot write {p}: the image was not saved")
    return _private(p)


def _fmt_s(v: object) -> str:
    if not isinstance(v, int | float) or v != v:
        return "–"
    return f"{v / 60:.1f} min"


def summary_lines(report: Mapping[str, Any]) -> list[str]:
    """The key figures printed above the plots (the numbers of ``report --json``)."""
    iv = report["intervals_s"]
    esc = report["escalations"]
    util = report["team_utilization"]
    mean_util = sum(util.values()) / len(util) if util else 0.0
    lines = [
        f"Calls received {report['calls_received']}   cleared {report['calls_cleared']}   "
        f"escalated {report['calls_escalated']}   eligible but not served by a team "
        f"{report['eligible_not_served']}",
        "Escalations: "
        + "   ".join(f"{k.replace('_', ' ')} {v}" for k, v in esc.items())
        + f"   ·   mean team utilisation {mean_util * 100:.0f}%",
    ]
    parts = []
    for name, label in INTERVAL_LABELS.items():
        s = iv[name]
        parts.append(f"{label}: p50 {_fmt_s(s['p50'])}, p90 {_fmt_s(s['p90'])} (n={s['n']})")
    lines.append("   ·   ".join(parts))
    return lines


def paint_summary(
    painter: QPainter,
    rect: QRect,
    agg: Aggregates,
    now: datetime,
    x_lo: float,
    colors: PlotColors,
    targets: Mapping[str, float],
    window_label: str,
) -> None:
    """Header with the key figures, then every plot, scaled into ``rect``."""
    painter.fillRect(rect, QColor(colors.background))
    pad = rect.width() * 0.015
    start = datetime.fromtimestamp(max(x_lo, agg.t0), agg.tz)
    end = now.astimezone(agg.tz)
    report = agg.report(start, end)

    title_font = QFont()
    title_font.setPixelSize(max(12, int(rect.height() * 0.03)))
    title_font.setBold(True)
    body_font = QFont()
    body_font.setPixelSize(max(9, int(rect.height() * 0.017)))
    painter.setPen(QColor(colors.text))
    painter.setFont(title_font)
    y = rect.top() + pad
    line_h = title_font.pixelSize() * 1.4
    painter.drawText(
        QRectF(rect.left() + pad, y, rect.width() - 2 * pad, line_h),
        int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
        f"Workload summary — {window_label}: {start:%a %d %b %Y %H:%M} to "
        + (f"{end:%H:%M %Z}" if end.date() == start.date() else f"{end:%a %d %b %H:%M %Z}"),
    )
    y += line_h
    painter.setFont(body_font)
    body_h = body_font.pixelSize() * 1.45
    for line in summary_lines(report):
        painter.drawText(
            QRectF(rect.left() + pad, y, rect.width() - 2 * pad, body_h),
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            line,
        )
        y += body_h
    y += pad / 2

    ps = PlotSet(colors, targets, font_pt=10)
    try:
        w, h = SUMMARY_SCENE
        ps.widget.ci.setGeometry(QRectF(0, 0, w, h))
        ps.widget.ci.layout.activate()
        ps.update(agg, now, x_lo)
        ps.widget.ci.layout.activate()
        avail = QRectF(rect.left() + pad, y, rect.width() - 2 * pad, rect.bottom() - y - pad)
        scale = min(avail.width() / w, avail.height() / h)
        target = QRectF(avail.left(), avail.top(), w * scale, h * scale)
        # Through an image at the target's device size: point-sized tick labels would otherwise
        # be resolved at the PDF's resolution and swamp the plots.
        img = QImage(max(1, round(target.width())), max(1, round(target.height())), _ARGB)
        img.fill(QColor(colors.background))
        inner = QPainter(img)
        try:
            inner.setRenderHint(QPainter.RenderHint.Antialiasing)
            inner.setRenderHint(QPainter.RenderHint.TextAntialiasing)
            ps.widget.scene().render(inner, QRectF(img.rect()), QRectF(0, 0, w, h))
        finally:
            inner.end()
        painter.drawImage(target, img)
    finally:
        ps.widget.close()
        ps.widget.deleteLater()


def export_summary(
    path: str | Path,
    agg: Aggregates,
    now: datetime,
    x_lo: float,
    colors: PlotColors,
    targets: Mapping[str, float],
    window_label: str,
) -> Path:
    """Write the one-page summary; ``.pdf`` gives A4 landscape, anything else a PNG image."""
    p = Path(path)
    if p.suffix.lower() == ".pdf":
        writer = QPdfWriter(str(p))
        writer.setResolution(150)
        writer.setPageLayout(
            QPageLayout(
                QPageSize(QPageSize.PageSizeId.A4),
                QPageLayout.Orientation.Landscape,
                QMarginsF(8, 8, 8, 8),
                QPageLayout.Unit.Millimeter,
            )
        )
        writer.setTitle(f"Workload summary — {window_label}")
        painter = QPainter()
        if not painter.begin(writer):
            raise ExportError(f"cannot write {p}: the PDF could not be opened for writing")
        try:
            paint_summary(
                painter, painter.viewport(), agg, now, x_lo, colors, targets, window_label
            )
        finally:
            painter.end()
    else:
        img = QImage(2000, 1300, QImage.Format.Format_ARGB32)
        img.fill(QColor(colors.background))
        painter = QPainter(img)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            paint_summary(painter, img.rect(), agg, now, x_lo, colors, targets, window_label)
        finally:
            painter.end()
        try:
            create_private(p)  # Qt writes into it and keeps its mode
        except OSError as exc:
            raise ExportError(f"cannot write {p}: {exc.strerror or exc}") from exc
        saved = img.save(str(p), "PNG")  # type: ignore[call-overload]
        if not saved:
            raise ExportError(f"cannot write {p}: the image could not be saved")
    if not p.is_file() or p.stat().st_size == 0:
        raise ExportError(f"cannot write {p}: nothing was written")
    return _private(p)
