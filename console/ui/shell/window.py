"""MainWindow: the map in the middle, docks around it, menus, shortcuts, status bar, banners.

Panels come from their own feature packages (``console.ui.queue``, ``console.ui.alerts`` ...).
Layout and docks are saved with QSettings on close and restored
on the next start.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import shiboken6
from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QKeySequence,
    QMouseEvent,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.domain.commands import Command
from console.files import make_private
from console.store import Changes
from console.sync.client import LinkHealth, LinkState
from console.ui.actions.menu import ACTION_SPECS, actions_for, return_focus
from console.ui.alerts.panel import AlertBanner, AlertsPanel
from console.ui.alerts.quarantine import QuarantineDialog
from console.ui.audit.panel import AuditPanel
from console.ui.board.ladder import CheckinLadder, open_welfare_check
from console.ui.board.panel import BoardPanel
from console.ui.core.context import ConsoleContext
from console.ui.core.labels import plain_tip
from console.ui.core.picture import Picture
from console.ui.core.theme import apply_theme
from console.ui.followups.panel import FollowUpsPanel
from console.ui.map.panel import MapPanel
from console.ui.outcomes.panel import NeedsOutcomePanel
from console.ui.plots.panel import WorkloadPanel
from console.ui.queue.panel import QueuePanel
from console.ui.settings.dialog import SettingsDialog
from console.ui.shell.help import show_about, show_shortcuts
from console.ui.tables.model import describe_command
from console.ui.tables.panel import TablePanel

log = logging.getLogger(__name__)

SETTINGS_VERSION = 1
"""Bumped when the dock layout changes incompatibly: an older saved layout is then ignored."""

Area = Qt.DockWidgetArea

# Banner colours (foreground, background, border) for the dark and light themes.
_BANNERS = {
    "stale": {
        "dark": ("#ffffff", "#8b0000", "#ff5252"),
        "light": ("#ffffff", "#b71c1c", "#7f0000"),
    },
    "demo": {"dark": ("#1a1a1a", "#ffca28", "#ffca28"), "light": ("#1a1a1a", "#ffd54f", "#f9a825")},
    "notice": {
        "dark": ("#ffe0b2", "#4e2a00", "#ffb74d"),
        "light": ("#4e2a00", "#fff3e0", "#e65100"),
    },
}


class Banner(QLabel):
    """A full-width message strip (demo, link down, refusals)."""

    def __init__(self, kind: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self.setObjectName(f"banner-{kind}")
        self.setTextFormat(Qt.TextFormat.PlainText)  # refusals and link errors quote others
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.set_theme("dark")

    def set_theme(self, theme: str) -> None:
        fg, bg, border = _BANNERS[self.kind].get(theme, _BANNERS[self.kind]["dark"])
        self.setStyleSheet(
            f"QLabel#{self.objectName()} {{ color: {fg}; background: {bg}; "
            f"border: 2px solid {border}; padding: 6px; font-weight: bold; font-size: 11pt; }}"
        )


class NoticeBar(QWidget):
    """Refusals and other things the supervisor must read: stays until dismissed (Esc)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.label = Banner("notice", self)
        self.label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.button = QPushButton("Dismiss", self)
        self.button.setToolTip("Dismiss this message (Esc)")
        self.button.clicked.connect(self.hide)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.button)
        self.messages: list[str] = []
        self.on_visible: Callable[[bool], None] | None = None
        self.hide()

    def setVisible(self, visible: bool) -> None:
        super().setVisible(visible)
        if self.on_visible is not None:
            self.on_visible(visible)

    def show_message(self, text: str) -> None:
        self.messages.append(text)
        self.label.setText(text)
        self.show()


@dataclass(frozen=True, slots=True)
class _DockShares:
    left: float
    right: float
    bottom: float


