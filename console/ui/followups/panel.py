"""The follow-ups dock: due and overdue first, filtered by owner; record an attempt, close one
(asking for its end), or open one by hand for a call."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.domain.program import FollowUp
from console.store import Changes
from console.ui.core.picture import Picture, merge_changes
from console.ui.followups.dialogs import AttemptDialog, CloseDialog, OpenDialog
from console.ui.followups.model import FollowUpsModel, FollowUpsProxy
from console.ui.tables.model import palette_for
from console.ui.tables.panel import setup_record_table, theme_of

ALL_OWNERS = "All owners"


class FollowUpsPanel(QWidget):
    kind = "followups"

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model = FollowUpsModel(ctx.config.thresholds, palette_for(theme_of(ctx)))
        self.proxy = FollowUpsProxy()
        self.proxy.setSourceModel(self.model)
        self.dialog: Any = None
        """The action dialog last opened (for tests and the window)."""

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        top = QHBoxLayout()
        self.filter = QLineEdit(self)
        self.filter.setClearButtonEnabled(True)
        self.filter.setObjectName("followups-filter")
        self.filter.setPlaceholderText("Filter follow-ups: call, owner, cause…")
        self.filter.textChanged.connect(self.proxy.set_text_filter)
        top.addWidget(self.filter, 1)
        self.owner = QComboBox(self)
        self.owner.setObjectName("followups-owner")
        self.owner.setAccessibleName("Owner")
        self.owner.setToolTip("Show one owner's follow-ups")
        self.owner.addItem(ALL_OWNERS)
        self.owner.currentIndexChanged.connect(lambda _i: self._refilter())
        top.addWidget(self.owner)
        self.open_only = QCheckBox("Open only", self)
        self.open_only.setToolTip("Hide closed follow-ups")
        self.open_only.setChecked(True)
        self.open_only.toggled.connect(lambda _on: self._refilter())
        top.addWidget(self.open_only)
        layout.addLayout(top)

        self.table = QTableView(self)
        self.table.setObjectName("followups-table")
        self.table.setModel(self.proxy)
        setup_record_table(self.table)
        self.table.sortByColumn(self.model.column_of("due"), Qt.SortOrder.AscendingOrder)
        self.table.doubleClicked.connect(lambda _i: self.record_attempt())
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        layout.addWidget(self.table, 1)
        self.setFocusProxy(self.table)

        buttons = QHBoxLayout()
        self.attempt_button = QPushButton("Record attempt…", self)
        self.attempt_button.setToolTip("Record an attempt (channel, result) on the selected one")
        self.attempt_button.clicked.connect(self.record_attempt)
        self.close_button = QPushButton("Close…", self)
        self.close_button.setToolTip("Close the selected follow-up, saying how it ended")
        self.close_button.clicked.connect(self.close_selected)
        self.open_button = QPushButton("Open for a call…", self)
        self.open_button.setToolTip("Open a follow-up by hand for the selected call or another")
        self.open_button.clicked.connect(lambda _checked=False: self.open_by_hand())
        for b in (self.attempt_button, self.close_button, self.open_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self._sized = False
        self._pending: Picture | None = None
        self._pending_changes: Changes | None = None

        ctx.pictures.picture_changed.connect(self._on_picture)
        ctx.pictures.tick.connect(self._on_tick)
        self._show(ctx.pictures.current())
        self._row_changed(QModelIndex(), QModelIndex())

    # -- picture -----------------------------------------------------------------------------------

    def _on_picture(self, picture: Picture, changes: Changes | None) -> None:
        if changes is not None and not changes.program:
            return
        self._pending_changes = (
            changes if self._pending is None else merge_changes(self._pending_changes, changes)
        )
        self._pending = picture
        self.ctx.later(self._apply_pending, self._apply_pending)

    def _apply_pending(self) -> None:
        picture, self._pending = self._pending, None
        if picture is not None:
            self._show(picture)

    def _on_tick(self, now: datetime) -> None:
        self.ctx.run_steps((self, "tick"), self.model.tick_steps(now))

    def _show(self, picture: Picture) -> None:
        self.model.set_picture(picture.state.followups.values(), picture.now)
        self._sync_owners()
        self._refilter()
        self._size_columns_once()
        self._row_changed(self.table.currentIndex(), QModelIndex())

    def _sync_owners(self) -> None:
        owners = self.model.owners()
        have = [self.owner.itemText(i) for i in range(1, self.owner.count())]
        if owners == have:
            return
        current = self.owner.currentText()
        self.owner.blockSignals(True)
        self.owner.clear()
        self.owner.addItem(ALL_OWNERS)
        self.owner.addItems(owners)
        i = self.owner.findText(current)
        self.owner.setCurrentIndex(max(i, 0))
        self.owner.blockSignals(False)

    def _refilter(self) -> None:
        chosen = self.owner.currentText()
        self.proxy.set_view(
            self.model.owners(),
            None if chosen in ("", ALL_OWNERS) else chosen,
            self.open_only.isChecked(),
        )

    def set_owner(self, owner: str | None) -> None:
        i = self.owner.findText(owner or ALL_OWNERS)
        if i >= 0:
            self.owner.setCurrentIndex(i)

    def _size_columns_once(self) -> None:
        if self._sized or not self.model.rowCount():
            return
        self._sized = True
        hh = self.table.horizontalHeader()
        fm = self.table.fontMetrics()
        samples = {"call": "HCR-000000", "owner": "Capitol Crisis", "due": "! 48 h overdue"}
        samples |= {"cause": "Outside program hours", "attempts": "Attempts"}
        for i, col in enumerate(self.model.COLUMNS[:-1]):
            text = samples.get(col.key, col.title)
            hh.resizeSection(i, min(fm.horizontalAdvance(text) + 28, 240))

    def set_theme(self, name: str) -> None:
        with contextlib.suppress(ValueError):
            self.model.set_palette(palette_for(name))

    # -- selection and actions ---------------------------------------------------------------------

    def visible_ids(self) -> list[str]:
        return [
            i for i in (self.proxy.id_at(r) for r in range(self.proxy.rowCount())) if i is not None
        ]

    def select_id(self, fid: str) -> bool:
        idx = self.proxy.proxy_index_of(fid)
        if not idx.isValid():
            return False
        self.table.setCurrentIndex(idx)
        self.table.selectRow(idx.row())
        return True

    def selected(self) -> FollowUp | None:
        idx = self.table.selectionModel().currentIndex()
        fid = self.proxy.id_at(idx.row()) if idx.isValid() else None
        return self.model.followup(fid) if fid else None

    def _row_changed(self, _current: QModelIndex, _previous: QModelIndex) -> None:
        can, why = self.ctx.gateway.can_act()
        fu = self.selected()
        for b in (self.attempt_button, self.close_button):
            b.setEnabled(can and fu is not None and fu.is_open)
        self.open_button.setEnabled(can)
        if not can:
            for b in (self.attempt_button, self.close_button, self.open_button):
                b.setToolTip(why)

    def record_attempt(self) -> Any:
        fu = self.selected()
        if fu is None or not fu.is_open:
            return None
        self.dialog = AttemptDialog(self.ctx, fu, parent=self)
        self.dialog.open()
        return self.dialog

    def close_selected(self) -> Any:
        fu = self.selected()
        if fu is None or not fu.is_open:
            return None
        self.dialog = CloseDialog(self.ctx, fu, parent=self)
        self.dialog.open()
        return self.dialog

    def open_by_hand(self, call_id: str | None = None) -> Any:
        cid = call_id or getattr(getattr(self.ctx, "selection", None), "call_id", None)
        self.dialog = OpenDialog(self.ctx, cid, parent=self)
        self.dialog.open()
        return self.dialog
