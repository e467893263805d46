"""The monthly report drawn: charts painted by Qt into images, one self-contained HTML page (the
images inline) and a PDF from Qt's own writer. Works without a display (the offscreen
platform); the figures all come from :mod:`console.store.read.program`.
"""

from __future__ import annotations

import base64
import contextlib
import html
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QIODevice,
    QMarginsF,
    QPointF,
    QRectF,
    QSizeF,
    Qt,
    QUrl,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPainterPath,
    QPdfWriter,
    QPen,
    QTextDocument,
)

from console.store.read.program import (
    SECTIONS,
    UNSERVED_LABELS,
    WEEKDAYS,
    ProgramReport,
    Table,
)


class RenderError(RuntimeError):
    """A report that could not be written; the message names the file and why."""


INK = QColor("#1f2933")
MUTED = QColor("#616e7c")
GRID = QColor("#d9dee3")
BAR = QColor("#2f6f9f")
BAR2 = QColor("#e08a2c")
TARGET = QColor("#c0392b")
SCALE = 2
IMAGE_W = 760
"""Width of a chart in the HTML page (CSS pixels)."""
PAGE_W = 688
"""Width of the PDF's text, in 96-dpi units: A4 less 14 mm margins."""
"""Pixels per drawn unit: charts are painted at twice their size so print stays sharp."""


def ensure_app() -> None:
    """A Qt application for painting text; offscreen when there is no display."""
    if QGuiApplication.instance() is not None:
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    QGuiApplication([])


@dataclass(frozen=True, slots=True)
class Chart:
    name: str
    title: str
    image: QImage


def _font(px: float, bold: bool = False) -> QFont:
    f = QFont()
    f.setPixelSize(max(1, round(px)))
    f.setBold(bold)
    return f


def _canvas(w: int, h: int) -> tuple[QImage, QPainter]:
    img = QImage(w * SCALE, h * SCALE, QImage.Format.Format_ARGB32)
    img.fill(QColor("white"))
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    p.scale(SCALE, SCALE)
    return img, p


@contextlib.contextmanager
def _chart(w: int, h: int, title: str) -> Iterator[tuple[QImage, QPainter]]:
    """A white canvas with the chart's title at its top; the painter ends on leaving."""
    img, p = _canvas(w, h)
    try:
        p.setPen(INK)
        p.setFont(_font(14, True))
        p.drawText(QRectF(8, 4, w - 16, 22), int(Qt.AlignmentFlag.AlignLeft), title)
        yield img, p
    finally:
        p.end()


def _grid(
    p: QPainter, box: tuple[float, float, float, float], axes: Sequence[tuple[float, QColor, bool]]
) -> None:
    """Four horizontal grid lines in ``box`` (left, top, right, bottom), and a scale per axis
    (its top value, its colour, on the right side or not)."""
    left, top, right, bottom = box
    p.setFont(_font(11))
    for i in range(5):
        y = bottom - (bottom - top) * i / 4
        p.setPen(QPen(GRID, 1))
        p.drawLine(QPointF(left, y), QPointF(right, y))
        for vmax, colour, on_right in axes:
            p.setPen(colour)
            if on_right:
                rect, align = QRectF(right + 5, y - 8, 40, 16), Qt.AlignmentFlag.AlignLeft
            else:
                rect, align = QRectF(0, y - 8, left - 5, 16), Qt.AlignmentFlag.AlignRight
            p.drawText(rect, int(align | Qt.AlignmentFlag.AlignVCenter), _num(vmax * i / 4))


def _legend(
    p: QPainter, x0: float, y: float, items: Sequence[tuple[str, QColor]], spacing: float
) -> None:
    """A colour swatch and its words per item, in a row from ``x0``."""
    for k, (lab, colour) in enumerate(items):
        x = x0 + k * spacing
        p.fillRect(QRectF(x, y + 4, 14, 10), colour)
        p.setPen(INK)
        p.drawText(QRectF(x + 20, y, spacing - 30, 18), int(Qt.AlignmentFlag.AlignLeft), lab)


def _num(v: float) -> str:
    if v == int(v):
        return f"{int(v):,}"
    return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    mag = 10 ** len(str(int(v))) / 10
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * mag >= v:
            return float(m * mag)
    return float(v)


