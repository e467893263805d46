"""The replay timeline: a strip under the window with the shift's event density, key events,
trainer bookmarks and decision points, and the playback controls.

Drag on the strip to seek. Keyboard: Space play/pause, Left/Right step to the previous/next
event, +/- change speed, Ctrl+B add a bookmark.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QSizePolicy,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from console.replay.engine import SPEED_STEPS, Mark, ReplayEngine
from console.ui.core.context import ConsoleContext
from console.ui.replay.annotations import AnnotationDialog
from console.ui.replay.source import ReplayPictureSource
from console.ui.replay.training import TrainingController

log = logging.getLogger(__name__)

MARK_COLORS = {"escalation": "#ff9800", "overdue": "#ffd600", "backup": "#ff1744"}
MARK_SIZE = 9.0
"""A key event's mark on the strip, in pixels: wide enough to hit with the pointer."""
BOOKMARK_COLOR = "#40c4ff"
DECISION_COLOR = "#e040fb"
CURSOR_COLOR = "#ff5252"
DENSITY_COLOR = "#5c6bc0"


def speed_label(s: float) -> str:
    return f"{s:g}x"


class TimelineStrip(QWidget):
    """Density, marks, annotations and the cursor; press or drag to seek."""

    seek_requested = Signal(object)
    """(datetime) where the user pressed or dragged."""
    annotation_activated = Signal(int)
    mark_clicked = Signal(object)
    """(Mark) a key event's mark was clicked: go to its moment and select its call."""
    """(annotation id) double-clicked."""

    PAD = 8

    def __init__(self, engine: ReplayEngine, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.setObjectName("timeline-strip")
        self.setMinimumHeight(64)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.cursor_at: datetime = engine.start
        self.marks: list[Mark] = engine.marks()
        self.annotations: list[Any] = []
        self._density: list[int] = []
        self._density_width = -1
        self._drag_target: datetime | None = None
        self._pressed = False
        self._background: QPixmap | None = None
        self._background_key: tuple[int, int, float] = (0, 0, 0.0)
        self._drag_timer = QTimer(self)
        self._drag_timer.setSingleShot(True)
        self._drag_timer.setInterval(60)
        self._drag_timer.timeout.connect(self._flush_drag)

    def sizeHint(self) -> QSize:
        return QSize(800, 72)

    # -- geometry -------------------------------------------------------------------------------

    def _span_s(self) -> float:
        return max((self.engine.end - self.engine.start).total_seconds(), 1e-6)

    def x_of(self, t: datetime) -> float:
        w = self.width() - 2 * self.PAD
        frac = (t - self.engine.start).total_seconds() / self._span_s()
        return self.PAD + max(0.0, min(1.0, frac)) * w

    def time_at(self, x: float) -> datetime:
        w = max(self.width() - 2 * self.PAD, 1)
        frac = max(0.0, min(1.0, (x - self.PAD) / w))
        return self.engine.start + timedelta(seconds=frac * self._span_s())

    # -- updates --------------------------------------------------------------------------------

    def set_cursor(self, t: datetime) -> None:
        old = self.x_of(self.cursor_at)
        self.cursor_at = t
        new = self.x_of(t)
        if int(old) != int(new):
            lo, hi = int(min(old, new)) - 2, int(max(old, new)) + 3
            self.update(lo, 0, hi - lo, self.height())

    def set_annotations(self, annotations: list[Any]) -> None:
        self.annotations = list(annotations)
        self._background = None
        self.update()

    # -- painting -------------------------------------------------------------------------------

    def paintEvent(self, _event: QPaintEvent) -> None:
        # Everything but the cursor is drawn once into a pixmap: the cursor moves 25 times a
        # second during playback and must not redraw hundreds of bars and marks each time.
        ratio = self.devicePixelRatioF()
        size = self.size()
        if self._background is None or self._background_key != (size.width(), size.height(), ratio):
            self._background = self._render_background(ratio)
            self._background_key = (size.width(), size.height(), ratio)
        p = QPainter(self)
        p.drawPixmap(0, 0, self._background)
        x = self.x_of(self.cursor_at)
        p.setPen(QPen(QColor(CURSOR_COLOR), 2))
        p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        p.end()

    def _render_background(self, ratio: float) -> QPixmap:
        pm = QPixmap(max(1, int(self.width() * ratio)), max(1, int(self.height() * ratio)))
        pm.setDevicePixelRatio(ratio)
        pm.fill(self.palette().base().color())
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        h = self.height()
        bins = max(1, (self.width() - 2 * self.PAD) // 3)
        if bins != self._density_width:
            self._density = self.engine.density(bins)
            self._density_width = bins
        peak = max(self._density, default=0) or 1
        bar_top, bar_bottom = 16, h - 18
        bw = (self.width() - 2 * self.PAD) / bins
        color = QColor(DENSITY_COLOR)
        for i, n in enumerate(self._density):
            if n:
                bh = max(1.0, (bar_bottom - bar_top) * n / peak)
                p.fillRect(
                    QRectF(self.PAD + i * bw, bar_bottom - bh, max(bw - 0.5, 1.0), bh), color
                )
        # hour ticks
        p.setPen(QPen(self.palette().text().color(), 1))
        span_h = self._span_s() / 3600
        step = 1 if span_h <= 30 else 6 if span_h <= 24 * 4 else 24
        t = self.engine.start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        font = p.font()
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        p.setFont(font)
        last_label_x = -1e9
        while t < self.engine.end:
            if t.hour % step == 0:
                x = self.x_of(t)
                p.drawLine(QPointF(x, bar_bottom), QPointF(x, bar_bottom + 4))
                if x - last_label_x > 44:
                    label = f"{t.astimezone():%H:%M}" if step < 24 else f"{t.astimezone():%a %d}"
                    p.drawText(QPointF(x - 14, h - 3), label)
                    last_label_x = x
            t += timedelta(hours=1)
        # key events along the top, told apart by shape as well as colour (escalation: a
        # triangle pointing down, overdue: a circle, backup: a square), outlined for contrast
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        outline = QPen(self.palette().text().color(), 1)
        for m in self.marks:
            x = self.x_of(m.at)
            p.setPen(outline)
            p.setBrush(QColor(MARK_COLORS.get(m.kind, "#ffffff")))
            r = MARK_SIZE / 2
            if m.kind == "escalation":
                p.drawPolygon(
                    QPolygonF([QPointF(x - r, 2), QPointF(x + r, 2), QPointF(x, 2 + MARK_SIZE)])
                )
            elif m.kind == "overdue":
                p.drawEllipse(QPointF(x, 2 + r), r, r)
            else:
                p.drawRect(QRectF(x - r, 2, MARK_SIZE, MARK_SIZE))
        # bookmarks and decision points: flags on the bar area
        for a in self.annotations:
            x = self.x_of(a.at)
            c = QColor(DECISION_COLOR if a.kind == "decision" else BOOKMARK_COLOR)
            p.setPen(QPen(c, 1.5))
            p.drawLine(QPointF(x, bar_top), QPointF(x, bar_bottom))
            p.setBrush(c)
            if a.kind == "decision":
                poly = QPolygonF(
                    [
                        QPointF(x, bar_top - 1),
                        QPointF(x + 6, bar_top + 5),
                        QPointF(x, bar_top + 11),
                        QPointF(x - 6, bar_top + 5),
                    ]
                )
            else:
                poly = QPolygonF(
                    [QPointF(x, bar_top), QPointF(x + 9, bar_top + 4), QPointF(x, bar_top + 8)]
                )
            p.drawPolygon(poly)
        p.end()
        return pm

    # -- mouse ----------------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            x = event.position().x()
            m = self.mark_near(x) if event.position().y() <= 4 + MARK_SIZE else None
            if m is not None:
                # A key event's mark is a target: the click lands exactly on its moment.
                self.set_cursor(m.at)
                self.mark_clicked.emit(m)
                return
            self._pressed = True
            t = self.time_at(x)
            self.set_cursor(t)
            self.seek_requested.emit(t)

    def mark_near(self, x: float) -> Any:
        """The key event whose mark is under ``x`` (within its half width and a little)."""
        best, dist = None, MARK_SIZE / 2 + 2
        for m in self.marks:
            d = abs(self.x_of(m.at) - x)
            if d <= dist:
                best, dist = m, d
        return best

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        x = event.position().x()
        if self._pressed:
            # Coalesced: a drag seeks at most ~16 times a second, and once more on release.
            self._drag_target = self.time_at(x)
            self.set_cursor(self._drag_target)
            if not self._drag_timer.isActive():
                self._drag_timer.start()
            return
        tip = self._tip_at(x)
        if tip:
            QToolTip.showText(event.globalPosition().toPoint(), tip, self)
        else:
            QToolTip.hideText()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._pressed:
            self._pressed = False
            self._drag_timer.stop()
            self._drag_target = None
            t = self.time_at(event.position().x())
            self.set_cursor(t)
            self.seek_requested.emit(t)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        a = self._annotation_near(event.position().x())
        if a is not None:
            self.annotation_activated.emit(a.id)

    def _flush_drag(self) -> None:
        if self._drag_target is not None:
            t, self._drag_target = self._drag_target, None
            self.seek_requested.emit(t)

    def _annotation_near(self, x: float) -> Any:
        best, dist = None, 6.0
        for a in self.annotations:
            d = abs(self.x_of(a.at) - x)
            if d <= dist:
                best, dist = a, d
        return best

    def _tip_at(self, x: float) -> str:
        lines: list[str] = []
        a = self._annotation_near(x)
        if a is not None:
            what = "Decision point" if a.kind == "decision" else "Bookmark"
            lines.append(f"{what} {a.at.astimezone():%H:%M:%S}: {a.title}")
            if a.note:
                lines.append(a.note)
        for m in self.marks:
            if abs(self.x_of(m.at) - x) <= 3:
                lines.append(f"{m.at.astimezone():%H:%M:%S} {m.label}")
                if len(lines) > 6:
                    break
        return "\n".join(lines)


class TimelinePanel(QWidget):
    """The replay strip and its controls (constructed with the replay's ``ctx``)."""

    def __init__(self, ctx: ConsoleContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        src = ctx.pictures
        if not isinstance(src, ReplayPictureSource):
            raise TypeError("the timeline needs a ReplayPictureSource (replay mode only)")
        self.ctx = ctx
        self.source: ReplayPictureSource = src
        self.engine = src.engine
        self.shift_file: Any = src.shift_file
        self.setObjectName("timeline")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self.strip = TimelineStrip(self.engine, self)
        self.prev_btn = self._button("Previous", "Previous event (Left)", src.step_previous)
        self.play_btn = self._button("Play", "Play / pause (Space)", src.toggle)
        self.next_btn = self._button("Next", "Next event (Right)", src.step_next)
        # Glyphs in the theme's own text colour on a framed button: readable in both themes
        # (the style's media icons are dark grey, lost on the dark theme).
        for b, glyph in ((self.prev_btn, "|◀"), (self.play_btn, "▶"), (self.next_btn, "▶|")):
            b.setAccessibleName(b.text())
            b.setText(glyph)
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            b.setAutoRaise(False)
            b.setMinimumSize(36, 28)
            b.setObjectName("replay-control")
            b.setStyleSheet(
                "QToolButton#replay-control { font-size: 15px; font-weight: bold;"
                " color: palette(text); border: 1px solid palette(text); border-radius: 4px;"
                " padding: 1px 6px; }"
                " QToolButton#replay-control:focus { border: 2px solid palette(highlight); }"
            )
        self.speed_box = QComboBox(self)
        self.speed_box.setToolTip("Playback speed (+ / -)")
        for s in SPEED_STEPS:
            self.speed_box.addItem(speed_label(s), float(s))
        self.speed_box.currentIndexChanged.connect(self._speed_picked)
        self.time_label = QLabel(self)
        self.time_label.setObjectName("timeline-time")
        # A fixed width: a label that resizes with its digits would re-layout the whole window
        # 25 times a second during playback.
        fm = self.time_label.fontMetrics()
        self.time_label.setFixedWidth(
            fm.horizontalAdvance("Wed 30 Sep 00:00:00  (+000:00:00)") + 12
        )
        self.jump_btns = {
            kind: self._button(
                label,
                f"Jump to the next {label.lower()} (Shift+click: the previous one)",
                lambda _=False, k=kind: self._jump(
                    k,
                    back=bool(QApplication.keyboardModifiers() & Qt.KeyboardModifier.ShiftModifier),
                ),
                text=True,
            )
            for kind, label in (
                ("escalation", "Escalation"),
                ("overdue", "Overdue call"),
                ("backup", "Backup request"),
            )
        }
        for kind, b in self.jump_btns.items():
            b.setStyleSheet(f"QToolButton {{ border-bottom: 3px solid {MARK_COLORS[kind]}; }}")
        self.bookmark_btn = self._button(
            "Bookmark…", "Add a bookmark here (Ctrl+B)", self.add_bookmark, text=True
        )
        self.decision_btn = self._button(
            "Decision point…", "Mark a decision point here", self.add_decision, text=True
        )
        self.training_box = QCheckBox("Training mode", self)
        self.training_box.setToolTip("Pause at each decision point and ask the trainee")
        self.debrief_btn = self._button(
            "Debrief…", "The decisions side by side", self.show_debrief, text=True
        )
        self.training = TrainingController(ctx, src, self.shift_file, self)
        self.training_box.toggled.connect(self.training.set_enabled)
        if self.shift_file is None:
            for b in (self.bookmark_btn, self.decision_btn):
                b.setEnabled(False)
                b.setToolTip("Bookmarks are saved in a shift file: open one to add them")

        row = QHBoxLayout()
        row.setContentsMargins(4, 2, 4, 0)
        left: tuple[QWidget, ...] = (
            self.prev_btn,
            self.play_btn,
            self.next_btn,
            self.speed_box,
            self.time_label,
        )
        for w in left:
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(QLabel("Next:", self))
        for b in self.jump_btns.values():
            row.addWidget(b)
        row.addSpacing(12)
        right: tuple[QWidget, ...] = (
            self.bookmark_btn,
            self.decision_btn,
            self.training_box,
            self.debrief_btn,
        )
        for w in right:
            row.addWidget(w)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 2)
        lay.setSpacing(2)
        lay.addLayout(row)
        lay.addWidget(self.strip)

        self._actions: dict[str, QAction] = {}
        for name, keys, fn in (
            ("play", ("Space",), src.toggle),
            ("previous", ("Left",), src.step_previous),
            ("next", ("Right",), src.step_next),
            ("faster", ("+", "="), src.faster),
            ("slower", ("-",), src.slower),
            ("bookmark", ("Ctrl+B",), self.add_bookmark),
            ("next moment", ("Ctrl+Right", "]"), lambda: self.jump_moment(back=False)),
            ("previous moment", ("Ctrl+Left", "["), lambda: self.jump_moment(back=True)),
        ):
            act = QAction(name, self)
            act.setShortcuts([QKeySequence(k) for k in keys])
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(lambda _=False, f=fn: f())
            self.addAction(act)
            self._actions[name] = act

        self.strip.seek_requested.connect(src.seek)
        self.strip.annotation_activated.connect(self.edit_annotation)
        self.strip.mark_clicked.connect(self._mark_clicked)
        src.position_changed.connect(self._on_position)
        src.playing_changed.connect(self._on_playing)
        src.speed_changed.connect(self._on_speed)
        self._on_speed(src.speed)
        self._on_playing(src.playing)
        self._on_position(src.now())
        self.reload_annotations()

    def _button(self, label: str, tip: str, fn: Any, *, text: bool = False) -> QToolButton:
        b = QToolButton(self)
        b.setText(label)
        b.setToolTip(tip)
        b.setAutoRaise(not text)
        if not text:
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        b.clicked.connect(lambda _=False: fn())
        return b

    # -- keyboard (when the panel itself has focus and the window shortcuts are not active) --------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        handlers = {
            Qt.Key.Key_Space: self.source.toggle,
            Qt.Key.Key_Left: self.source.step_previous,
            Qt.Key.Key_Right: self.source.step_next,
            Qt.Key.Key_Plus: self.source.faster,
            Qt.Key.Key_Equal: self.source.faster,
            Qt.Key.Key_Minus: self.source.slower,
        }
        fn = handlers.get(Qt.Key(key))
        if fn is None:
            super().keyPressEvent(event)
            return
        fn()
        event.accept()

    # -- reactions ------------------------------------------------------------------------------

    def _on_position(self, t: datetime) -> None:
        self.strip.set_cursor(t)
        elapsed = t - self.engine.start
        h, rem = divmod(int(elapsed.total_seconds()), 3600)
        self.time_label.setText(
            f"{t.astimezone():%a %d %b %H:%M:%S}  (+{h}:{rem // 60:02d}:{rem % 60:02d})"
        )

    def _on_playing(self, playing: bool) -> None:
        self.play_btn.setText("▮▮" if playing else "▶")
        self.play_btn.setAccessibleName("Pause" if playing else "Play")

    def _on_speed(self, speed: float) -> None:
        i = self.speed_box.findData(float(speed))
        self.speed_box.blockSignals(True)
        if i < 0:
            self.speed_box.addItem(speed_label(speed), float(speed))
            i = self.speed_box.count() - 1
        self.speed_box.setCurrentIndex(i)
        self.speed_box.blockSignals(False)

    def _speed_picked(self, i: int) -> None:
        v = self.speed_box.itemData(i)
        if v is not None:
            self.source.set_speed(float(v))

    def _jump(self, kind: str, back: bool = False) -> None:
        m = self.source.jump_to_previous(kind) if back else self.source.jump_to_next(kind)
        if m is not None:
            self._select_mark(m)
        else:
            self._say(f"No {'earlier' if back else 'later'} {kind.replace('_', ' ')} in this shift")

    def _mark_clicked(self, m: Mark) -> None:
        self.source.seek(m.at)
        self._select_mark(m)

    def _say(self, text: str) -> None:
        self.time_label.setToolTip(text)
        QToolTip.showText(self.mapToGlobal(self.time_label.geometry().bottomLeft()), text, self)

    def moments(self) -> list[tuple[datetime, str, str]]:
        """Every key moment in time order: escalations, overdue calls, backup requests, and the
        trainer's bookmarks and decision points, as (when, what, call or team)."""
        out = [(m.at, m.kind, m.subject) for m in self.source.engine.marks()]
        out += [(a.at, a.kind, a.call_id or "") for a in self.strip.annotations]
        return sorted(out, key=lambda x: (x[0], x[1], x[2]))

    def jump_moment(self, *, back: bool) -> tuple[datetime, str, str] | None:
        """To the next (or previous) key moment of any kind, selecting its call or team."""
        now = self.source.now()
        found = [m for m in self.moments() if (m[0] < now if back else m[0] > now)]
        if not found:
            self._say(f"No {'earlier' if back else 'later'} key moment in this shift")
            return None
        at, kind, subject = found[-1] if back else found[0]
        self.source.seek(at)
        if subject:
            self._select_mark(Mark(at, kind, subject, ""))
        return at, kind, subject

    def _select_mark(self, m: Any) -> None:
        """The call a moment is about is selected everywhere, and shown even if it has closed
        (an escalation closes it); for a backup request, the team and the call it works."""
        st = self.source.current().state
        sel = self.ctx.selection
        call_id = m.subject if m.subject in st.calls else None
        team = st.teams.get(m.subject)
        if team is not None:
            sel.select_team(team.id)
            call_id = team.call
        if call_id:
            sel.reveal_call(call_id)

    # -- annotations ------------------------------------------------------------------------------

    def reload_annotations(self) -> None:
        from console.replay.engine import ReplayError

        try:
            anns = self.shift_file.annotations() if self.shift_file is not None else []
        except ReplayError as exc:  # a damaged annotation table must not close the replay
            log.error("cannot read the bookmarks: %s", exc)
            anns = []
        self.strip.set_annotations(anns)
        self.training.reload()

    def _save(self, fn: Any) -> bool:
        from console.replay.engine import ReplayError

        try:
            fn()
        except ReplayError as exc:
            QMessageBox.warning(self, "Could not save", str(exc))
            return False
        self.reload_annotations()
        return True

    def add_bookmark(self, kind: str = "bookmark") -> AnnotationDialog | None:
        if self.shift_file is None:
            return None
        self.source.pause()
        at = self.source.now()
        state = self.source.current().state
        dlg = AnnotationDialog(kind, at, state, parent=self)

        def accepted() -> None:
            v = dlg.values()
            self._save(
                lambda: self.shift_file.add_annotation(
                    kind,
                    at,
                    v["title"],
                    v["note"],
                    call_id=v.get("call_id"),
                    author=self.ctx.operator,
                )
            )

        dlg.accepted.connect(accepted)
        dlg.open()
        return dlg

    def add_decision(self) -> AnnotationDialog | None:
        return self.add_bookmark("decision")

    def edit_annotation(self, aid: int) -> AnnotationDialog | None:
        if self.shift_file is None:
            return None
        ann = next((a for a in self.shift_file.annotations() if a.id == aid), None)
        if ann is None:
            return None
        self.source.seek(ann.at)
        dlg = AnnotationDialog(
            ann.kind, ann.at, self.source.current().state, existing=ann, parent=self
        )

        def accepted() -> None:
            if dlg.delete_requested:
                self._save(lambda: self.shift_file.delete_annotation(aid))
                return
            v = dlg.values()
            self._save(
                lambda: self.shift_file.update_annotation(aid, title=v["title"], note=v["note"])
            )

        dlg.accepted.connect(accepted)
        dlg.open()
        return dlg

    def show_debrief(self) -> Any:
        return self.training.show_debrief()
