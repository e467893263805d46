"""The call queue panel: open calls, most urgent first, in a filterable table."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QWidget

from console.domain.projection import State
from console.store import Changes
from console.ui.core.context import ConsoleContext
from console.ui.core.picture import Picture
from console.ui.queue.model import CallQueueModel, CallQueueProxy
from console.ui.tables.model import palette_for
from console.ui.tables.panel import (
    TablePanel,
    theme_of,
)


class QueuePanel(TablePanel):
    """Open calls, most urgent first: priority, ticking age, type, status, team, location."""

    kind = "queue"
    primary_action = "assign"

    def __init__(self, ctx: ConsoleContext, parent: QWidget | None = None) -> None:
        self._revealed: str | None = None
        """A closed call shown although "open only" hides it (a replay's jump), until another
        row is chosen."""
        model = CallQueueModel(ctx.config.thresholds, palette_for(theme_of(ctx)))
        proxy = CallQueueProxy()
        super().__init__(ctx, model, proxy, parent)
        self.filter.setPlaceholderText("Filter calls: id, type, status, team, neighborhood…")
        self.only.setText("Open only")
        self.only.setToolTip("Hide cleared, escalated and cancelled calls")
        self.only.toggled.connect(proxy.set_open_only)
        self.only.setChecked(True)
        # Closed calls pile up over a shift: with "open only" the model does not hold them.
        self.only.toggled.connect(lambda _on: self._show(ctx.pictures.current(), None))
        self.default_sort()
        ctx.selection.call_selected.connect(self.select_id)
        ctx.selection.call_revealed.connect(self.reveal)
        ctx.selection.calls_selected.connect(self.select_ids)

    def default_sort(self) -> None:
        """Pending calls first, the longest waiting first; then active calls by priority."""
        self.table.sortByColumn(self.model.column_of("order"), Qt.SortOrder.AscendingOrder)

    def reveal(self, call_id: str) -> None:
        """Show ``call_id`` even if "open only" hides it, marked with when it closed, and
        select it; it goes when another row is chosen."""
        self._revealed = call_id or None
        self.proxy.set_pinned({call_id} if call_id else set())
        self._show(self.ctx.pictures.current(), None)
        self.select_id(call_id)

    def _unreveal(self) -> None:
        if self._revealed is not None and self._revealed != self._chosen:
            self._revealed = None
            self.proxy.set_pinned(set())
            self._show(self.ctx.pictures.current(), None)

    def select_ids(self, ids: list[str]) -> None:
        """Highlight several calls at once (a moment picked on the workload plots)."""
        if len(ids) < 2:
            return
        sm = self.table.selectionModel()
        self._syncing = True
        try:
            for rid in ids[1:]:
                idx = self.proxy.proxy_index_of(rid)
                if idx.isValid():
                    sm.select(
                        idx,
                        QItemSelectionModel.SelectionFlag.Select
                        | QItemSelectionModel.SelectionFlag.Rows,
                    )
        finally:
            self._syncing = False

    def _relevant(self, changes: Changes) -> bool:
        return bool(changes.calls or changes.commands)

    def _show(self, picture: Picture, changes: Changes | None) -> None:
        st: State = picture.state
        pending = [r for r in st.commands.values() if r.pending]
        open_only = self.only.isChecked()
        if changes is not None and not changes.commands and self.model.rowCount():
            # Only the calls that changed (commands mark calls: those take the full diff).
            found = (st.calls.get(i) for i in changes.calls)
            calls = [
                c
                for c in found
                if c is not None and (c.is_open or not open_only or c.id == self._revealed)
            ]
            self.model.set_picture(
                calls,
                picture.now,
                pending,
                only=changes.calls,
                unconfirmed=picture.unconfirmed,
                revealed=self._revealed,
            )
        else:
            calls_all = list(st.open_calls() if open_only else st.calls.values())
            shown = st.calls.get(self._revealed) if self._revealed else None
            if open_only and shown is not None and not shown.is_open:
                calls_all.append(shown)
            self.model.set_picture(
                calls_all,
                picture.now,
                pending,
                unconfirmed=picture.unconfirmed,
                revealed=self._revealed,
            )
        self._size_columns_once()

    def _select_in_ctx(self, rid: str) -> None:
        self.ctx.selection.select_call(rid)
        if self._revealed is not None and rid != self._revealed:
            self.ctx.later(self._unreveal, self._unreveal)  # another row chosen: it goes

    def _clear_in_ctx(self, rid: str) -> None:
        self.ctx.selection.clear_call(rid)

    def menu_kinds(self) -> list[str]:
        return ["assign", "escalate", "priority", "note", "naloxone"]