def column_chart(
    labels: Sequence[str], values: Sequence[float], title: str, *, w: int = 760, h: int = 240
) -> QImage:
    """Vertical bars (hours of a day, days of a week)."""
    with _chart(w, h, title) as (img, p):
        left, top, right, bottom = 48.0, 34.0, w - 12.0, h - 26.0
        top_v = _nice_max(max(values, default=0))
        _grid(p, (left, top, right, bottom), [(top_v, MUTED, False)])
        n = max(1, len(values))
        slot = (right - left) / n
        step = max(1, round(28 / slot))  # labels no closer than about 28 units
        for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
            x = left + i * slot
            bh = (bottom - top) * v / top_v
            p.fillRect(QRectF(x + slot * 0.12, bottom - bh, slot * 0.76, bh), BAR)
            if i % step == 0:
                p.setPen(MUTED)
                p.drawText(
                    QRectF(x - slot, bottom + 3, slot * 3, 16),
                    int(Qt.AlignmentFlag.AlignHCenter),
                    lab,
                )
    return img


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    title: str,
    *,
    w: int = 760,
    fmt: Callable[[float], str] = _num,
    top_value: float | None = None,
) -> QImage:
    """Horizontal bars, one per category, the value written at the bar's end."""
    rows = max(1, len(values))
    bar_h = 20
    h = 40 + rows * bar_h + 10
    with _chart(w, h, title) as (img, p):
        p.setFont(_font(12))
        fm = QFontMetricsF(p.font())
        label_w = min(w * 0.42, max((fm.horizontalAdvance(s) for s in labels), default=0) + 12)
        left, right, top = 8 + label_w, w - 70.0, 34.0
        top_v = top_value if top_value is not None else max(max(values, default=0), 1e-9)
        if not values:
            p.setPen(MUTED)
            p.drawText(QRectF(8, top, w - 16, bar_h), int(Qt.AlignmentFlag.AlignLeft), "none")
        for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
            y = top + i * bar_h
            p.setPen(INK)
            p.drawText(
                QRectF(8, y, label_w - 8, bar_h),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                fm.elidedText(lab, Qt.TextElideMode.ElideRight, label_w - 8),
            )
            bw = (right - left) * (v / top_v if top_v else 0)
            p.fillRect(QRectF(left, y + 3, max(bw, 0.0), bar_h - 6), BAR)
            p.setPen(MUTED)
            p.drawText(
                QRectF(left + bw + 4, y, 80, bar_h),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                fmt(v),
            )
    return img


def interval_chart(rows: Sequence[Sequence[Any]], title: str, *, w: int = 760) -> QImage:
    """Median and 90th percentile of each interval (minutes), the target as a red tick."""
    bar_h = 34
    h = 60 + len(rows) * bar_h
    with _chart(w, h, title) as (img, p):
        p.setFont(_font(12))
        label_w = 190.0
        left, right, top = label_w + 8, w - 90.0, 34.0
        vals = [float(r[2]) for r in rows] + [float(r[3]) for r in rows]
        vals += [float(r[5]) for r in rows if r[5] != ""]
        top_v = _nice_max(max(vals, default=0) / 60)
        for i, r in enumerate(rows):
            y = top + i * bar_h
            p.setPen(INK)
            p.drawText(
                QRectF(8, y, label_w - 8, bar_h),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                str(r[0])
                .replace("_to_", " → ")
                .replace("onscene", "on scene")
                .replace("enroute", "en route"),
            )
            tx = (right - left) * float(r[5]) / 60 / top_v if r[5] != "" else -1.0
            for k, (col, colour) in enumerate(((2, BAR), (3, BAR2))):
                v = float(r[col]) / 60
                bw = (right - left) * v / top_v
                p.fillRect(QRectF(left, y + 4 + k * 13, bw, 11), colour)
                p.setPen(MUTED)
                p.setFont(_font(10))
                lx = tx + 5 if bw - 2 < tx < bw + 56 else bw + 4  # clear of the target
                p.drawText(
                    QRectF(left + lx, y + 2 + k * 13, 90, 14),
                    int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                    f"{v:.1f} min",
                )
                p.setFont(_font(12))
            if r[5] != "":
                x = left + (right - left) * float(r[5]) / 60 / top_v
                p.setPen(QPen(TARGET, 2.5))
                p.drawLine(QPointF(x, y + 1), QPointF(x, y + bar_h - 5))
        y = top + len(rows) * bar_h + 4
        p.setFont(_font(11))
        _legend(p, left, y, (("median", BAR), ("90th percentile", BAR2), ("target", TARGET)), 150)
    return img


