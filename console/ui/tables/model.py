"""The table model both the call queue (:mod:`console.ui.queue.model`) and the team board
(:mod:`console.ui.board.model`) build on, and what they share: roles, marks, palettes, keys.

Each model is a thin adapter over plain-Python records (the domain's frozen ``Call`` / ``Team``):
``set_picture`` diffs the new picture against the rows shown and emits ``rowsInserted`` for new
ids, ``dataChanged`` (with the roles that changed) for changed rows and ``rowsRemoved`` for gone
ones. It never resets the model, so a supervisor's selection and scroll position survive a live
feed. ``tick`` moves the clock: only the time columns are recomputed and announced, and a time
column sorts by the moment it counts from (``since_key``), so a tick never makes a sorting proxy
re-sort.

Use through ``CallQueueProxy`` / ``TeamBoardProxy``: they sort on ``SORT_ROLE`` (numbers for
ages, priorities, counts) and filter status and text on ``FILTER_ROLE``; a view finds the record
behind any index with ``ID_ROLE``.

Every cell is computed once per change into a small record and written into Qt's own items, so
views (which ask for data far more often than the picture changes) never call into Python.

Colour is never the only signal: an overdue timer also gets a ``!`` marker, bold text and a
tooltip that says why; unsafe calls show ``⚠`` and their flags; commands awaiting dispatch's
answer show ``⟳``.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QRegularExpression,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont, QStandardItem, QStandardItemModel

from console.domain.commands import (
    AddNote,
    AssignTeam,
    ChangePriority,
    Command,
    CommandRecord,
    EscalateCall,
    ReassignCall,
    RequestCheckin,
    SetTeamService,
)
from console.domain.model import CallStatus, TeamStatus
from console.domain.rules import Thresholds
from console.ui.core.labels import plain_tip

ID_ROLE = int(Qt.ItemDataRole.UserRole)
"""The row's raw id (call or team id), whatever the column."""
SORT_ROLE = int(Qt.ItemDataRole.UserRole) + 1
"""A sort key: numbers for ages, priorities and counts, so a proxy sorts numerically."""
STATUS_ROLE = int(Qt.ItemDataRole.UserRole) + 2
"""The row's raw status value (``pending``, ``on_scene`` ...), for status filters."""
FILTER_ROLE = int(Qt.ItemDataRole.UserRole) + 3
"""The row's status between separators, then its searchable text (its columns that do not
tick): what the proxies filter on."""

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
_ACCESSIBLE = int(Qt.ItemDataRole.AccessibleTextRole)
PARTIAL_TICK_JUMP_S = 5.0
"""A picture of a few changes ticks every row only if the clock jumped this far (a seek)."""
TICK_ROWS = 100
"""Rows a tick step rewrites: a 300-row queue ticks in three short turns, not one long one."""
_SEP = "\x1f"
"""Brackets the status at the start of ``FILTER_ROLE`` (no one types it into a filter box)."""
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

OVERDUE_MARK = "!"
UNSAFE_MARK = "⚠"
PENDING_MARK = "⟳"  # in DejaVu Sans (the hourglass is not), so it never renders as a box
STALE_MARK = "◌"  # in DejaVu Sans (the hourglass is not), so it never renders as a box


# -- palette -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Palette:
    """The colours the models use, by meaning. The window picks one per theme."""

    name: str
    overdue_bg: str
    overdue_fg: str
    unsafe_fg: str
    pending_fg: str
    muted_fg: str
    priority_fg: Mapping[int, str]
    team_status_fg: Mapping[TeamStatus, str]
    call_status_fg: Mapping[CallStatus, str] = field(default_factory=dict)
    held_bg: str = "#4d3a7bd5"
    """A row held in place while the supervisor is on the table (translucent: #AARRGGBB)."""


def _from_theme(name: str) -> Palette:
    """The models' colours come from the theme: one source for tables, map and plots."""
    from console.ui.core.theme import colors

    t = colors(name)
    return Palette(
        name=name,
        overdue_bg=t.overdue_bg,
        overdue_fg=t.overdue_fg,
        unsafe_fg=t.unsafe,
        pending_fg=t.pending,
        muted_fg=t.muted,
        priority_fg=dict(t.priority),
        team_status_fg=dict(t.team_status),
        # Only a waiting call, and a status dispatch sent that the console cannot map, are
        # coloured in the queue; other statuses keep the text colour.
        call_status_fg={s: t.call_status[s] for s in (CallStatus.PENDING, CallStatus.UNKNOWN)},
    )