class MainWindow(QMainWindow):
    """The supervisor's window. ``panels[key]`` / ``docks[key]`` give each panel (map, queue,
    board, alerts, workload, audit, plus any added with :meth:`add_panel`); a dock added after
    construction takes its saved place once :meth:`restore_layout` is called again."""

    def __init__(self, ctx: ConsoleContext, *, settings: QSettings | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.settings = settings or QSettings()
        self.setObjectName("MainWindow")
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks
            | QMainWindow.DockOption.AllowTabbedDocks
            | QMainWindow.DockOption.AllowNestedDocks
        )
        self.setWindowTitle(self._title())
        self.theme = ctx.config.theme if ctx.config.theme in ("dark", "light") else "dark"
        self.docks: dict[str, QDockWidget] = {}
        self.panels: dict[str, QWidget] = {}
        self.panel_actions: dict[str, QAction] = {}
        self.actions_set = actions_for(ctx)
        self.actions_set.dialog_parent = self
        self._shown_once = False
        self._restored = False
        self._shares: _DockShares | None = None
        """Each dock area's share of the window, kept across window resizes."""
        self._sized_at: QSize | None = None
        self.ask_before_quit = True
        """Closing with an emergency open asks first (off for a stop asked by the system)."""
        self.quit_box: QMessageBox | None = None
        self.demo_controls: QWidget | None = None
        """The demo's pace and dispatch-wait controls (set by the demo's start-up)."""

        # -- centre: banners over the map --
        central = QWidget(self)
        v = QVBoxLayout(central)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(2)
        self.demo_banner = Banner("demo", central)
        self.demo_banner.setText(
            "Simulated dispatch feed — demo. Nothing here is real; commands go to the simulator."
        )
        self.demo_banner.setVisible(ctx.demo)
        self.stale_banner = Banner("stale", central)
        self.stale_banner.hide()
        # The event log or the audit does not verify (console.store.chain): red, stays.
        self.integrity_banner = Banner("stale", central)
        self.integrity_banner.setObjectName("banner-integrity")
        self.integrity_banner.set_theme(self.theme)
        self.integrity_banner.hide()
        self.notice = NoticeBar(central)
        # The critical-alert banner (backup requests) sits above everything else.
        # A replayed emergency is shown, not sounded: a training room is not a floor.
        self.alert_banner = AlertBanner(ctx, central, sound=not ctx.replay)
        v.addWidget(self.alert_banner)
        v.addWidget(self.integrity_banner)
        v.addWidget(self.demo_banner)
        v.addWidget(self.stale_banner)
        v.addWidget(self.notice)
        self.map_panel = MapPanel(ctx, central)
        v.addWidget(self.map_panel, 1)
        self.setCentralWidget(central)
        self.panels["map"] = self.map_panel

        # -- docks --
        self.add_panel("queue", "Call queue", QueuePanel(ctx), Area.LeftDockWidgetArea, "Ctrl+2")
        self.add_panel("board", "Team board", BoardPanel(ctx), Area.LeftDockWidgetArea, "Ctrl+3")
        self.add_panel(
            "alerts",
            "Alerts",
            AlertsPanel(ctx),
            Area.RightDockWidgetArea,
            "Ctrl+4",
        )
        self.add_panel(
            "workload",
            "Workload",
            WorkloadPanel(ctx),
            Area.BottomDockWidgetArea,
            "Ctrl+5",
        )
        self.add_panel(
            "audit",
            "Audit",
            AuditPanel(ctx),
            Area.BottomDockWidgetArea,
            "Ctrl+6",
        )
        self.destinations_panel = None
        if getattr(ctx.config, "destinations", None):
            from console.ui.destinations.panel import DestinationsPanel

            self.destinations_panel = DestinationsPanel(ctx)
            self.add_panel(
                "destinations",
                "Destinations",
                self.destinations_panel,
                Area.RightDockWidgetArea,
                "Ctrl+8",
            )
            self.splitDockWidget(
                self.docks["alerts"], self.docks["destinations"], Qt.Orientation.Vertical
            )
            self.destinations_panel.destination_selected.connect(self.map_panel.show_destination)
        self.add_panel(
            "outcomes",
            "Needs outcome",
            NeedsOutcomePanel(ctx),
            Area.BottomDockWidgetArea,
            "Ctrl+0",
        )
        self.add_panel(
            "followups", "Follow-ups", FollowUpsPanel(ctx), Area.BottomDockWidgetArea, "Ctrl+9"
        )
        for key in ("queue", "board"):
            panel = self.panels[key]
            if isinstance(panel, TablePanel):
                panel.bind_settings(self.settings)  # the columns hidden from its header menu
        self.splitDockWidget(self.docks["queue"], self.docks["board"], Qt.Orientation.Vertical)
        self.tabifyDockWidget(self.docks["workload"], self.docks["audit"])
        self.tabifyDockWidget(self.docks["audit"], self.docks["followups"])
        self.tabifyDockWidget(self.docks["followups"], self.docks["outcomes"])
        # A missed check-in climbs the site's ladder; its last step opens the escalate dialog.
        self.welfare_dialog: Any = None
        self.checkin_ladder = CheckinLadder(ctx, self)
        self.checkin_ladder.welfare_check.connect(self._welfare_check)
        self.docks["workload"].raise_()
        self.setCorner(Qt.Corner.BottomLeftCorner, Area.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Area.RightDockWidgetArea)

        self._build_menus()
        self._build_status_bar()
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._on_focus_changed)

        ctx.pictures.picture_changed.connect(self._on_picture)
        ctx.pictures.tick.connect(self._on_tick)
        lc = getattr(ctx.pictures, "link_changed", None)
        if lc is not None:
            lc.connect(self._on_link)
        ctx.gateway.rejected.connect(self._on_rejected)
        ctx.gateway.answered.connect(self._on_answered)
        ctx.gateway.submitted.connect(self._on_submitted)
        self._on_picture(ctx.pictures.current(), None)
        self._on_tick(ctx.clock.now())
        self.apply_theme(self.theme)
        self._default_size()
        self._default_state = self.saveState(SETTINGS_VERSION)
        self.restore_layout()

    # -- composition --------------------------------------------------------------------------------

    def _title(self) -> str:
        mode = " — replay" if self.ctx.replay else (" — demo" if self.ctx.demo else "")
        return f"Responder Console{mode}"

    def _default_size(self) -> None:
        """A dispatch-room monitor's worth (at most 90% of the screen); tables get the room
        their columns need, the map the rest."""
        w, h = 1920, 1080
        screen = self.screen()
        if screen is not None:
            avail = screen.availableGeometry()
            if avail.width() >= 800 and avail.height() >= 600:
                w, h = min(w, int(avail.width() * 0.95)), min(h, int(avail.height() * 0.95))
        self.resize(w, h)
        self._size_docks()

    def _size_docks(self) -> None:
        w, h = self.width(), self.height()
        left = max(420, min(760, int(w * 0.41)))
        right = max(280, min(380, w // 5))
        self.resizeDocks(
            [self.docks["queue"], self.docks["alerts"]],
            [left, right],
            Qt.Orientation.Horizontal,
        )
        self._shares = _DockShares(left / w, right / w, max(220, int(h * 0.3)) / h)
        self._sized_at = self.size()
        self.resizeDocks(
            [self.docks["queue"], self.docks["board"]], [h // 2, h // 2], Qt.Orientation.Vertical
        )
        self.resizeDocks(
            [self.docks["workload"]], [max(220, int(h * 0.3))], Qt.Orientation.Vertical
        )

    def add_panel(
        self,
        key: str,
        title: str,
        widget: QWidget,
        area: Qt.DockWidgetArea,
        shortcut: str | None,
    ) -> QDockWidget:
        """Dock ``widget`` (object name = ``key``, for saveState); ``shortcut`` shows and focuses it."""
        dock = QDockWidget(title, self)
        dock.setObjectName(key)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        self.docks[key] = dock
        self.panels[key] = widget
        if shortcut:
            act = QAction(f"Go to {title}", self)
            act.setShortcut(QKeySequence(shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(lambda _=False, k=key: self.focus_panel(k))
            self.addAction(act)
            self.panel_actions[key] = act
            dock.setToolTip(f"{title} ({shortcut})")
        if hasattr(self, "view_menu"):
            self.view_menu.addAction(dock.toggleViewAction())
        return dock

    def focus_panel(self, key: str) -> None:
        dock = self.docks.get(key)
        if dock is not None:
            dock.show()
            dock.raise_()
        w = self.panels.get(key)
        if w is not None:
            w.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _build_menus(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        if self.ctx.store is not None:
            a = QAction("&Settings…", self)
            a.setShortcut(QKeySequence("Ctrl+,"))
            a.triggered.connect(self._open_settings)
            file_menu.addAction(a)
            rep = QAction("&Program report…", self)
            rep.triggered.connect(self.open_program_report)
            file_menu.addAction(rep)
        quit_act = QAction("&Quit", self)
        quit_act.setShortcut(QKeySequence("Ctrl+Q"))
        quit_act.triggered.connect(self.close)
        file_menu.addAction(quit_act)

        call_menu = mb.addMenu("&Call")
        team_menu = mb.addMenu("&Team")
        for kind, a in self.actions_set.actions.items():
            (call_menu if ACTION_SPECS[kind][2] else team_menu).addAction(a)
            self.addAction(a)
        if self.destinations_panel is not None:
            panel = self.destinations_panel
            propose = QAction("Propose &destination…", self)
            propose.setShortcut(QKeySequence("Ctrl+Shift+D"))
            propose.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            propose.setStatusTip(
                "Where the team on the selected call can take the person now, nearest first"
            )
            propose.triggered.connect(lambda: panel.open_proposal())
            call_menu.addAction(propose)
            self.addAction(propose)
            self.propose_destination_action = propose

        map_menu = mb.addMenu("&Map")
        for a in (self.map_panel.act_fit, self.map_panel.act_follow, self.map_panel.act_zoom_call):
            map_menu.addAction(a)
            self.addAction(a)

        tools_menu = mb.addMenu("T&ools")
        self.quarantine_action = QAction("&Quarantined messages…", self)
        self.quarantine_action.setStatusTip(
            "Messages from dispatch the console refused and kept: when, why, and as received"
        )
        self.quarantine_action.triggered.connect(self.show_quarantine)
        self.quarantine_action.setEnabled(self.ctx.store is not None)
        tools_menu.addAction(self.quarantine_action)
        self.quarantine_dialog: QuarantineDialog | None = None

        self.view_menu = mb.addMenu("&View")
        go_map = QAction("Go to Map", self)
        go_map.setShortcut(QKeySequence("Ctrl+1"))
        go_map.triggered.connect(
            lambda: self.map_panel.setFocus(Qt.FocusReason.ShortcutFocusReason)
        )
        self.addAction(go_map)
        self.panel_actions["map"] = go_map
        self.view_menu.addAction(go_map)
        for key in (
            "queue",
            "board",
            "alerts",
            "workload",
            "audit",
            "outcomes",
            "followups",
            "destinations",
        ):
            if key in self.panel_actions:
                self.view_menu.addAction(self.panel_actions[key])
        self.view_menu.addSeparator()
        for dock in self.docks.values():
            self.view_menu.addAction(dock.toggleViewAction())
        self.view_menu.addSeparator()
        filt = QAction("&Filter the focused table", self)
        filt.setShortcut(QKeySequence("Ctrl+F"))
        filt.triggered.connect(self._focus_filter)
        self.addAction(filt)
        self.view_menu.addAction(filt)
        self.theme_action = QAction("&Light theme", self)
        self.theme_action.setCheckable(True)
        self.theme_action.setShortcut(QKeySequence("Ctrl+Shift+L"))
        self.theme_action.toggled.connect(lambda on: self.apply_theme("light" if on else "dark"))
        self.view_menu.addAction(self.theme_action)
        reset = QAction("&Reset layout", self)
        reset.triggered.connect(self.reset_layout)
        self.view_menu.addAction(reset)
        dismiss = QAction("Dismiss message", self)
        dismiss.setShortcut(QKeySequence("Esc"))
        dismiss.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        dismiss.triggered.connect(self.notice.hide)
        self.addAction(dismiss)
        # Esc belongs to the message only while one is shown.
        dismiss.setEnabled(False)
        self.notice.on_visible = dismiss.setEnabled

        help_menu = mb.addMenu("&Help")
        sheet = QAction("&Keyboard shortcuts", self)
        sheet.setShortcut(QKeySequence("F1"))
        sheet.triggered.connect(self.show_shortcuts)
        help_menu.addAction(sheet)
        about = QAction("&About", self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)

    def show_quarantine(self) -> QuarantineDialog:
        """The quarantine viewer (one, non-modal; reopening refreshes it)."""
        dlg = self.quarantine_dialog
        if dlg is None:
            dlg = QuarantineDialog(self.ctx, self)
            self.quarantine_dialog = dlg
            came_from = QApplication.focusWidget()
            if came_from is not None:
                dlg.finished.connect(lambda _r: came_from.setFocus())
        else:
            dlg.refresh()
        dlg.show()
        dlg.raise_()
        dlg.activateWindow()
        return dlg

    def _focus_filter(self) -> None:
        w = QApplication.focusWidget()
        for key in ("queue", "board"):
            panel = self.panels[key]
            if w is not None and (w is panel or panel.isAncestorOf(w)):
                panel.filter.setFocus()  # type: ignore[attr-defined]
                panel.filter.selectAll()  # type: ignore[attr-defined]
                return
        self.panels["queue"].filter.setFocus()  # type: ignore[attr-defined]

    def shortcut_list(self) -> list[tuple[str, str]]:
        """(keys, what) for every action with a shortcut: the shortcut sheet's content."""
        seen: set[str] = set()
        out: list[tuple[str, str]] = []
        for a in self.actions():
            keys = a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            if keys and keys not in seen:
                seen.add(keys)
                out.append((keys, a.text().replace("&", "").rstrip("…")))
        return out

    @staticmethod
    def _give_keyboard_back(dlg: QDialog, came_from: QWidget | None) -> None:
        """When ``dlg`` closes, the keyboard goes back to where it was when it opened (without
        a window manager to do it, it would be nowhere and no shortcut would work)."""
        if came_from is not None:
            return_focus(dlg, came_from)

    def show_shortcuts(self) -> None:
        came_from = QApplication.focusWidget()
        self._give_keyboard_back(show_shortcuts(self), came_from)

    def show_about(self) -> None:
        came_from = QApplication.focusWidget()
        self._give_keyboard_back(show_about(self, self.ctx), came_from)

    def _open_settings(self) -> None:
        came_from = QApplication.focusWidget()
        dlg = SettingsDialog(self.ctx, self)
        dlg.config_saved.connect(self.apply_config)
        self._give_keyboard_back(dlg, came_from)
        dlg.open()

    def open_program_report(self) -> Any:
        """File → Program report…: the monthly report of the program, written to a file."""
        from console.ui.report.dialog import ProgramReportDialog

        came_from = QApplication.focusWidget()
        dlg = self.report_dialog = ProgramReportDialog(self.ctx, self)
        dlg.written.connect(lambda path: self.statusBar().showMessage(f"Saved {path}", 10_000))
        self._give_keyboard_back(dlg, came_from)
        dlg.open()
        return dlg

    def apply_config(self, config: Any) -> None:
        """New settings: thresholds reach the tables and the map at once, the theme too."""
        self.ctx.config = config
        for key in ("queue", "board"):
            model = getattr(self.panels.get(key), "model", None)
            if model is not None and hasattr(model, "set_thresholds"):
                model.set_thresholds(config.thresholds)
        self.map_panel.thresholds = config.thresholds
        self.map_panel._push(self.ctx.pictures.current())
        if config.theme in ("dark", "light") and config.theme != self.theme:
            self.apply_theme(config.theme)

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.link_label = QLabel(self)
        self.link_label.setTextFormat(Qt.TextFormat.PlainText)
        self.link_label.setObjectName("status-link")
        self.operator_label = QLabel(f"Operator: {self.ctx.operator}", self)
        self.role_label = QLabel(f"Role: {self.ctx.role}", self)
        can, why = self.ctx.gateway.can_act()
        if not can:
            self.role_label.setText(f"Role: {self.ctx.role} (view only)")
            self.role_label.setToolTip(why)
        self.clock_label = QLabel(self)
        self.clock_label.setObjectName("status-clock")
        for w in (self.link_label, self.operator_label, self.role_label, self.clock_label):
            w.setContentsMargins(8, 0, 8, 0)
            sb.addPermanentWidget(w)
        sb.messageChanged.connect(self._fit_status_message)

    def _fit_status_message(self, message: str) -> None:
        """A message (what was sent, what dispatch confirmed, why an action is greyed out)
        is drawn left of the permanent fields; at a laptop's width, beside the demo's
        controls, that left it a few letters. While one shows and needs the room, the
        operator and role (the same all shift) step aside; the link and the clock stay."""
        steps_aside = (self.operator_label, self.role_label)
        if not message:
            for w in steps_aside:
                w.show()
            return
        sb = self.statusBar()
        need = sb.fontMetrics().horizontalAdvance(message) + 32
        fields = [
            w
            for w in (self.link_label, *steps_aside, self.clock_label, self.demo_controls)
            if w is not None and not w.isHidden()
        ]
        used = sum(w.sizeHint().width() + 8 for w in fields)
        for w in steps_aside:
            if sb.width() - used >= need:
                break
            w.hide()
            used -= w.sizeHint().width() + 8

    # -- live updates -------------------------------------------------------------------------------

    def _on_picture(self, picture: Picture, _changes: Changes | None) -> None:
        self._show_link(picture)

    def _on_link(self, _health: LinkHealth | None) -> None:
        self._show_link(self.ctx.pictures.current())

    def _on_tick(self, now: datetime) -> None:
        local = now.astimezone()
        prefix = "Simulated time " if self.ctx.demo else ("Replay " if self.ctx.replay else "")
        self.clock_label.setText(prefix + local.strftime("%a %d %b %H:%M:%S"))
        self._show_link(self.ctx.pictures.current(), now)

    def _show_link(self, picture: Picture, now: datetime | None = None) -> None:
        now = now or picture.now
        link = picture.link
        if self.ctx.replay:
            text, tip = "Replay", "Replaying a recorded shift"
        elif link is None:
            text = "Dispatch: via the center's sync service"
            tip = "This console reads the shared database; the sync service holds the dispatch link"
            if self.ctx.store is None or self.ctx.store.dialect != "postgresql":
                text, tip = "Dispatch: no link", "This console does not hold the dispatch link"
        elif link.up:
            age = link.message_age_s(datetime.now(UTC))  # the link keeps wall time
            text = "Dispatch: up" + (f" · last message {age:.0f} s ago" if age is not None else "")
            tip = link.url
        else:
            what = "reconnecting" if link.state == LinkState.RECONNECTING else link.state
            text = f"Dispatch: {what} since {link.since.astimezone():%H:%M:%S}"
            if link.retry_in_s is not None:
                text += f" (attempt {link.attempts})"
            tip = link.last_error or link.url
        if link is not None and not self.ctx.replay and not link.encrypted:
            text += " · ⚠ unencrypted link"
            tip = (
                "The dispatch link is not encrypted: what dispatch and this console say to each "
                "other can be read on the network.\n" + tip
            )
        self.link_label.setText(text)
        self.link_label.setToolTip(plain_tip(tip))
        stale = picture.stale
        if stale:
            self.stale_banner.setText("⚠ " + picture.stale_reason)
        if stale != self.stale_banner.isVisible():
            self.stale_banner.setVisible(stale)

    def _on_submitted(self, command_id: str, command: Command) -> None:
        self.statusBar().showMessage(
            f"Sent to dispatch, awaiting its answer: {self._describe(command)}", 8000
        )

    def _welfare_check(self, team_id: str, call_id: str) -> None:
        """The ladder's welfare-check step: the escalate dialog, police chosen, reason given."""
        self.welfare_dialog = open_welfare_check(self.ctx, team_id, call_id, self)

    def _on_rejected(self, command: Command, reason: str) -> None:
        self.notice.show_message(f"Not sent — {self._describe(command)}: {reason}")

    def _on_answered(self, command_id: str, accepted: bool, detail: str) -> None:
        rec = self.ctx.pictures.current().state.commands.get(command_id)
        what = (
            self._describe(rec.command)
            if rec is not None and rec.command is not None
            else command_id
        )
        if accepted:
            self.statusBar().showMessage(f"Dispatch confirmed: {what}", 8000)
        else:
            self.notice.show_message(
                f"Dispatch refused — {what}: {detail or 'no reason given'}. The view shows dispatch's picture."
            )

    def show_integrity_failure(self, reason: str) -> None:
        """The stored history failed its check at start: say so until the console closes."""
        self.integrity_banner.setText(
            f"⚠ The stored history does not verify: {reason}. Tell the administrator; "
            "run `responder-console db verify` for the whole check."
        )
        self.integrity_banner.show()

    @staticmethod
    def _describe(command: Command) -> str:
        subject = command.call_id or command.team_id or ""
        return f"{subject} {describe_command(command)}".strip()

    # -- theme and layout ---------------------------------------------------------------------------

    def apply_theme(self, name: str) -> None:
        self.theme = name
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, name)
        for b in (self.demo_banner, self.stale_banner, self.integrity_banner, self.notice.label):
            b.set_theme(name)
        for key in ("queue", "board", "followups", "workload"):
            panel = self.panels.get(key)
            if panel is not None and hasattr(panel, "set_theme"):
                panel.set_theme(name)
        self.map_panel.set_dark(name == "dark")
        if self.theme_action.isChecked() != (name == "light"):
            self.theme_action.blockSignals(True)
            self.theme_action.setChecked(name == "light")
            self.theme_action.blockSignals(False)

    @property
    def _layout_key(self) -> str:
        # Live and replay keep their own layouts (replay has a timeline the live console lacks);
        # the theme is shared.
        return "replay-window" if self.ctx.replay else "window"

    def restore_layout(self) -> bool:
        """Geometry, docks and theme as the supervisor left them; False if none was saved."""
        s = self.settings
        geo = s.value(f"{self._layout_key}/geometry")
        state = s.value(f"{self._layout_key}/state")
        if isinstance(geo, QByteArray):
            self.restoreGeometry(geo)
        restored = isinstance(state, QByteArray) and self.restoreState(state, SETTINGS_VERSION)
        if isinstance(state, QByteArray) and not restored:
            log.info("saved window layout is from another version; using the default")
        theme = s.value("window/theme")
        if theme in ("dark", "light") and theme != self.theme:
            self.apply_theme(str(theme))
        self._restored = bool(restored)
        return self._restored

    def save_layout(self) -> None:
        s = self.settings
        s.setValue(f"{self._layout_key}/geometry", self.saveGeometry())
        s.setValue(f"{self._layout_key}/state", self.saveState(SETTINGS_VERSION))
        s.setValue("window/theme", self.theme)
        s.sync()
        if s.fileName():  # the layout file is the user's alone, like everything else written
            make_private(s.fileName())

    def reset_layout(self) -> None:
        for dock in self.docks.values():
            dock.show()
        self.restoreState(self._default_state, SETTINGS_VERSION)
        self._size_docks()

    # -- proportions: extra room is shared, and shrinking then growing gives it back --------------

    def _side_docks(self) -> tuple[QDockWidget | None, QDockWidget | None, QDockWidget | None]:
        """The docked, shown panels that set the left and right columns' widths and the bottom
        row's height (whichever panel of each area is shown)."""

        def first(area: Qt.DockWidgetArea) -> QDockWidget | None:
            for d in self.docks.values():
                if self.dockWidgetArea(d) == area and d.isVisible() and not d.isFloating():
                    return d
            return None

        return (
            first(Area.LeftDockWidgetArea),
            first(Area.RightDockWidgetArea),
            first(Area.BottomDockWidgetArea),
        )

    def _keep_restored_shares(self) -> None:
        self._note_shares()
        self._sized_at = self.size()

    def dock_shares(self) -> _DockShares | None:
        """The share of the window's width (left, right) and height (bottom) the docks keep."""
        return self._shares

    def _note_shares(self) -> None:
        """The supervisor moved a splitter (the window kept its size): keep the new shares."""
        w, h = self.width(), self.height()
        if w <= 0 or h <= 0:
            return
        left, right, bottom = self._side_docks()
        old = self._shares or _DockShares(0.4, 0.18, 0.3)
        self._shares = _DockShares(
            left.width() / w if left is not None else old.left,
            right.width() / w if right is not None else old.right,
            bottom.height() / h if bottom is not None else old.bottom,
        )

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        # The end of a drag on a separator between the docks and the map: keep the new shares.
        if self._sized_at is not None and self.size() == self._sized_at:
            self._note_shares()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        shares = self._shares
        if shares is None or self._sized_at is None or self.size() == self._sized_at:
            return
        # The window changed size: each dock keeps its share (rather than the map taking all
        # the difference), and a window grown again after shrinking gets its proportions back.
        w, h = self.width(), self.height()
        left, right, bottom = self._side_docks()
        cols = [(d, f) for d, f in ((left, shares.left), (right, shares.right)) if d]
        if cols:
            self.resizeDocks(
                [d for d, _ in cols], [int(f * w) for _, f in cols], Qt.Orientation.Horizontal
            )
        if bottom is not None:
            self.resizeDocks([bottom], [int(shares.bottom * h)], Qt.Orientation.Vertical)
        self._sized_at = self.size()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            # The keyboard starts in the call queue (on no call: the first arrow chooses),
            # not in the map page, where the arrows pan and the window's keys do nothing.
            queue = self.panels["queue"]
            queue.table.setFocus(Qt.FocusReason.OtherFocusReason)  # type: ignore[attr-defined]
            if not self._restored:
                # Dock sizes only stick once the window has its real geometry.
                QTimer.singleShot(0, self._size_docks)
            else:
                QTimer.singleShot(0, self._keep_restored_shares)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.confirm_quit():
            event.ignore()
            return
        self.save_layout()
        super().closeEvent(event)

    def confirm_quit(self) -> bool:
        """With an emergency not acknowledged, quitting (Ctrl+Q, closing the window) asks
        first; "Stay" is the default. A replay, or a stop asked by the system, does not ask."""
        critical = [] if self.ctx.replay or not self.ask_before_quit else self.alert_banner.critical
        if not critical or not self.isVisible():
            return True
        names = "\n".join(f"• {a.message}" for a in critical[:5])
        more = f"\n… and {len(critical) - 5} more" if len(critical) > 5 else ""
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Quit with an emergency open?",
            f"{len(critical)} emergency alert(s) not acknowledged:\n{names}{more}\n\n"
            "Nobody at this console will hear them once it is closed.",
            parent=self,
        )
        leave = box.addButton("&Quit anyway", QMessageBox.ButtonRole.DestructiveRole)
        stay = box.addButton("&Stay", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(stay)
        box.setEscapeButton(stay)
        self.quit_box = box
        try:
            box.exec()
            return box.clickedButton() is leave
        finally:
            self.quit_box = None

    def _on_focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        """The keyboard left a dialog of this window because the dialog closed (not because
        another program took it) and went nowhere (no window manager gave it back, or the
        dialog was not opened by an action that does): it comes back here, to the widget
        that last had it, so the window's shortcuts work again."""
        if new is not None or old is None or not shiboken6.isValid(old):
            return
        dialog = old.window()
        if dialog is self or not dialog.isHidden() or not self._owns(dialog):
            return
        QTimer.singleShot(0, self, self._take_keyboard_back)

    def _owns(self, w: QWidget) -> bool:
        p = w.parentWidget()
        while p is not None:
            if p is self:
                return True
            p = p.parentWidget()
        return False

    def _take_keyboard_back(self) -> None:
        if (
            QApplication.focusWidget() is not None
            or QApplication.activeModalWidget() is not None
            or not self.isVisible()
            or self.isMinimized()
        ):
            return
        self.activateWindow()
        target = self.focusWidget() or self.panels["queue"]
        target.setFocus(Qt.FocusReason.ActiveWindowFocusReason)

    def dispose(self) -> None:
        """Tear down the web view first (QtWebEngine wants its page gone before the profile)."""
        app = QApplication.instance()
        if isinstance(app, QApplication):
            with contextlib.suppress(RuntimeError, TypeError):
                app.focusChanged.disconnect(self._on_focus_changed)
        self.map_panel.dispose()