def week_chart(
    calls: Sequence[float], teams: Sequence[float], title: str, *, w: int = 760, h: int = 260
) -> QImage:
    """Calls per hour and teams on duty over the 168 hours of a week, each on its own axis."""
    with _chart(w, h, title) as (img, p):
        left, top, right, bottom = 44.0, 34.0, w - 44.0, h - 46.0
        cmax = _nice_max(max(calls, default=0))
        tmax = _nice_max(max(teams, default=0))
        _grid(p, (left, top, right, bottom), [(cmax, BAR, False), (tmax, BAR2, True)])
        n = max(1, len(calls))
        dx = (right - left) / n
        for d in range(8):
            x = left + d * 24 * dx
            p.setPen(QPen(GRID, 1))
            p.drawLine(QPointF(x, top), QPointF(x, bottom))
            if d < 7:
                p.setPen(MUTED)
                p.drawText(
                    QRectF(x, bottom + 3, 24 * dx, 16),
                    int(Qt.AlignmentFlag.AlignHCenter),
                    WEEKDAYS[d],
                )
        for series, vmax, colour in ((calls, cmax, BAR), (teams, tmax, BAR2)):
            path = QPainterPath()
            for i, v in enumerate(series):
                pt = QPointF(left + (i + 0.5) * dx, bottom - (bottom - top) * v / vmax)
                if i == 0:
                    path.moveTo(pt)
                else:
                    path.lineTo(pt)
            p.setPen(QPen(colour, 2))
            p.drawPath(path)
        items = (("calls per hour (left axis)", BAR), ("teams on duty (right axis)", BAR2))
        _legend(p, left, h - 22, items, 260)
    return img


def _pct(v: float) -> str:
    return f"{v * 100:.0f}%"


def charts(rep: ProgramReport) -> dict[str, list[Chart]]:
    """The report's charts, by section."""
    ensure_app()
    t = rep.tables
    out: dict[str, list[Chart]] = {s: [] for s in SECTIONS}

    def add(section: str, name: str, title: str, image: QImage) -> None:
        out[section].append(Chart(name, title, image))

    hour = t["volume_by_hour"]
    add(
        "Volume",
        "volume_by_hour",
        "Calls by hour of day",
        column_chart(
            [f"{h:02d}" for h in hour.column("hour")],
            hour.column("calls"),
            "Calls by hour of day (local time)",
        ),
    )
    day = t["volume_by_weekday"]
    add(
        "Volume",
        "volume_by_weekday",
        "Calls by day of week",
        column_chart(day.column("weekday"), day.column("calls"), "Calls by day of week", h=200),
    )
    ty = t["volume_by_type"]
    add(
        "Volume",
        "volume_by_type",
        "Calls by type",
        bar_chart(ty.column("label"), ty.column("calls"), "Calls by type"),
    )
    nb = t["volume_by_neighborhood"]
    top_nb = nb.rows[:15]
    add(
        "Volume",
        "volume_by_neighborhood",
        "Calls by neighborhood",
        bar_chart(
            [r[0] for r in top_nb],
            [r[1] for r in top_nb],
            "Calls by neighborhood" + (" (15 busiest)" if len(nb.rows) > 15 else ""),
        ),
    )
    sv = {r[0]: r[1] for r in t["service"].rows}
    add(
        "Volume",
        "service",
        "Eligible, served and not served",
        bar_chart(
            ["Eligible", "Served", "Not served", "Still open, no team"],
            [sv["eligible"], sv["served"], sv["not_served"], sv["open_without_team"]],
            "Eligible calls: served and not served",
        ),
    )
    rs = [r for r in t["unserved_reasons"].rows if r[2]]
    add(
        "Volume",
        "unserved_reasons",
        "Why eligible calls were not served",
        bar_chart(
            [UNSERVED_LABELS[r[0]] for r in rs],
            [r[2] for r in rs],
            "Why eligible calls were not served",
        ),
    )
    add(
        "Timeliness",
        "timeliness",
        "Response intervals",
        interval_chart(t["timeliness"].rows, "Response intervals: median and 90th percentile"),
    )
    esc = t["escalations_by_target"]
    add(
        "Safety",
        "escalations_by_target",
        "Escalations by target",
        bar_chart(
            [str(x).replace("_", " ") for x in esc.column("target")],
            esc.column("calls"),
            "Escalations by target",
        ),
    )
    oc = t["outcomes"]
    add(
        "Outcomes and follow-ups",
        "outcomes",
        "Program outcomes",
        bar_chart(oc.column("label"), oc.column("calls"), "Program outcomes"),
    )
    ds = t["dispositions"]
    add(
        "Outcomes and follow-ups",
        "dispositions",
        "Dispositions",
        bar_chart(
            [str(x).replace("_", " ") for x in ds.column("disposition")][:15],
            ds.column("calls")[:15],
            "Dispositions",
        ),
    )
    tu = t["team_utilization"]
    add(
        "Coverage",
        "team_utilization",
        "Utilisation by team",
        bar_chart(
            tu.column("team"),
            tu.column("utilisation"),
            "Utilisation by team",
            fmt=_pct,
            top_value=1.0,
        ),
    )
    wk = t["demand_by_hour_of_week"]
    add(
        "Coverage",
        "demand_by_hour_of_week",
        "Demand against staffed teams",
        week_chart(
            wk.column("calls_per_hour"),
            wk.column("teams_on_duty"),
            "Demand against staffed teams by hour of week",
        ),
    )
    lg = t["languages"]
    add(
        "Equity",
        "languages",
        "Calls by language",
        bar_chart(lg.column("language")[:12], lg.column("calls")[:12], "Calls by language"),
    )
    return out


