"""Alerts: the panel that lists them and the banner that cannot be missed.

What is alerting is derived by :mod:`console.domain.alerts` from the picture's state, clock and
link; this module only presents it. Acknowledging goes through the gateway as an ``AcknowledgeAlert`` command, so it is audited
with the operator, time and note.

A critical alert (a team asking for backup) raises the :class:`AlertBanner`: red, an icon and
words, flashing, with a sound where the machine has one, until someone acknowledges it.
Severity is always spelled out in text and symbol as well as colour.
"""

from __future__ import annotations

import logging
import math
import struct
import time
import wave
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.domain.alerts import (
    ack_command,
    collect_alerts,
    critical_alerts,
    link_alert,
    no_eligible_alerts,
    quarantine_alert,
    severity_counts,
    unknown_code_alerts,
)
from console.domain.commands import AcknowledgeAlert
from console.domain.events import Alert, AlertKind, Severity
from console.domain.model import CallStatus
from console.domain.projection import State
from console.files import create_private, private_dir
from console.ui.core import theme
from console.ui.core.labels import plain_tip

log = logging.getLogger(__name__)

SEVERITY_MARK: dict[Severity, str] = {
    Severity.CRITICAL: "⚠",
    Severity.HIGH: "▲",
    Severity.MEDIUM: "■",
    Severity.LOW: "•",
}
KIND_LABEL: dict[AlertKind, str] = {
    AlertKind.BACKUP_REQUEST: "Backup request",
    AlertKind.PENDING_OVERDUE: "Pending overdue",
    AlertKind.CHECKIN_OVERDUE: "Check-in overdue",
    AlertKind.POSITION_STALE: "Position stale",
    AlertKind.NO_ELIGIBLE_TEAM: "No eligible team",
    AlertKind.LINK_DOWN: "Dispatch link",
    AlertKind.UNKNOWN_CODE: "Unknown code",
    AlertKind.QUARANTINE: "Quarantined input",
    AlertKind.FEED_CONFLICT: "Conflicting dispatch data",
    AlertKind.DESTINATION_WAIT: "Waiting at destination",
    AlertKind.FOLLOWUP_OVERDUE: "Follow-up overdue",
    AlertKind.CHECKIN_ESCALATION: "Missed check-in",
}
ALERT_ID_ROLE = int(Qt.ItemDataRole.UserRole)
GROUP_ROLE = int(Qt.ItemDataRole.UserRole) + 1
"""A group row's key (``high:pending_overdue``); alert rows have none."""
GROUP_WORDS: dict[AlertKind, tuple[str, str]] = {
    AlertKind.BACKUP_REQUEST: ("backup request", "backup requests"),
    AlertKind.PENDING_OVERDUE: ("pending past limit", "pending past limit"),
    AlertKind.CHECKIN_OVERDUE: ("check-in overdue", "check-ins overdue"),
    AlertKind.POSITION_STALE: ("position stale", "positions stale"),
    AlertKind.NO_ELIGIBLE_TEAM: ("call with no eligible team", "calls with no eligible team"),
    AlertKind.LINK_DOWN: ("dispatch link alert", "dispatch link alerts"),
    AlertKind.UNKNOWN_CODE: ("unknown code", "unknown codes"),
    AlertKind.QUARANTINE: ("quarantined input", "quarantined inputs"),
    AlertKind.FEED_CONFLICT: ("conflicting record", "conflicting records"),
}
GROUP_OPEN_UP_TO = 8
"""A group of this many alerts or fewer starts open; a larger one, unless critical or high,
starts closed (its count says how many). The supervisor's choice is kept for the session."""
BANNER_SHORTCUT = "Ctrl+Shift+A"
PICTURE_REFRESH_S = 1.0
ROWS_PER_TURN = 12
"""Rows on screen rewritten per turn of the event loop (each one repaints)."""
OFFSCREEN_ROW_COST = 0.1
"""A row off screen costs its text only: ten of them count as one on screen."""
_Row = tuple[str, str, str, str, str, str]
"""What one row shows: alert id, severity, since, subject, alert text, severity colour."""
_Head = tuple[str, str, str]
"""What one group row shows: its key, its text, its colour."""
"""The alert list follows new pictures at most this often (the clock's tick does the rest)."""