DARK_PALETTE = _from_theme("dark")
LIGHT_PALETTE = _from_theme("light")

PALETTES: dict[str, Palette] = {p.name: p for p in (DARK_PALETTE, LIGHT_PALETTE)}


def palette_for(theme: str) -> Palette:
    try:
        return PALETTES[theme]
    except KeyError:
        raise ValueError(
            f"theme {theme!r} is not allowed (expected {' or '.join(PALETTES)})"
        ) from None


# -- formatting helpers ---------------------------------------------------------------------------


def format_age(seconds: float) -> str:
    """``mm:ss`` under an hour, ``h:mm h`` from an hour on (the ``h`` keeps 1:05 h apart from
    1 min 5 s)."""
    s = max(0, int(seconds))
    if s < 3600:
        return f"{s // 60:02d}:{s % 60:02d}"
    return f"{s // 3600}:{s % 3600 // 60:02d} h"


def minutes_text(seconds: float) -> str:
    return f"{seconds / 60:.0f} min"


NEVER_KEY = 1e18
"""Sort key of a time that never happened (no check-in yet): older than any."""


def since_key(t: datetime) -> float:
    """Sort key of a time column: the later the moment counted from, the smaller the age, so
    ascending keys are ascending ages. It does not change as the clock moves."""
    return -t.timestamp()


def natural_key(text: str) -> str:
    """A string that sorts ``CRT-2`` before ``CRT-10`` (digit runs zero-padded)."""
    return re.sub(r"\d+", lambda m: m.group(0).rjust(10, "0"), text)


def words_text(value: str) -> str:
    return value.replace("_", " ")


def describe_command(command: Command) -> str:
    """A short phrase for a command awaiting dispatch's answer: ``assign CRT-3``."""
    if isinstance(command, AssignTeam):
        return f"assign {command.team_id}"
    if isinstance(command, ReassignCall):
        return f"reassign to {command.team_id}"
    if isinstance(command, EscalateCall):
        return f"escalate to {words_text(command.target.value)}"
    if isinstance(command, ChangePriority):
        return f"priority P{command.priority}"
    if isinstance(command, AddNote):
        return "note"
    if isinstance(command, SetTeamService):
        return "back in service" if command.in_service else "out of service"
    if isinstance(command, RequestCheckin):
        return "check-in requested"
    return words_text(command.kind)