def png_bytes(img: QImage) -> bytes:
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")  # type: ignore[call-overload]
    buf.close()
    return bytes(data.data())


# -- the document ------------------------------------------------------------------------------

CSS = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; color: #1f2933; max-width: 900px;
       margin: 24px auto; font-size: 10pt; }
h1 { font-size: 18pt; margin-bottom: 2px; }
h2 { font-size: 14pt; border-bottom: 1px solid #9aa5b1; margin-top: 18px; }
h3 { font-size: 11pt; margin-bottom: 4px; }
p.note { color: #616e7c; font-size: 9pt; }
table { border-collapse: collapse; margin: 4px 0 10px 0; }
th, td { border: 1px solid #d9dee3; padding: 2px 8px; font-size: 9pt; white-space: nowrap; }
th { background: #eef1f4; text-align: left; }
td.n { text-align: right; }
img { width: 760px; }
"""


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f'<td class="n">{v:,.4g}</td>' if abs(v) < 1e5 else f'<td class="n">{v:,.0f}</td>'
    if isinstance(v, int):
        return f'<td class="n">{v:,}</td>'
    return f"<td>{html.escape(str(v))}</td>"


def _table_html(t: Table, limit: int | None = None) -> str:
    rows = t.rows if limit is None else t.rows[:limit]
    head = "".join(f"<th>{html.escape(c)}</th>" for c, _ in t.columns)
    body = "".join("<tr>" + "".join(_cell(v) for v in r) + "</tr>" for r in rows)
    more = (
        f'<p class="note">{len(t.rows) - len(rows)} more rows in {t.name}.csv</p>'
        if len(rows) < len(t.rows)
        else ""
    )
    return (
        f'<h3>{html.escape(t.title)}</h3><p class="note">{html.escape(t.description)} '
        f"({t.name}.csv)</p><table><thead><tr>{head}</tr></thead>{body}</table>{more}"
    )


def _when(t: datetime, rep: ProgramReport) -> str:
    loc = t.astimezone(rep.tz)
    return html.escape(f"{loc:%a %d %b %Y %H:%M:%S}")


def document_html(rep: ProgramReport, image_src: Callable[[Chart], str]) -> str:
    """The report as HTML; ``image_src`` gives each chart's ``src`` (a data URI, a resource)."""
    ensure_app()
    f = rep.figures
    made = charts(rep)
    parts = [
        '<!DOCTYPE html><html><head><meta charset="utf-8">',
        f"<title>Program report {html.escape(rep.month)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>Program report — {html.escape(rep.month)}</h1>",
        f'<p class="note">Calls received from {_when(rep.start, rep)} to {_when(rep.end, rep)} '
        f"(local time, {html.escape(rep.timezone)}). "
        f"{f['calls_received']:,} calls received, {f['calls_cleared']:,} cleared, "
        f"{f['calls_escalated']:,} escalated, {f['eligible_not_served']:,} eligible calls not "
        "served. Every figure is in the CSV named beside it; data_dictionary.csv describes "
        "their columns.</p>",
    ]
    by_section: dict[str, list[Table]] = {s: [] for s in SECTIONS}
    for t in rep.tables.values():
        by_section[t.section].append(t)
    long_tables = {"demand_by_hour_of_week": 0, "volume_by_hour": 0, "volume_by_neighborhood": 15}
    for i, s in enumerate(SECTIONS):
        # Each section after the first starts a page when printed.
        brk = ' style="page-break-before: always"' if i else ""
        parts.append(f"<h2{brk}>{html.escape(s)}</h2>")
        for c in made[s]:
            parts.append(
                f'<p><img src="{image_src(c)}" alt="{html.escape(c.title)}" width="760"></p>'
            )
        for t in by_section[s]:
            lim = long_tables.get(t.name)
            if lim == 0:
                parts.append(
                    f'<p class="note">{html.escape(t.title)}: {len(t.rows)} rows in '
                    f"{t.name}.csv</p>"
                )
                continue
            parts.append(_table_html(t, lim))
    parts.append("</body></html>")
    return "\n".join(parts)


def _private(p: Path) -> Path:
    """Reports carry the program's figures: readable by their owner only."""
    with contextlib.suppress(OSError):
        os.chmod(p, 0o600)
    return p


def write_html(rep: ProgramReport, path: str | Path) -> Path:
    """One self-contained HTML file, the charts inline as PNG data."""
    p = Path(path)

    def src(c: Chart) -> str:
        return "data:image/png;base64," + base64.b64encode(png_bytes(c.image)).decode("ascii")

    try:
        p.write_text(document_html(rep, src), encoding="utf-8")
    except OSError as exc:
        raise RenderError(f"cannot write {p}: {exc.strerror or exc}") from exc
    return _private(p)


def write_pdf(rep: ProgramReport, path: str | Path) -> Path:
    """A4 portrait PDF from Qt's writer, laid out by QTextDocument from the same HTML."""
    ensure_app()
    p = Path(path)
    doc = QTextDocument()
    images: dict[str, QImage] = {}

    def src(c: Chart) -> str:
        images[c.name] = c.image
        return f"chart:{c.name}"

    text = document_html(rep, src)
    for name, img in images.items():
        doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(f"chart:{name}"), img)
    doc.setDefaultStyleSheet(CSS)
    # Laid out on an A4 page of 96-dpi units less the margins (the writer scales it to its
    # resolution), so a chart of IMAGE_W units fits the width.
    doc.setPageSize(QSizeF(PAGE_W, PAGE_W * 1.414 - 40))
    doc.setHtml(text.replace(f'width="{IMAGE_W}"', f'width="{PAGE_W - 20}"'))
    writer = QPdfWriter(str(p))
    writer.setResolution(150)
    writer.setTitle(f"Program report {rep.month}")
    writer.setCreator("Responder Console")
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(14, 14, 14, 14),
            QPageLayout.Unit.Millimeter,
        )
    )
    doc.print_(writer)
    del writer
    if not p.is_file() or p.stat().st_size == 0:
        raise RenderError(f"cannot write {p}: nothing was written")
    return _private(p)


def write_report(rep: ProgramReport, path: str | Path) -> Path:
    """``.pdf`` gives a PDF, ``.html``/``.htm`` an HTML page."""
    suffix = Path(path).suffix.lower()
    if suffix == ".pdf":
        return write_pdf(rep, path)
    if suffix in (".html", ".htm"):
        return write_html(rep, path)
    raise RenderError(f"cannot write {path}: the report is written as .html or .pdf")