def severity_text(sev: Severity) -> str:
    return f"{SEVERITY_MARK[sev]} {sev.value.upper()}"


def group_text(sev: Severity, kind: AlertKind, n: int) -> str:
    """``▲ HIGH · 13 pending past limit``"""
    one, many = GROUP_WORDS.get(kind, (kind.value, kind.value))
    return f"{severity_text(sev)} · {n} {one if n == 1 else many}"


def group_alerts(alerts: list[Alert]) -> list[tuple[str, Severity, AlertKind, list[Alert]]]:
    """Alerts by severity and kind, the groups in the order of their first alert (most severe,
    then longest waiting, first); each group keeps the alerts' order."""
    groups: dict[str, tuple[str, Severity, AlertKind, list[Alert]]] = {}
    for a in alerts:
        key = f"{a.severity.value}:{a.kind.value}"
        groups.setdefault(key, (key, a.severity, a.kind, []))[3].append(a)
    return list(groups.values())


def format_since(raised: datetime, now: datetime) -> str:
    """Whole minutes: alerts are minute-scale, and a text that changes once a minute costs
    hundreds of rows one update a minute instead of one a second."""
    m = max(0, int((now - raised).total_seconds())) // 60
    return f"{m} min" if m < 60 else f"{m // 60} h {m % 60:02d}"


# -- acknowledging ----------------------------------------------------------------------------------


