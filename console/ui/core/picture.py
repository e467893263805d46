"""The picture every panel shows, and where it comes from.

A :class:`PictureSource` hands out immutable-by-convention :class:`Picture` objects. The live
source keeps the projection in step with the database: the first picture is the store's
projection, later ones fold only the events appended since (the same fold the store and replay
use), always on a worker thread, at most four times a second however fast the feed is.
Change notices come from the sync service's callback (any thread); a one-second poll is the
safety net (and the whole mechanism for a console that shares a database it does not write).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from console.domain.changes import Changes, changes_of
from console.domain.clock import Clock, SystemClock
from console.domain.events import Event, TeamStatusChanged
from console.domain.model import Team
from console.domain.projection import State, fold
from console.store import Store
from console.sync.client import LinkHealth, LinkState
from console.ui.core.tasks import TaskManager, default_tasks

log = logging.getLogger(__name__)

MIN_RELOAD_INTERVAL_S = 0.25
"""Coalescing: at most 4 picture reloads a second, whatever the feed's rate."""


@dataclass(frozen=True, slots=True)
class QuarantineNote:
    """How much input from dispatch was refused and kept aside, and the newest reason."""

    count: int
    newest_at: datetime | None = None
    newest_reason: str = ""


@dataclass(frozen=True)
class Picture:
    state: State
    """Treat as read-only; a fresh object per refresh."""
    now: datetime
    """The clock time the picture is shown at (live: wall clock; replay: replay clock)."""
    seq: int
    """Last event seq folded in (0 if unknown)."""
    live: bool
    link: LinkHealth | None
    """Dispatch link health (None in replay / consoles that do not own the link)."""
    stale: bool
    """The link is down or the data is older than ``link_stale_s``."""
    quarantine: QuarantineNote | None = None
    """The store's quarantine, read with the picture (None: not known here, e.g. replay)."""
    team_records: tuple[Team, ...] = ()
    """Every team record the events since the previous picture carried, in log order (live
    only): a picture's state holds each team's latest record, and the workload plots need
    the statuses in between to grow their history in place."""
    unconfirmed: Mapping[str, datetime] = field(default_factory=dict)
    """Open calls dispatch did not re-send after the link came back: call id -> when dispatch
    last confirmed it ("not confirmed since HH:MM"). Empty when not known here."""

    @property
    def stale_reason(self) -> str:
        if not self.stale:
            return ""
        link = self.link
        if link is None:
            return "Data may be out of date"
        if not link.up:
            since = link.since.astimezone().strftime("%H:%M:%S")
            what = "reconnecting" if link.state == LinkState.RECONNECTING else link.state
            err = f" ({link.last_error})" if link.last_error else ""
            return (
                f"Dispatch link down — {what} since {since}{err}. The picture may be out of date."
            )
        age = link.message_age_s(datetime.now(UTC))
        return (
            f"No message from dispatch for {age:.0f} s. The picture may be out of date."
            if age is not None
            else "No message from dispatch yet."
        )


def merge_changes(a: Changes | None, b: Changes | None) -> Changes | None:
    """What two pictures changed together (None: anything may have)."""
    return None if a is None or b is None else a.merge(b)


class PictureSource(QObject):
    """Base of the live and replay sources: the current picture plus a one-second tick."""

    picture_changed = Signal(object, object)
    """(Picture, Changes | None); None: everything may have changed."""
    tick = Signal(object)
    """(datetime now) once a second, for ticking ages without new data."""
    link_changed = Signal(object)
    """(LinkHealth | None) whenever the dispatch link's health changes."""

    def __init__(self, clock: Clock | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.clock: Clock = clock or SystemClock()
        self._picture = Picture(State(), self.clock.now(), 0, True, None, False)
        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self._on_tick)

    def current(self) -> Picture:
        return self._picture

    def start(self) -> None:
        self._ticker.start()

    def stop(self) -> None:
        self._ticker.stop()

    def _on_tick(self) -> None:
        self.tick.emit(self.clock.now())


_State = tuple[State, int, "Changes | None", "tuple[Team, ...]"]
"""A worker's load: state, last seq, what it changed, the team records it carried."""
_Loaded = tuple[_State | None, QuarantineNote | None]
"""What a reload brings: the new state (None: no event appended) and the quarantine."""


