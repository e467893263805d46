"""ReplayPictureSource: the window's picture, driven by the replay clock instead of the feed.

A QTimer moves the :class:`~console.replay.engine.PlaybackClock` by the wall time elapsed
(so 3600x means an hour of the shift per second whatever the frame rate); the state comes from
the replay engine -- the same fold as live. Playing forward folds only the events since the last
picture; a seek starts from the engine's nearest snapshot. New pictures are published at most
``publish_hz`` times a second, like the live source, so the panels redraw at a bounded rate
however fast the shift is played.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from PySide6.QtCore import QObject, QTimer, Signal

from console.domain.changes import changes_of
from console.domain.projection import State, fold
from console.replay.engine import Mark, PlaybackClock, ReplayEngine
from console.store import Changes
from console.ui.core.picture import Picture, PictureSource

log = logging.getLogger(__name__)

FRAME_MS = 40
"""Clock resolution: the timeline's cursor moves 25 times a second."""
PUBLISH_HZ = 4.0
"""At most this many new pictures a second while playing (panels are the costly part)."""


class ReplayPictureSource(PictureSource):
    """Pictures of a past shift at the replay clock's time (``live=False``)."""

    position_changed = Signal(object)
    """(datetime) the replay clock moved (every frame while playing; after every jump)."""
    playing_changed = Signal(bool)
    speed_changed = Signal(float)
    decision_reached = Signal(object)
    """(datetime) playback halted on a stop (a training decision point)."""

    def __init__(
        self,
        engine: ReplayEngine,
        *,
        playback: PlaybackClock | None = None,
        publish_hz: float = PUBLISH_HZ,
        frame_ms: int = FRAME_MS,
        parent: QObject | None = None,
    ) -> None:
        self.engine = engine
        self.playback = playback or PlaybackClock(engine)
        super().__init__(self.playback, parent)
        self.shift_file: object | None = None
        """The opened :class:`~console.replay.shiftfile.ShiftFile`, when replaying one."""
        self._min_publish = 1.0 / max(publish_hz, 0.1)
        self._index = -1
        self._state: State | None = None
        self._last_publish = 0.0
        self._last_wall: float | None = None
        self.published = 0
        """Pictures published so far (for tests and diagnostics)."""
        self._frame = QTimer(self)
        self._frame.setInterval(frame_ms)
        self._frame.timeout.connect(self._on_frame)
        self._show(force=True, changes=None)

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        super().start()
        if self.playback.playing:
            self._start_frames()

    def stop(self) -> None:
        super().stop()
        self._frame.stop()

    # -- controls -----------------------------------------------------------------------------

    @property
    def playing(self) -> bool:
        return self.playback.playing

    @property
    def speed(self) -> float:
        return self.playback.speed

    def now(self) -> datetime:
        return self.playback.now()

    def play(self) -> None:
        if self.playback.playing:
            return
        at_end = self.playback.now() >= self.engine.end
        self.playback.play()
        if at_end:
            self._show(force=True, changes=None)
        self._start_frames()
        self.playing_changed.emit(True)

    def pause(self) -> None:
        if not self.playback.playing:
            return
        self.playback.pause()
        self._frame.stop()
        self._show(force=True)
        self.playing_changed.emit(False)

    def toggle(self) -> None:
        if self.playback.playing:
            self.pause()
        else:
            self.play()

    def set_speed(self, speed: float) -> None:
        self.speed_changed.emit(self.playback.set_speed(speed))

    def faster(self) -> None:
        self.speed_changed.emit(self.playback.faster())

    def slower(self) -> None:
        self.speed_changed.emit(self.playback.slower())

    def seek(self, t: datetime) -> None:
        self.playback.jump_to(t)
        self._after_jump()

    def step_next(self) -> None:
        was = self.playback.playing
        self.playback.step_next()
        self._after_jump(was)

    def step_previous(self) -> None:
        was = self.playback.playing
        self.playback.step_previous()
        self._after_jump(was)

    def jump_to_next(self, kind: str | None = None) -> Mark | None:
        m = self.playback.jump_to_next(kind)
        if m is not None:
            self._after_jump()
        return m

    def jump_to_previous(self, kind: str | None = None) -> Mark | None:
        m = self.playback.jump_to_previous(kind)
        if m is not None:
            self._after_jump()
        return m

    def set_stops(self, stops: list[datetime]) -> None:
        self.playback.stops = sorted(stops)

    # -- internals -------------------------------------------------------------------------------

    def _start_frames(self) -> None:
        self._last_wall = time.monotonic()
        if not self._frame.isActive():
            self._frame.start()

    def _after_jump(self, was_playing: bool = False) -> None:
        if was_playing and not self.playback.playing:
            self._frame.stop()
            self.playing_changed.emit(False)
        self._show(force=True, changes=None)

    def _on_frame(self) -> None:
        wall = time.monotonic()
        dt = 0.0 if self._last_wall is None else wall - self._last_wall
        self._last_wall = wall
        # A stalled event loop must not turn into a leap across the shift.
        self.playback.advance(min(dt, 0.5))
        if not self.playback.playing:
            self._frame.stop()
            self._show(force=True)
            stopped = self.playback.stopped_at
            self.playing_changed.emit(False)
            if stopped is not None and stopped == self.playback.now():
                self.decision_reached.emit(stopped)
            return
        self._show(force=False)

    def _show(self, *, force: bool, changes: Changes | bool | None = True) -> None:
        """Publish the picture at the clock's time (throttled unless ``force``).

        ``changes``: True to compute them from the events folded in; None for "everything".
        """
        now = self.playback.now()
        self.position_changed.emit(now)
        wall = time.monotonic()
        if not force and wall - self._last_publish < self._min_publish:
            return
        idx = self.engine.index_at(now)
        if idx == self._index and self._state is not None:
            # No new event: only time moved; ages follow the once-a-second ``tick`` (or at once
            # after a jump).
            old = self._picture
            self._picture = Picture(old.state, now, old.seq, False, None, False)
            if force:
                self.tick.emit(now)
            return
        forward = self._state is not None and self._index <= idx
        if forward and idx - self._index <= self.engine.snapshot_every and self._state is not None:
            new = self.engine.events[self._index : idx]
            state = fold(new, self._state.fork())
            computed = changes_of(new, idx) if changes is True else None
        else:
            state = self.engine.state_at_index(idx)
            computed = None
        self._state, self._index = state, idx
        self._last_publish = wall
        self._picture = Picture(state, now, idx, False, None, False)
        self.published += 1
        self.picture_changed.emit(self._picture, computed)
        if force:
            self.tick.emit(now)  # the clocks that tick (the status bar's) show the jump at once

    def _on_tick(self) -> None:
        # The replay's own time, not the wall clock's, once a second while paused too.
        self.tick.emit(self.playback.now())