class _Acker(QObject):
    """Submits acknowledgements and remembers which ones are on their way.

    An acknowledged alert is hidden at once; it stays hidden once the picture shows the ack,
    and reappears (with the reason) if the console refuses it.
    """

    failed = Signal(str, str)
    """(alert id, reason)"""
    changed = Signal()

    def __init__(self, ctx: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.hidden: set[str] = set()

    def acknowledge(self, alert: Alert, note: str = "") -> AcknowledgeAlert | None:
        ok, why = self.ctx.gateway.can_act()
        if not ok:
            self.failed.emit(alert.id, why)
            return None
        cmd = ack_command(alert, self.ctx.pictures.current().state, note)
        self.hidden.add(alert.id)
        self.changed.emit()
        self.ctx.gateway.submit(cmd).on_refused(lambda reason: self._refused(alert.id, reason))
        return cmd

    def _refused(self, alert_id: str, reason: str) -> None:
        self.hidden.discard(alert_id)
        self.changed.emit()
        self.failed.emit(alert_id, reason)

    def forget_acked(self, state: State) -> None:
        """Drop hidden ids the projection now records as acknowledged."""
        self.hidden -= set(state.acks)


class AckDialog(QDialog):
    """Acknowledge one alert with an optional note. Enter acknowledges, Esc cancels."""

    def __init__(self, alert: Alert, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.alert = alert
        self.setWindowTitle("Acknowledge alert")
        lay = QVBoxLayout(self)
        head = QLabel(
            f"{severity_text(alert.severity)} — {KIND_LABEL[alert.kind]}\n{alert.message}"
        )
        head.setTextFormat(Qt.TextFormat.PlainText)  # the message quotes dispatch
        head.setWordWrap(True)
        lay.addWidget(head)
        form = QFormLayout()
        self.note = QLineEdit(self)
        self.note.setPlaceholderText("optional: what was done")
        lab = QLabel("&Note:", self)
        lab.setBuddy(self.note)
        form.addRow(lab, self.note)
        lay.addLayout(form)
        box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        ok = box.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("&Acknowledge")
        ok.setDefault(True)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        lay.addWidget(box)
        self.note.setFocus()


# -- the panel ------------------------------------------------------------------------------------


class AlertsPanel(QWidget):
    """Every open alert, most severe first; acknowledge with an optional note."""

    alerts_changed = Signal(list)
    """(list[Alert]) what the panel shows now, e.g. for a count on the dock's title."""

    COLUMNS = ("Sev.", "Since", "Subject", "Alert")
    """The message last and stretched: in a narrow dock it is what must stay readable."""

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alerts-panel")
        self.ctx = ctx
        self.alerts: list[Alert] = []
        self._rows: list[list[_Row | None]] = []
        """What each alert row shows now, by group and position: a row is rewritten only when
        it changes."""
        self._heads: list[_Head | None] = []
        """What each group row shows now."""
        self._target: list[tuple[_Head, list[_Row]]] = []
        self._expanded: dict[str, bool] = {}
        """Groups the supervisor opened or closed, by key (kept while the console runs)."""
        self._current_id: str | None = None
        self._no_eligible: list[Alert] = []
        self._unknown: list[Alert] = []
        self._quarantine_shown: object = None
        self._no_eligible_for: object = None
        self._refreshed_at = -math.inf
        self._stale_shown = False
        self._hint_shown = False
        """The error line says why Acknowledge did nothing (no alert chosen)."""
        self._acker = _Acker(ctx, self)
        self._acker.changed.connect(self.refresh)
        self._acker.failed.connect(self._on_ack_failed)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.summary = QLabel(self)
        self.summary.setAccessibleName("Alert summary")
        lay.addWidget(self.summary)
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(len(self.COLUMNS))
        self.tree.setHeaderLabels(list(self.COLUMNS))
        self.tree.setRootIsDecorated(True)
        self.tree.setItemsExpandable(True)
        self.tree.itemExpanded.connect(lambda it: self._remember(it, True))
        self.tree.itemCollapsed.connect(lambda it: self._remember(it, False))
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setAccessibleName("Alerts, most severe first")
        hdr = self.tree.header()
        # Fixed widths from the font, not ResizeToContents: that re-measures every row on
        # every change, which hundreds of ticking rows cannot afford.
        # An alert's line shows its severity as a mark (the group row above it spells it out),
        # so the alert text keeps the room in a narrow dock.
        fm = self.tree.fontMetrics()
        hdr.setMinimumSectionSize(16)
        # The stretched message column may shrink to what is left (then "…" marks the cut),
        # never stay wider than the room and run past the edge unmarked.
        hdr.setDefaultSectionSize(16)
        for col, sample in enumerate(("⚠", "10 h 00", "HCR-000000")):
            hdr.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            self.tree.setColumnWidth(
                col,
                fm.horizontalAdvance(sample) + (self.tree.indentation() + 12 if col == 0 else 12),
            )
        self._subject_w = self.tree.columnWidth(2)
        self._message_min = fm.averageCharWidth() * 24
        """Below this room for the message, the subject column goes (each message starts
        with its call or team): in the docked layout at 1280x800 the words are what matter."""
        hdr.setStretchLastSection(True)
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.tree.currentItemChanged.connect(self._on_current)
        lay.addWidget(self.tree, 1)
        # Ctrl+4 (the window's "go to alerts") lands in the list, where the arrows move.
        self.setFocusProxy(self.tree)

        row = QHBoxLayout()
        lab = QLabel("N&ote:", self)
        self.note = QLineEdit(self)
        self.note.setPlaceholderText("optional note with the acknowledgement")
        self.note.returnPressed.connect(self.acknowledge_selected)
        lab.setBuddy(self.note)
        self.tree.itemActivated.connect(self._activated)
        self.ack_button = QPushButton("&Acknowledge", self)
        self.ack_button.clicked.connect(self.acknowledge_selected)
        row.addWidget(lab)
        row.addWidget(self.note, 1)
        row.addWidget(self.ack_button)
        lay.addLayout(row)
        self.error = QLabel(self)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        lay.addWidget(self.error)

        self.ack_action = QAction("Acknowledge selected alert", self)
        self.ack_action.setProperty("group", "Alerts")
        self.ack_action.setShortcut(QKeySequence("Ctrl+Return"))
        self.ack_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.ack_action.triggered.connect(self.acknowledge_selected)
        self.addAction(self.ack_action)

        ok, why = ctx.gateway.can_act()
        if not ok:
            for w in (self.ack_button, self.note):
                w.setEnabled(False)
                w.setToolTip(why)
            self.ack_action.setEnabled(False)

        ctx.pictures.picture_changed.connect(self._on_picture)
        ctx.pictures.tick.connect(self._on_tick)
        self.refresh()

    # -- data ----------------------------------------------------------------------------------

    def _on_picture(self, picture: Any, changes: Any) -> None:
        # Its own turn of the event loop (console.ui.core.pacer); a tick and a picture coalesce.
        # An alert raised or acknowledged, or the link going down or up, shows at once.
        # Otherwise, under a busy feed, the list follows at most once a second (the clock's
        # tick catches up): what call and team updates change here (timers, eligibility) is
        # minute-scale.
        at_once = (
            changes is None
            or bool(changes.alerts)
            or picture.stale != self._stale_shown
            or getattr(picture, "quarantine", None) != self._quarantine_shown
        )
        if at_once or time.monotonic() - self._refreshed_at >= PICTURE_REFRESH_S:
            self._refresh_later()

    def _on_tick(self, now: datetime) -> None:
        self._refresh_later()

    def _refresh_later(self) -> None:
        """:meth:`refresh` on later turns of the event loop, in two short steps (the rules that
        depend on the picture alone, then those of the clock and the list); a newer request
        replaces one in progress."""
        self.ctx.run_steps((self, "refresh"), self._refresh_steps())

    def refresh(self) -> None:
        """Work the alerts out and show them now."""
        self.ctx.cancel((self, "refresh"))
        for _ in self._refresh_steps():
            pass

    def _refresh_steps(self) -> Iterator[None]:
        picture = self.ctx.pictures.current()
        state: State = picture.state
        if self._no_eligible_for is not state:  # depends on the picture only, not on the clock
            pending = [c for c in state.calls.values() if c.status is CallStatus.PENDING]
            self._no_eligible = no_eligible_alerts(pending, state.teams.values())
            self._unknown = unknown_code_alerts(state.calls.values(), state.teams.values())
            self._no_eligible_for = state
            self._acker.forget_acked(state)
            yield  # the rest of this picture's alerts on the next turn
        self._refreshed_at = time.monotonic()
        self._stale_shown = picture.stale
        q = getattr(picture, "quarantine", None)
        self._quarantine_shown = q
        alerts = collect_alerts(
            state,
            picture.now,
            self.ctx.config.thresholds,
            link=link_alert(picture.stale, picture.link, picture.now, picture.stale_reason),
            no_eligible=self._no_eligible,
            unknown=self._unknown,
            quarantine=quarantine_alert(q.count, q.newest_reason, q.newest_at) if q else None,
            hidden=self._acker.hidden,
            destinations=getattr(self.ctx.config, "destinations", None),
        )
        self._show(alerts, picture.now)

    def _show(self, alerts: list[Alert], now: datetime) -> None:
        """Show ``alerts``: the list, the summary and the signal at once; the rows in place,
        a screenful per turn of the event loop (:meth:`_row_steps`)."""
        changed = alerts != self.alerts
        self.alerts = alerts
        colors = theme.colors()
        target: list[tuple[_Head, list[_Row]]] = []
        for key, sev_, kind, members in group_alerts(alerts):
            sev = colors.severity[sev_]
            rows: list[_Row] = []
            for a in members:
                what = a.message  # the group row above says what kind
                rows.append(
                    (
                        a.id,
                        severity_text(a.severity),
                        format_since(a.raised_at, now),
                        a.subject,
                        what,
                        sev,
                    )
                )
            target.append(((key, group_text(sev_, kind, len(members)), sev), rows))
        self._target = target
        counts = severity_counts(alerts)
        if alerts:
            parts = ", ".join(
                f"{n} {s.value}" for s, n in sorted(counts.items(), key=lambda x: x[0].rank)
            )
            self.summary.setText(f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''} ({parts})")
        else:
            self.summary.setText("✓ No open alerts")
        if self.tree.isVisible():
            # Rows on later turns: a job and the repaint it causes count as one stall.
            self.ctx.run_steps((self, "rows"), self._row_steps())
        else:
            self.ctx.cancel((self, "rows"))
            for _ in self._row_steps():
                pass  # nothing to paint: all at once
        if changed:
            self.alerts_changed.emit(list(alerts))

    def _row_steps(self) -> Iterator[None]:
        """Bring the rows to ``_target``, row by row position within each group: an alert that
        moves rewrites the rows it passes, not the list, so only rows whose text changed
        repaint. Rows on screen go first, about a screenful per step (one step per turn):
        under a busy feed, when most rows move every second, no single turn repaints the
        whole list."""
        while not self._write_rows():
            yield

    def _write_rows(self) -> bool:
        """One step of :meth:`_row_steps`; True when the rows are done."""
        tree = self.tree
        target = self._target
        structural = self._fit_groups(len(target))
        for g, (head, rows) in enumerate(target):
            item = tree.topLevelItem(g)
            assert item is not None
            if self._heads[g] != head:
                self._write_head(item, g, head, len(rows))
            structural |= self._fit_children(item, self._rows[g], len(rows))
        if structural and tree.isVisible():
            # Adding or taking rows lays the view out again and repaints all of it: on a turn
            # of its own, the rows' text on the next.
            return False
        todo = [
            (g, k)
            for g, (_head, rows) in enumerate(target)
            for k, row in enumerate(rows)
            if self._rows[g][k] != row
        ]
        if todo and tree.isVisible():
            view = tree.viewport().rect()

            def on_screen(gk: tuple[int, int]) -> bool:
                parent = tree.topLevelItem(gk[0])
                child = parent.child(gk[1]) if parent is not None else None
                return (
                    child is not None
                    and parent is not None
                    and parent.isExpanded()
                    and tree.visualItemRect(child).intersects(view)
                )

            shown = {gk for gk in todo if on_screen(gk)}
            todo.sort(key=lambda gk: gk not in shown)  # on screen first, in order
            budget: float = ROWS_PER_TURN
        else:
            shown, budget = set(), len(todo)  # nothing to paint: all at once
        cost = 0.0
        done = 0
        for g, k in todo:
            if cost >= budget:
                break
            self._write_row(g, k, target[g][1][k])
            cost += 1.0 if (g, k) in shown else OFFSCREEN_ROW_COST
            done += 1
        if done < len(todo):
            return False
        self._keep_current()
        return True

    def _fit_groups(self, n: int) -> bool:
        tree = self.tree
        have = tree.topLevelItemCount()
        if have < n:
            new = [QTreeWidgetItem() for _ in range(n - have)]
            tree.addTopLevelItems(new)
            for item in new:
                item.setFirstColumnSpanned(True)
            self._heads += [None] * len(new)
            self._rows += [[] for _ in new]
        elif have > n:
            tree.blockSignals(True)
            try:
                for k in range(have - 1, n - 1, -1):
                    tree.takeTopLevelItem(k)
            finally:
                tree.blockSignals(False)
            del self._heads[n:]
            del self._rows[n:]
        return have != n

    def _fit_children(self, item: QTreeWidgetItem, shown: list[_Row | None], n: int) -> bool:
        have = item.childCount()
        if have < n:
            item.addChildren([QTreeWidgetItem() for _ in range(n - have)])
            shown += [None] * (n - have)
        elif have > n:
            self.tree.blockSignals(True)
            try:
                for k in range(have - 1, n - 1, -1):
                    item.takeChild(k)
            finally:
                self.tree.blockSignals(False)
            del shown[n:]
        return have != n

    def _write_head(self, item: QTreeWidgetItem, g: int, head: _Head, n: int) -> None:
        key, text, color = head
        old = self._heads[g]
        item.setText(0, text)
        item.setToolTip(0, f"{text} — Enter or the arrow opens and closes the group")
        item.setForeground(0, QColor(color))
        item.setData(0, GROUP_ROLE, key)
        if old is None or old[0] != key:
            sev = key.split(":", 1)[0]
            opened = sev in (Severity.CRITICAL.value, Severity.HIGH.value) or n <= GROUP_OPEN_UP_TO
            item.setExpanded(self._expanded.get(key, opened))
        self._heads[g] = head

    def _write_row(self, g: int, k: int, row: _Row) -> None:
        parent = self.tree.topLevelItem(g)
        item = parent.child(k) if parent is not None else None
        assert item is not None  # _write_rows made the rows first
        aid, sev_text, since, subject, what, sev_color = row
        old = self._rows[g][k]
        if old is None or old[0] != aid:
            item.setData(0, ALERT_ID_ROLE, aid)
        if old is None or old[1] != sev_text or old[5] != sev_color:
            item.setText(0, sev_text.split(" ", 1)[0])  # the mark; spoken and hovered whole
            item.setData(0, Qt.ItemDataRole.AccessibleTextRole, sev_text)
            item.setToolTip(0, sev_text)
            item.setForeground(0, QColor(sev_color))
        if old is None or old[2] != since:
            item.setText(1, since)
        if old is None or old[3] != subject:
            item.setText(2, subject)
        if old is None or old[4] != what:
            item.setText(3, what)
            item.setToolTip(3, plain_tip(f"{subject}: {what}"))
        self._rows[g][k] = row

    def _item_of(self, alert_id: str) -> QTreeWidgetItem | None:
        for g, rows in enumerate(self._rows):
            for k, row in enumerate(rows):
                if row is not None and row[0] == alert_id:
                    parent = self.tree.topLevelItem(g)
                    return parent.child(k) if parent is not None else None
        return None

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_columns()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._fit_columns()

    def _fit_columns(self) -> None:
        tree = self.tree
        room = tree.viewport().width() - tree.columnWidth(0) - tree.columnWidth(1)
        narrow = room - self._subject_w < self._message_min
        if narrow != tree.isColumnHidden(2):
            tree.setColumnHidden(2, narrow)

    def _remember(self, item: QTreeWidgetItem, opened: bool) -> None:
        key = item.data(0, GROUP_ROLE)
        if key:
            self._expanded[str(key)] = opened

    def _activated(self, item: QTreeWidgetItem, _col: int) -> None:
        if item.data(0, GROUP_ROLE):
            item.setExpanded(not item.isExpanded())  # Enter on a group opens or closes it
        else:
            self.note.setFocus()

    def _keep_current(self) -> None:
        """Once every row is written: the alert the supervisor was on stays current wherever
        it moved (without touching the console's selection); with none, the first alert of
        the first open group."""
        tree = self.tree
        want = self._current_id
        current = tree.currentItem()
        on = current.data(0, ALERT_ID_ROLE) if current is not None else None
        target = None
        if want is not None and on != want:
            target = self._item_of(want)
        if target is None and current is None:
            for g in range(tree.topLevelItemCount()):
                group = tree.topLevelItem(g)
                if group is not None and group.isExpanded() and group.childCount():
                    target = group.child(0)
                    break
        if target is not None:
            tree.blockSignals(True)
            try:
                tree.setCurrentItem(target)
            finally:
                tree.blockSignals(False)
            self._current_id = target.data(0, ALERT_ID_ROLE)

    # -- acting --------------------------------------------------------------------------------

    def selected_alert(self) -> Alert | None:
        item = self.tree.currentItem()
        if item is None:
            return None
        aid = item.data(0, ALERT_ID_ROLE)
        return next((a for a in self.alerts if a.id == aid), None)

    def select_alert(self, alert_id: str) -> bool:
        if not any(r[0] == alert_id for _h, rows in self._target for r in rows):
            return False
        if self._heads != [h for h, _rows in self._target] or self._rows != [
            list(rows) for _h, rows in self._target
        ]:
            for _ in self._row_steps():
                pass  # the rows it is about to move to: now
        item = self._item_of(alert_id)
        if item is None:
            return False
        parent = item.parent()
        if parent is not None:
            parent.setExpanded(True)
        self.tree.setCurrentItem(item)
        return True

    def acknowledge_selected(self) -> AcknowledgeAlert | None:
        alert = self.selected_alert()
        if alert is None:
            # Ctrl+Return or Acknowledge on a group's line, or on nothing: say why nothing
            # happens rather than nothing at all.
            if self.alerts:
                item = self.tree.currentItem()
                self.error.setText(
                    "⚠ Nothing acknowledged: a group is acknowledged one alert at a time. "
                    "Choose an alert under it (Down arrow), then acknowledge."
                    if item is not None and item.data(0, GROUP_ROLE)
                    else "⚠ Nothing acknowledged: choose an alert in the list first."
                )
                self.error.show()
                self._hint_shown = True
            return None
        self.error.hide()
        cmd = self._acker.acknowledge(alert, self.note.text())
        if cmd is not None:
            self.note.clear()
        return cmd

    def _on_ack_failed(self, alert_id: str, reason: str) -> None:
        self._hint_shown = False
        self.error.setText(f"⚠ Not acknowledged: {reason}")
        self.error.show()

    def _on_current(self, current: QTreeWidgetItem | None, _prev: object) -> None:
        self._current_id = current.data(0, ALERT_ID_ROLE) if current is not None else None
        if self._hint_shown and self._current_id is not None:
            self._hint_shown = False
            self.error.hide()  # an alert is chosen now: the hint has done its job
        alert = self.selected_alert() if current is not None else None
        if alert is None:
            return
        sel = getattr(self.ctx, "selection", None)
        if sel is None:
            return
        state = self.ctx.pictures.current().state
        if alert.subject in state.calls:
            sel.select_call(alert.subject)
        elif alert.subject in state.teams:
            sel.select_team(alert.subject)


# -- the banner ---------------------------------------------------------------------------------


def alarm_wav(path: Path) -> Path:
    """Write (once) a short two-tone alarm as 16-bit mono WAV: generated, never shipped."""
    if path.is_file() and path.stat().st_size > 44:
        return path
    private_dir(path.parent)
    rate = 22050
    frames = bytearray()
    for freq in (880.0, 660.0, 880.0, 660.0):
        n = int(rate * 0.18)
        for i in range(n):
            fade = min(1.0, i / 200, (n - i) / 200)  # no clicks at tone edges
            v = int(0.6 * 32767 * fade * math.sin(2 * math.pi * freq * i / rate))
            frames += struct.pack("<h", v)
    tmp = create_private(path.with_suffix(".tmp"))
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    tmp.replace(path)
    return path


def _cache_dir() -> Path:
    import platformdirs

    from console.config import APP_NAME

    return Path(platformdirs.user_cache_dir(APP_NAME))


class _Alarm:
    """A sound where the machine has one: the generated WAV through QtMultimedia, else the
    system beep. Failing to play never affects the banner."""

    def __init__(self, parent: QObject) -> None:
        self.effect: Any = None
        self.kind = "beep"
        try:
            from PySide6.QtMultimedia import QSoundEffect  # optional: needs audio libraries

            wav = alarm_wav(_cache_dir() / "alarm.wav")
            effect = QSoundEffect(parent)
            effect.setSource(QUrl.fromLocalFile(str(wav)))
            effect.setVolume(1.0)
            self.effect = effect
            self.kind = "wav"
        except Exception as e:  # ImportError without audio libs; OSError for the cache dir
            log.info("alarm sound: using the system beep (%s)", e)

    def play(self) -> None:
        try:
            if self.effect is not None:
                self.effect.play()
            else:
                QApplication.beep()
        except Exception:
            log.exception("alarm sound failed")


class AlertBanner(QFrame):
    """Across the top of the window while a critical alert is unacknowledged."""

    acknowledged = Signal(str)
    """(alert id) an acknowledgement was submitted from the banner."""

    FLASH_MS = 500

    def __init__(self, ctx: Any, parent: QWidget | None = None, *, sound: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("alert-banner")
        self.ctx = ctx
        self.critical: list[Alert] = []
        self.alarms = 0
        """Times the alarm sounded (once per new critical alert)."""
        self.flashes = 0
        self._seen: set[str] = set()
        self._alarm = _Alarm(self) if sound else None
        self._acker = _Acker(ctx, self)
        self._acker.changed.connect(self.refresh)
        self._acker.failed.connect(self._on_failed)
        self.setProperty("flash", False)
        self.setFrameShape(QFrame.Shape.Box)
        self.setAccessibleName("Emergency alert")
        # Explicit colours as well as the QSS: the banner must be red whatever style is active.
        c = theme.colors()
        self.setAutoFillBackground(True)
        self._bg = (QColor(c.banner_bg), QColor(c.banner_flash_bg))
        self._paint(False)

        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 6)
        self.icon = QLabel("⚠", self)
        self.icon.setStyleSheet(f"font-size: 22pt; color: {c.banner_fg};")
        self.text = QLabel(self)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setWordWrap(True)
        self.text.setStyleSheet(f"color: {c.banner_fg}; font-weight: bold; font-size: 13pt;")
        self.ack_button = QPushButton(f"Acknowledge ({BANNER_SHORTCUT})", self)
        self.ack_button.clicked.connect(lambda: self.acknowledge_with_dialog())
        lay.addWidget(self.icon)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.ack_button)

        self.ack_action = QAction("Acknowledge emergency alert", self)
        self.ack_action.setProperty("group", "Alerts")
        self.ack_action.setShortcut(QKeySequence(BANNER_SHORTCUT))
        self.ack_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.ack_action.triggered.connect(lambda: self.acknowledge_with_dialog())
        self.addAction(self.ack_action)

        ok, why = ctx.gateway.can_act()
        if not ok:
            self.ack_button.setEnabled(False)
            self.ack_button.setToolTip(why)
            self.ack_action.setEnabled(False)

        self._flash = QTimer(self)
        self._flash.setInterval(self.FLASH_MS)
        self._flash.timeout.connect(self._toggle)
        self.repeat_s = float(getattr(ctx.config, "alarm_repeat_s", 60.0))
        """An unacknowledged critical alert sounds again this often (0: once only)."""
        self._sounded_at: datetime | None = None
        ctx.pictures.picture_changed.connect(lambda *_: self.refresh())
        ctx.pictures.tick.connect(self._on_tick)
        self.hide()
        self.refresh()

    def _paint(self, on: bool) -> None:
        pal = self.palette()
        pal.setColor(self.backgroundRole(), self._bg[1 if on else 0])
        self.setPalette(pal)

    def _toggle(self) -> None:
        on = not bool(self.property("flash"))
        self.setProperty("flash", on)
        self._paint(on)
        self.style().unpolish(self)
        self.style().polish(self)
        self.flashes += 1

    def refresh(self) -> None:
        state: State = self.ctx.pictures.current().state
        self._acker.forget_acked(state)
        critical = critical_alerts(state, self._acker.hidden)
        new = [a for a in critical if a.id not in self._seen]
        self._seen.update(a.id for a in new)
        self.critical = critical
        if not critical:
            self._flash.stop()
            self.setProperty("flash", False)
            self._paint(False)
            self.hide()
            return
        top = critical[0]
        more = f"   (+{len(critical) - 1} more)" if len(critical) > 1 else ""
        when = top.raised_at.astimezone().strftime("%H:%M")
        self.text.setText(
            f"{KIND_LABEL.get(top.kind, top.kind.value).upper()} — {top.message} (since {when}){more}"
        )
        self.setToolTip(plain_tip("\n".join(a.message for a in critical)))
        self.show()
        if not self._flash.isActive():
            self._flash.start()
        if new:
            self._sound()

    def _sound(self) -> None:
        self.alarms += 1
        self._sounded_at = self.ctx.clock.now()
        if self._alarm is not None:
            self._alarm.play()

    def _on_tick(self, _now: datetime) -> None:
        """Until someone acknowledges it, a critical alert sounds again every
        :attr:`repeat_s` (by the console's clock; a replay is never sounded)."""
        if not self.critical or self._alarm is None or self.repeat_s <= 0:
            return
        now = self.ctx.clock.now()
        last = self._sounded_at
        if last is None or (now - last).total_seconds() >= self.repeat_s:
            self._sound()

    def acknowledge(self, note: str = "", alert_id: str | None = None) -> AcknowledgeAlert | None:
        """Acknowledge the top (or the given) critical alert."""
        target = next((a for a in self.critical if alert_id is None or a.id == alert_id), None)
        if target is None:
            return None
        cmd = self._acker.acknowledge(target, note)
        if cmd is not None:
            self.acknowledged.emit(target.id)
        return cmd

    def acknowledge_with_dialog(self) -> AckDialog | None:
        if not self.critical:
            return None
        dlg = AckDialog(self.critical[0], self.window())
        dlg.accepted.connect(lambda: self.acknowledge(dlg.note.text(), dlg.alert.id))
        dlg.open()
        return dlg

    def _on_failed(self, alert_id: str, reason: str) -> None:
        self.setToolTip(plain_tip(f"Not acknowledged: {reason}"))