class LivePictureSource(PictureSource):
    """The live picture: reload on change notices, on a worker thread, coalesced to <= 4 Hz."""

    _poked = Signal()
    _health = Signal(object)

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock | None = None,
        link_stale_s: float = 30.0,
        tasks: TaskManager | None = None,
        poll_s: float = 1.0,
        min_interval_s: float = MIN_RELOAD_INTERVAL_S,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(clock, parent)
        self.store = store
        self.link_stale_s = link_stale_s
        self._tasks = tasks
        self._min_interval = min_interval_s
        self._state: State | None = None
        self._seq = 0
        self._link: LinkHealth | None = None
        self._quarantine: QuarantineNote | None = None
        self._team_records: tuple[Team, ...] = ()
        self._unconfirmed_of: Callable[[State], Mapping[str, datetime]] | None = None
        self._unconfirmed: Mapping[str, datetime] = {}
        self._dirty = False
        self._in_flight = False
        self._last_start = 0.0
        self._stopped = False
        self.reloads = 0
        """Reloads that produced a new picture (for tests and diagnostics)."""
        self.load_ms: deque[float] = deque(maxlen=1000)
        """Worker time of the latest reloads, in ms (diagnostics, benchmark)."""
        self._delay = QTimer(self)
        self._delay.setSingleShot(True)
        self._delay.timeout.connect(self._maybe_reload)
        self._poll = QTimer(self)
        self._poll.setInterval(int(poll_s * 1000))
        self._poll.timeout.connect(self._maybe_reload_poll)
        self._poked.connect(self._on_poke, Qt.ConnectionType.QueuedConnection)
        self._health.connect(self._on_health, Qt.ConnectionType.QueuedConnection)

    # -- from any thread ------------------------------------------------------------------------

    def notify(self, changes: Changes | None = None) -> None:
        """The store changed (sync callback, NOTIFY...). Thread-safe; cheap; coalesced.

        ``changes`` (None: unknown) is what the write reported: a write the picture already
        folded in (its ``seq`` at or below the loaded one) needs no reload. The reload itself
        reads what changed from the log, so a batch is never missed by coalescing."""
        if self._stopped:
            return
        if changes is not None and changes.seq and changes.seq <= self._seq:
            return  # ``_seq`` only grows: a stale read at worst costs one more reload
        with contextlib.suppress(RuntimeError):  # the source is being deleted at shutdown
            self._poked.emit()

    def set_unconfirmed(self, fn: Callable[[State], Mapping[str, datetime]] | None) -> None:
        """Where to learn which open calls dispatch has not confirmed since the link came back
        (the sync service this console runs); read on the GUI thread with each picture and
        each second's tick (a pass over the open calls)."""
        self._unconfirmed_of = fn

    def _read_unconfirmed(self) -> set[str]:
        """Refresh the unconfirmed calls; the ids whose mark appeared, went or moved."""
        fn, state = self._unconfirmed_of, self._state
        if fn is None or state is None:
            return set()
        try:
            new = dict(fn(state))
        except Exception as e:  # the picture matters more than the mark
            log.warning("could not tell which calls are unconfirmed: %s", e)
            return set()
        old, self._unconfirmed = self._unconfirmed, new
        return {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}

    def set_link(self, health: LinkHealth | None) -> None:
        """The dispatch link's health changed. Thread-safe."""
        if self._stopped:
            return
        with contextlib.suppress(RuntimeError):
            self._health.emit(health)

    # -- GUI thread -------------------------------------------------------------------------------

    @property
    def tasks(self) -> TaskManager:
        return self._tasks or default_tasks()

    def start(self) -> None:
        super().start()
        self._poll.start()
        self._dirty = True
        self._maybe_reload()

    def stop(self) -> None:
        self._stopped = True
        super().stop()
        self._poll.stop()
        self._delay.stop()

    def is_stale(self, now: datetime | None = None, link: LinkHealth | None = None) -> bool:
        """Link down, or no message for ``link_stale_s`` (wall time: the link's own clock)."""
        link = link if link is not None else self._link
        if link is None:
            return False
        if not link.up:
            return True
        age = link.message_age_s(datetime.now(UTC))
        return age is not None and age > self.link_stale_s

    @Slot()
    def _on_poke(self) -> None:
        self._dirty = True
        self._maybe_reload()

    def _maybe_reload_poll(self) -> None:
        self._dirty = True
        self._maybe_reload()

    def _maybe_reload(self) -> None:
        if self._stopped or not self._dirty or self._in_flight:
            return
        wait = self._min_interval - (time.monotonic() - self._last_start)
        if wait > 0:
            if not self._delay.isActive():
                self._delay.start(max(1, int(wait * 1000)))
            return
        self._dirty = False
        self._in_flight = True
        self._last_start = time.monotonic()
        base, seq, q = self._state, self._seq, self._quarantine
        job = self.tasks.run(
            lambda: self._timed_load(base, seq, q), self._loaded, self._load_failed, lane="picture"
        )
        if job is None:
            self._in_flight = False

    def _timed_load(
        self, base: State | None, seq: int, quarantine: QuarantineNote | None
    ) -> _Loaded | None:
        t = time.perf_counter()
        try:
            q = self._load_quarantine(quarantine)
            loaded = self._load(base, seq)
            if loaded is None and q == quarantine:
                return None
            return loaded, q
        finally:
            self.load_ms.append((time.perf_counter() - t) * 1000.0)

    def _load_quarantine(self, known: QuarantineNote | None) -> QuarantineNote | None:
        """Worker thread: the quarantine's count, and its newest item only when it changed."""
        try:
            count = self.store.quarantine_count()
            if known is not None and known.count == count:
                return known
            newest = self.store.quarantined(1) if count else []
        except Exception as e:  # the picture matters more than the count
            log.warning("could not read the quarantine: %s", e)
            return known
        if not newest:
            return QuarantineNote(count)
        return QuarantineNote(count, newest[0].received_at, newest[0].reason)

    def _load(self, base: State | None, seq: int) -> _State | None:
        """Worker thread: a new State, or None when nothing was appended."""
        if base is None:
            last = self.store.last_seq()  # read first: folding a repeat later is harmless
            return self.store.load_state(), last, None, ()
        new: list[Event] = []
        last = seq
        for s, e in self.store.events(after_seq=seq):
            new.append(e)
            last = s
        if not new:
            return None
        state = fold(new, base.fork())
        records = tuple(e.team for e in new if isinstance(e, TeamStatusChanged))
        return state, last, changes_of(new, last), records

    def _loaded(self, result: _Loaded | None) -> None:
        self._in_flight = False
        if self._stopped:
            return
        if result is not None:
            loaded, self._quarantine = result
            if loaded is not None:
                state, seq, changes, records = loaded
                self._state, self._seq = state, seq
                self._team_records += records
                self.reloads += 1
                self._publish(changes)
            else:
                self._publish(Changes())  # the quarantine only
        if self._dirty:
            self._maybe_reload()

    def _load_failed(self, exc: BaseException) -> None:
        self._in_flight = False
        log.error("could not reload the picture: %s", exc, exc_info=exc)
        if self._dirty and not self._stopped:
            self._delay.start(1000)

    def _publish(self, changes: Changes | None) -> None:
        if self._state is None:
            return
        now = self.clock.now()
        records, self._team_records = self._team_records, ()
        marked = self._read_unconfirmed()
        if marked and changes is not None:
            changes = changes.merge(Changes(calls=frozenset(marked)))
        self._picture = Picture(
            self._state,
            now,
            self._seq,
            True,
            self._link,
            self.is_stale(now),
            self._quarantine,
            records,
            self._unconfirmed,
        )
        self.picture_changed.emit(self._picture, changes)

    @Slot(object)
    def _on_health(self, health: LinkHealth | None) -> None:
        old = self._picture
        self._link = health
        now = self.clock.now()
        stale = self.is_stale(now)
        self._picture = Picture(
            old.state, now, old.seq, True, health, stale, old.quarantine, (), old.unconfirmed
        )
        self.link_changed.emit(health)
        if stale != old.stale:
            self.picture_changed.emit(self._picture, Changes())

    def _on_tick(self) -> None:
        now = self.clock.now()
        old = self._picture
        stale = self.is_stale(now)
        marked = self._read_unconfirmed() if self._state is not None else set()
        self._picture = Picture(
            old.state,
            now,
            old.seq,
            old.live,
            old.link,
            stale,
            old.quarantine,
            (),
            self._unconfirmed if self._unconfirmed_of is not None else old.unconfirmed,
        )
        if stale != old.stale or marked:
            self.picture_changed.emit(self._picture, Changes(calls=frozenset(marked)))
        self.tick.emit(now)
