"""Help: the shortcut sheet and About.

The sheet is generated from the QActions the window holds at the moment it opens (menus, docks'
toggle actions, panel actions), so it can never list a shortcut that no longer exists or miss a
new one. An action may set the dynamic property ``group`` to choose its section; otherwise its
menu's title is used.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from typing import Any

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

APP_TITLE = "Responder Console"

DIALOG_KEYS: tuple[tuple[str, str], ...] = (
    ("Accept the dialog (send the action)", "Enter"),
    ("Cancel the dialog", "Esc"),
    ("Add the note (in a note)", "Ctrl+Enter"),
    ("Choose a field, option or button", "Alt + underlined letter"),
    ("Next / previous field", "Tab / Shift+Tab"),
)
"""Keys every action dialog honours; they are not QActions, so they are listed here."""


@dataclass(frozen=True, slots=True)
class ShortcutRow:
    group: str
    action: str
    keys: str
    description: str
    enabled: bool


def _clean(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(".…").strip()


def _group(action: QAction) -> str:
    prop = action.property("group")
    if isinstance(prop, str) and prop:
        return prop
    for obj in action.associatedObjects():
        if isinstance(obj, QMenu) and obj.title():
            return _clean(obj.title())
    return "General"


def window_actions(window: QWidget) -> list[QAction]:
    """Every QAction owned by or added to ``window`` and its children, once each."""
    seen: dict[int, QAction] = {}
    for a in [*window.actions(), *window.findChildren(QAction)]:
        seen.setdefault(id(a), a)
    return list(seen.values())


def shortcut_rows(window: QWidget) -> list[ShortcutRow]:
    rows: list[ShortcutRow] = []
    for a in window_actions(window):
        keys = [k for k in a.shortcuts() if not k.isEmpty()]
        if not keys or a.isSeparator():
            continue
        text = _clean(a.text()) or _clean(a.toolTip()) or a.objectName()
        rows.append(
            ShortcutRow(
                _group(a),
                text,
                ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys),
                a.statusTip() or (a.toolTip() if _clean(a.toolTip()) != text else ""),
                a.isEnabled(),
            )
        )
    rows.sort(key=lambda r: (r.group.lower(), r.action.lower()))
    rows += [ShortcutRow("In dialogs", what, keys, "", True) for what, keys in DIALOG_KEYS]
    return rows


class ShortcutSheet(QDialog):
    """Every shortcut of the window, grouped, searchable."""

    def __init__(self, window: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent or window)
        self.setWindowTitle("Keyboard shortcuts")
        self.rows = shortcut_rows(window)
        lay = QVBoxLayout(self)
        lab = QLabel("&Search:", self)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("action or key")
        self.search.setClearButtonEnabled(True)
        lab.setBuddy(self.search)
        lay.addWidget(lab)
        lay.addWidget(self.search)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["Action", "Shortcut", "Notes"])
        self.tree.setAccessibleName("Keyboard shortcuts")
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        lay.addWidget(self.tree, 1)
        # The notes column is cut at the sheet's size, and the keyboard hovers nothing: the
        # row the arrows are on has its note whole here.
        self.note_line = QLabel(self)
        self.note_line.setWordWrap(True)
        self.note_line.setTextFormat(Qt.TextFormat.PlainText)
        self.note_line.setProperty("role", "muted")
        self.note_line.setMinimumHeight(self.fontMetrics().lineSpacing() * 2)
        lay.addWidget(self.note_line)
        self.tree.currentItemChanged.connect(self._show_note)
        groups: dict[str, QTreeWidgetItem] = {}
        greyed = self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        for r in self.rows:
            parent_item = groups.get(r.group)
            if parent_item is None:
                parent_item = QTreeWidgetItem([r.group])
                font = parent_item.font(0)
                font.setBold(True)
                parent_item.setFont(0, font)
                self.tree.addTopLevelItem(parent_item)
                groups[r.group] = parent_item
            note = r.description if r.enabled else ("not available now. " + r.description).strip()
            item = QTreeWidgetItem([r.action, r.keys, note])
            item.setToolTip(2, note)
            if not r.enabled:
                # Greyed, yet the arrows still reach it: its note is what says why.
                for col in range(3):
                    item.setForeground(col, greyed)
            parent_item.addChild(item)
        self.tree.expandAll()
        self.search.textChanged.connect(self._filter)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        box.rejected.connect(self.reject)
        lay.addWidget(box)
        self.resize(640, 560)
        self.search.setFocus()

    def _show_note(self, item: QTreeWidgetItem | None, _previous: object = None) -> None:
        if item is None or item.parent() is None:
            self.note_line.setText("")
            return
        note = item.text(2)
        self.note_line.setText(f"{item.text(0)} ({item.text(1)}): {note}" if note else "")

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            if group is None:
                continue
            shown = 0
            for j in range(group.childCount()):
                child = group.child(j)
                if child is None:
                    continue
                hit = not needle or any(needle in child.text(c).lower() for c in range(3))
                child.setHidden(not hit)
                shown += hit
            group.setHidden(shown == 0)

    def visible_actions(self) -> list[str]:
        out = []
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            if group is None or group.isHidden():
                continue
            for j in range(group.childCount()):
                child = group.child(j)
                if child is not None and not child.isHidden():
                    out.append(child.text(0))
        return out


def show_shortcuts(window: QWidget) -> ShortcutSheet:
    sheet = ShortcutSheet(window)
    sheet.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    sheet.open()
    return sheet


def version() -> str:
    try:
        return importlib.metadata.version("responder-console")
    except importlib.metadata.PackageNotFoundError:
        return "development"


def about_text(ctx: Any = None) -> str:
    lines = [
        f"<h3>{APP_TITLE} {version()}</h3>",
        "<p>The supervisor's console for civilian crisis-response teams: live map, call queue, "
        "team board, actions, alerts, workload and shift replay.</p>",
        f"<p>Qt {qVersion()}, PySide6 {PySide6.__version__}</p>",
    ]
    if ctx is not None:
        cfg = ctx.config
        lines.append(
            f"<p>Operator: {ctx.operator} ({ctx.role})<br>"
            f"Database: {cfg.database_url_redacted}<br>"
            f"Configuration: {cfg.source or 'built-in defaults'}</p>"
        )
    return "\n".join(lines)


def show_about(parent: QWidget | None, ctx: Any = None) -> QMessageBox:
    box = QMessageBox(parent)
    box.setWindowTitle(f"About {APP_TITLE}")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(about_text(ctx))
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