def pending_by(pending: Iterable[Command | CommandRecord], key: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in pending:
        if isinstance(item, CommandRecord):
            if not item.pending or item.command is None:
                continue
            command = item.command
        else:
            command = item
        subject = command.call_id if key == "call" else command.team_id
        if key == "team" and isinstance(command, AddNote | EscalateCall | ChangePriority):
            continue  # about the call, not the team
        if subject:
            out.setdefault(subject, []).append(describe_command(command))
    return out


# -- cells ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cell:
    """Everything a view may ask of one cell. Colours are palette attribute names."""

    text: str
    sort: Any
    tip: str | None = None
    fg: str | None = None
    bg: str | None = None
    bold: bool = False
    accessible: str | None = None


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    title: str
    tip: str
    ticking: bool = False
    align_right: bool = False
    hidden: bool = False
    """A column only for sorting (the default order): never shown, never offered."""


class RecordTableModel(QStandardItemModel):
    """Rows keyed by id, kept in arrival order; pictures applied by diffing, never by reset.

    The cells live in Qt's own items: a view painting thirty rows, and a proxy sorting three
    hundred, then never call back into Python (each call would also wait for the interpreter
    lock while the feed's thread holds it). Python keeps each row's :class:`Cell` list only to
    know what changed, and writes just that.
    """

    COLUMNS: ClassVar[tuple[Column, ...]] = ()

    def __init__(
        self,
        thresholds: Thresholds | None = None,
        palette: Palette = DARK_PALETTE,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(0, len(self.COLUMNS), parent)
        self._thresholds = thresholds or Thresholds()
        self._palette = palette
        self._ids: list[str] = []
        self._row_of: dict[str, int] = {}
        self._records: dict[str, Any] = {}
        self._status: dict[str, str] = {}
        self._cells: list[list[Cell]] = []
        self._search: list[str] = []
        self._now: datetime | None = None
        self._ticked_at: datetime | None = None
        """When the time columns were last recomputed."""
        self._brushes: dict[str, QBrush] = {}
        self._marks: dict[str, str] = {}
        """Row tints by id (:meth:`mark_rows`), under the cells' own colours."""
        self._backlog: dict[str, Any] = {}
        """Records given but not yet written, by id (see :meth:`budgeted`)."""
        self._budget: int | None = None
        self._bold = QFont()
        self._bold.setBold(True)
        self._ticking = [i for i, c in enumerate(self.COLUMNS) if c.ticking]
        self._static = [i for i, c in enumerate(self.COLUMNS) if not c.ticking]
        for i, col in enumerate(self.COLUMNS):
            head = QStandardItem(col.title)
            head.setToolTip(col.tip)
            head.setData(_RIGHT if col.align_right else _LEFT, _ALIGN)
            self.setHorizontalHeaderItem(i, head)

    # -- subclass hooks --
    def _record_id(self, record: Any) -> str:
        raise NotImplementedError

    def _record_status(self, record: Any) -> str:
        raise NotImplementedError

    def _static_cell(self, col: int, record: Any) -> Cell:
        raise NotImplementedError

    def _ticking_cell(self, col: int, record: Any, now: datetime) -> Cell:
        raise NotImplementedError

    # -- public API --
    @property
    def now(self) -> datetime | None:
        return self._now

    @property
    def thresholds(self) -> Thresholds:
        return self._thresholds

    @property
    def palette(self) -> Palette:
        return self._palette

    def ids(self) -> list[str]:
        """Row ids in source-model order."""
        return list(self._ids)

    def row_of(self, record_id: str) -> int | None:
        return self._row_of.get(record_id)

    def record(self, record_id: str) -> Any:
        return self._records.get(record_id)

    def index_of(self, record_id: str, column: int = 0) -> QModelIndex:
        row = self._row_of.get(record_id)
        return QModelIndex() if row is None else self.index(row, column)

    def column_of(self, key: str) -> int:
        for i, c in enumerate(self.COLUMNS):
            if c.key == key:
                return i
        raise KeyError(f"no column {key!r} (columns: {', '.join(c.key for c in self.COLUMNS)})")

    def tick(self, now: datetime) -> None:
        """The clock moved: recompute the time columns only, and write the cells whose text or
        colour changed. Their sort keys do not move with the clock, so no proxy re-sorts."""
        for _ in self.tick_steps(now):
            pass

    def tick_steps(self, now: datetime, rows: int = TICK_ROWS) -> Iterator[None]:
        """:meth:`tick` in steps of ``rows`` rows (a panel runs one step per turn of the event
        loop). A later tick, or a picture that ticks, ends it: the rows it did not reach are
        then brought to that newer moment."""
        self._now = now
        self._ticked_at = now
        ids = list(self._ids)
        for start in range(0, len(ids), rows):
            if self._ticked_at is not now:
                return
            for rid in ids[start : start + rows]:
                row = self._row_of.get(rid)
                if row is None:
                    continue  # removed by a picture between two steps
                rec = self._records[rid]
                cells = self._cells[row]
                for col in self._ticking:
                    cell = self._ticking_cell(col, rec, now)
                    old = cells[col]
                    if cell != old:
                        cells[col] = cell
                        roles = self._changed_roles(old, cell)
                        if _BACKGROUND in roles and cell.bg is None and rid in self._marks:
                            roles[_BACKGROUND] = self._brush(self._marks[rid])
                        self.setItemData(self.index(row, col), roles)
            yield

    def set_thresholds(self, thresholds: Thresholds) -> None:
        self._thresholds = thresholds
        if self._now is not None:
            self.tick(self._now)

    def set_palette(self, palette: Palette) -> None:
        """Switch theme: colours change, nothing else; no reset."""
        self._palette = palette
        self._brushes.clear()
        for row, cells in enumerate(self._cells):
            for col, cell in enumerate(cells):
                if cell.fg or cell.bg:
                    self.setItemData(
                        self.index(row, col),
                        {_FOREGROUND: self._brush(cell.fg), _BACKGROUND: self._brush(cell.bg)},
                    )

    def mark_rows(self, ids: Collection[str], bg: str | None) -> None:
        """Tint the rows of ``ids`` with the palette colour ``bg`` (None: back to their own
        colours). A cell with a colour of its own (an overdue age) keeps it."""
        brush = self._brush(bg)
        for rid in ids:
            if bg is None:
                self._marks.pop(rid, None)
            else:
                self._marks[rid] = bg
            row = self._row_of.get(rid)
            if row is None:
                continue
            for col, cell in enumerate(self._cells[row]):
                if cell.bg is None:
                    self.setItemData(self.index(row, col), {_BACKGROUND: brush})

    # -- diffing --
    def _apply(
        self, records: Iterable[Any], now: datetime, only: Collection[str] | None = None
    ) -> None:
        """Show ``records`` at ``now``. With ``only``, ``records`` are the rows of those ids
        alone (an id missing from them is removed) and every other row stays as it is: a busy
        feed changes a few calls of hundreds between two pictures."""
        self._now = now
        new: dict[str, Any] = {}
        for rec in records:
            new[self._record_id(rec)] = rec  # last one wins on a duplicate id

        # 1. Removed ids, bottom-up in contiguous runs.
        candidates: Iterable[str] = self._ids if only is None else only
        gone = sorted(
            (self._row_of[i] for i in candidates if i not in new and i in self._row_of),
            reverse=True,
        )
        for first, last in _runs_desc(gone):
            for rid in self._ids[first : last + 1]:
                del self._records[rid]
                del self._status[rid]
                self._marks.pop(rid, None)
            del self._ids[first : last + 1]
            del self._cells[first : last + 1]
            del self._search[first : last + 1]
            self._row_of = {rid: r for r, rid in enumerate(self._ids)}
            self.removeRows(first, last - first + 1)

        # 2. Time columns move with ``now`` — at most once a second (ages show whole seconds;
        #    a jump such as a replay seek always counts). Before the changed rows, whose cells
        #    are then computed at the same ``now``. A picture of a few changes leaves the
        #    clock to the panel's stepped tick, unless time jumped: ticking every row here
        #    would put the whole table's repaint into this one update.
        ticked = self._ticked_at
        moved = abs((now - ticked).total_seconds()) if ticked is not None else math.inf
        if moved >= (1.0 if only is None else PARTIAL_TICK_JUMP_S):
            self.tick(now)

        # 3. Changed and new rows wait in the backlog (newer records replace waiting ones) and
        #    are written from it: all at once, or ``budget`` rows now and the rest on later
        #    turns of the event loop (:meth:`apply_backlog`).
        if only is None:
            self._backlog.clear()  # a whole picture supersedes what was waiting
        else:
            for rid in only:
                if rid not in new:
                    self._backlog.pop(rid, None)
        self._backlog.update(new)
        self.apply_backlog()

    def has_backlog(self) -> bool:
        """Records given by a budgeted picture wait to be written (:meth:`apply_backlog`)."""
        return bool(self._backlog)

    @contextlib.contextmanager
    def budgeted(self, rows: int) -> Iterator[None]:
        """Pictures applied inside write at most ``rows`` changed or new rows; the others wait
        in the backlog for :meth:`apply_backlog` (a panel runs it one step per turn)."""
        old, self._budget = self._budget, rows
        try:
            yield
        finally:
            self._budget = old

    def apply_backlog(self) -> bool:
        """Write waiting records: changed rows (only the cells whose content changed), then new
        rows (appended in the order given), at most the budget's number of rows. Returns whether
        some still wait."""
        if not self._backlog:
            return False
        budget = self._budget
        now = self._ticked_at or self._now
        assert now is not None
        written = 0
        existing = sorted((self._row_of[i], i) for i in self._backlog if i in self._row_of)
        for row, rid in existing:
            if budget is not None and written >= budget:
                return True
            if self._write_record(row, rid, self._backlog.pop(rid), now):
                written += 1
        for rid in [i for i in self._backlog if i not in self._row_of]:
            if budget is not None and written >= budget:
                return True
            self._append_record(rid, self._backlog.pop(rid), now)
            written += 1
        return False

    def _write_record(self, row: int, rid: str, rec: Any, now: datetime) -> bool:
        """Show ``rec`` in its row: only the cells whose content changed (a time column counts
        as changed only if what it counts from moved, or its text did). False: nothing did."""
        if rec is self._records[rid] or rec == self._records[rid]:
            return False
        self._records[rid] = rec
        cells = self._row_cells(rec, now)
        old = self._cells[row]
        status = self._record_status(rec)
        head_changed = status != self._status[rid]
        self._status[rid] = status
        writes: dict[int, dict[int, Any]] = {}
        for c in range(len(self.COLUMNS)):
            if old[c] != cells[c]:
                old[c] = cells[c]
                if c != 0:
                    roles = self._roles(cells[c], c)
                    if cells[c].bg is None and rid in self._marks:
                        roles[_BACKGROUND] = self._brush(self._marks[rid])
                    writes[c] = roles
                else:
                    head_changed = True
        search = self._search_text(old)
        if search != self._search[row]:
            self._search[row] = search
            head_changed = True
        if head_changed:  # column 0 carries the row's status and search text
            writes[0] = self._head_roles(row)
        self._write_row(row, writes)
        return True

    def _append_record(self, rid: str, rec: Any, now: datetime) -> None:
        row = len(self._ids)
        self._row_of[rid] = row
        self._ids.append(rid)
        self._records[rid] = rec
        self._status[rid] = self._record_status(rec)
        cells = self._row_cells(rec, now)
        self._cells.append(cells)
        self._search.append(self._search_text(cells))
        items = []
        for c, cell in enumerate(cells):
            item = QStandardItem()
            item.setFlags(_FLAGS)
            roles = self._head_roles(row) if c == 0 else self._roles(cell, c)
            roles[ID_ROLE] = rid  # in every column: any index names its record
            for role, value in roles.items():
                if value is not None:
                    item.setData(value, role)
            items.append(item)
        self.appendRow(items)

    def _write_row(self, row: int, writes: Mapping[int, Mapping[int, Any]]) -> None:
        """Write cells of one row (column -> roles), announced as one change of the row's span.

        One ``dataChanged`` instead of one per cell: a sorting proxy then re-sorts and
        re-filters the row once, and a view repaints it once, however many of its cells
        changed."""
        if not writes:
            return
        if len(writes) == 1:
            ((col, roles),) = writes.items()
            self.setItemData(self.index(row, col), dict(roles))
            return
        blocked = self.blockSignals(True)
        try:
            for col, roles in writes.items():
                self.setItemData(self.index(row, col), dict(roles))
        finally:
            self.blockSignals(blocked)
        changed = sorted({r for roles in writes.values() for r in roles})
        self.dataChanged.emit(self.index(row, min(writes)), self.index(row, max(writes)), changed)

    def _row_cells(self, rec: Any, now: datetime) -> list[Cell]:
        return [
            self._ticking_cell(i, rec, now) if c.ticking else self._static_cell(i, rec)
            for i, c in enumerate(self.COLUMNS)
        ]

    def _search_text(self, cells: list[Cell]) -> str:
        # The spoken text where there is one: a column that shows a mark alone (the safety
        # flags' ⚠) is still found by its words ("weapon", "unsafe").
        return " ".join(t for c in self._static if (t := cells[c].accessible or cells[c].text))

    def _roles(self, cell: Cell, col: int) -> dict[int, Any]:
        """What a view may ask of a cell, as item roles (None removes a role)."""
        roles: dict[int, Any] = {
            _DISPLAY: cell.text,
            _TOOLTIP: plain_tip(cell.tip) if cell.tip else cell.tip,
            _FOREGROUND: self._brush(cell.fg),
            _BACKGROUND: self._brush(cell.bg),
            _FONT: self._bold if cell.bold else None,
            _ACCESSIBLE: cell.accessible or cell.text,
        }
        roles[SORT_ROLE] = cell.sort
        roles[_ALIGN] = _RIGHT if self.COLUMNS[col].align_right else None
        return roles

    def _changed_roles(self, old: Cell, new: Cell) -> dict[int, Any]:
        """Only the roles whose value differs (a tick usually changes the text alone: fewer
        values to hand to Qt, three hundred times a second)."""
        roles: dict[int, Any] = {}
        if new.text != old.text:
            roles[_DISPLAY] = new.text
        if (new.accessible or new.text) != (old.accessible or old.text):
            roles[_ACCESSIBLE] = new.accessible or new.text
        if new.tip != old.tip:
            roles[_TOOLTIP] = plain_tip(new.tip) if new.tip else new.tip
        if new.fg != old.fg:
            roles[_FOREGROUND] = self._brush(new.fg)
        if new.bg != old.bg:
            roles[_BACKGROUND] = self._brush(new.bg)
        if new.bold != old.bold:
            roles[_FONT] = self._bold if new.bold else None
        return roles

    def _head_roles(self, row: int) -> dict[int, Any]:
        """Column 0 also carries the row's id, status and search text (for the proxies)."""
        rid = self._ids[row]
        cell = self._cells[row][0]
        roles = self._roles(cell, 0)
        if cell.bg is None and rid in self._marks:
            roles[_BACKGROUND] = self._brush(self._marks[rid])
        roles[ID_ROLE] = rid
        roles[STATUS_ROLE] = self._status[rid]
        roles[FILTER_ROLE] = f"{_SEP}{self._status[rid]}{_SEP}{self._search[row]}"
        return roles

    def _brush(self, name: str | None) -> QBrush | None:
        if name is None:
            return None
        brush = self._brushes.get(name)
        if brush is None:
            value = _palette_value(self._palette, name)
            brush = QBrush(QColor(value)) if value else QBrush()
            self._brushes[name] = brush
        return brush if brush.style() != Qt.BrushStyle.NoBrush else None


def _palette_value(p: Palette, name: str) -> str | None:
    """``overdue_bg`` or a keyed colour such as ``priority_fg:1`` / ``team_status_fg:on_scene``."""
    if ":" in name:
        attr, key = name.split(":", 1)
        table: Mapping[Any, str] = getattr(p, attr)
        for k, v in table.items():
            if str(k) == key:
                return v
        return None
    value = getattr(p, name, None)
    return value if isinstance(value, str) else None


def _runs_desc(rows_desc: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for r in rows_desc:
        if runs and runs[-1][0] == r + 1:
            runs[-1] = (r, runs[-1][1])
        else:
            runs.append((r, r))
    return runs


# -- the call queue ------------------------------------------------------------------------------


# -- the team board ------------------------------------------------------------------------------


# -- proxies ------------------------------------------------------------------------------------


class StatusTextProxy(QSortFilterProxyModel):
    """Numeric sorting through ``SORT_ROLE``; a case-insensitive text filter over the row's
    searchable text; an optional status filter.

    Both filters are one regular expression over ``FILTER_ROLE`` (the row's status between
    separators, then its text), so filtering stays inside Qt: a Python ``filterAcceptsRow``
    would be called for every cell the feed changes.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterRole(FILTER_ROLE)
        self.setFilterKeyColumn(0)
        self.setDynamicSortFilter(True)
        self._statuses: frozenset[str] | None = None
        self._pinned: frozenset[str] = frozenset()
        self._text = ""

    def set_text_filter(self, text: str) -> None:
        text = text.strip()
        if text != self._text:
            self._text = text
            self._refilter()

    def set_status_filter(self, statuses: Collection[str] | None) -> None:
        """Show only rows whose status is in ``statuses`` (None: all)."""
        new = frozenset(statuses) if statuses is not None else None
        if new != self._statuses:
            self._statuses = new
            self._refilter()

    def set_pinned(self, ids: Collection[str]) -> None:
        """Rows of ``ids`` pass the status filter whatever their status (the text filter still
        applies)."""
        new = frozenset(ids)
        if new != self._pinned:
            self._pinned = new
            self._refilter()

    @property
    def status_filter(self) -> frozenset[str] | None:
        return self._statuses

    def _refilter(self) -> None:
        pattern = "^"
        if self._statuses is not None:
            alts = "|".join(re.escape(s) for s in sorted(self._statuses)) or "(?!)"
            status = f"{_SEP}(?:{alts}){_SEP}"
            if self._pinned:
                # Or a pinned row: its id is a word of its searchable text.
                ids = "|".join(re.escape(i) for i in sorted(self._pinned))
                status = f"(?:{status}|{_SEP}[^{_SEP}]*{_SEP}(?:.*\\s)?(?:{ids})(?:\\s|$))"
            pattern += f"(?={status})"
        if self._text:
            pattern += ".*" + QRegularExpression.escape(self._text)
        self.setFilterRegularExpression(
            QRegularExpression(pattern, QRegularExpression.PatternOption.CaseInsensitiveOption)
        )

    def hold_order(self, on: bool) -> None:
        """While on, rows keep their places: new rows go to the bottom, changed rows stay.
        Turning it off sorts and filters once (a layout change: selections follow)."""
        if on == (not self.dynamicSortFilter()):
            return
        self.setDynamicSortFilter(not on)
        if not on:
            self.invalidate()  # rows whose status changed meanwhile are filtered now

    def id_at(self, proxy_row: int) -> str | None:
        value = self.data(self.index(proxy_row, 0), ID_ROLE)
        return str(value) if value is not None else None

    def proxy_index_of(self, record_id: str, column: int = 0) -> QModelIndex:
        src = self.sourceModel()
        if not isinstance(src, RecordTableModel):
            return QModelIndex()
        return self.mapFromSource(src.index_of(record_id, column))
