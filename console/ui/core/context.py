"""What every panel is constructed with: configuration, the picture, the gateway, the selection.

Panels never talk to the store, the socket or the replay engine directly; they subscribe to
``ctx.pictures`` and act through ``ctx.gateway``. The selection is shared so that picking a call
on the map selects it in the queue, and back.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from console.config import Config
from console.domain.clock import Clock

if TYPE_CHECKING:
    from console.store import Store
    from console.ui.core.gateway import CommandGateway
    from console.ui.core.pacer import Pacer
    from console.ui.core.picture import PictureSource
    from console.ui.core.tasks import TaskManager


class Selection(QObject):
    """The one current selection. Signals fire only when it changes, so views that both listen
    and set it cannot loop."""

    call_selected = Signal(str)
    team_selected = Signal(str)
    calls_selected = Signal(list)
    """Several calls (e.g. a cluster or a plot's bar); the first one is also ``call_selected``."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.call_id: str | None = None
        self.team_id: str | None = None
        self.call_ids: list[str] = []

    def select_call(self, call_id: str) -> None:
        if call_id == self.call_id:
            return
        self.call_id = call_id
        self.call_ids = [call_id] if call_id else []
        self.call_selected.emit(call_id)

    def select_team(self, team_id: str) -> None:
        if team_id == self.team_id:
            return
        self.team_id = team_id
        self.team_selected.emit(team_id)

    def clear_call(self, call_id: str | None = None) -> None:
        """No call selected (only if ``call_id`` is the selected one, when given): a call
        that left the view is never replaced by a neighbour."""
        if self.call_id is None or (call_id is not None and call_id != self.call_id):
            return
        self.call_id = None
        self.call_ids = []
        self.call_selected.emit("")

    def clear_team(self, team_id: str | None = None) -> None:
        """No team selected (only if ``team_id`` is the selected one, when given)."""
        if self.team_id is None or (team_id is not None and team_id != self.team_id):
            return
        self.team_id = None
        self.team_selected.emit("")

    def select_calls(self, ids: list[str]) -> None:
        ids = list(ids)
        if ids == self.call_ids:
            return
        self.call_ids = ids
        if ids and ids[0] != self.call_id:
            self.call_id = ids[0]
            self.call_selected.emit(ids[0])
        self.calls_selected.emit(ids)


@dataclass
class ConsoleContext:
    config: Config
    store: Store | None
    """None in a file-only replay."""
    clock: Clock
    operator: str
    role: str
    """supervisor | trainer | viewer"""
    pictures: PictureSource
    gateway: CommandGateway
    selection: Selection = field(default_factory=Selection)
    demo: bool = False
    replay: bool = False
    tasks: TaskManager | None = None
    """Background work for panels (``tasks.run(fn, on_done, on_error)``); None: the default."""
    pacer: Pacer | None = None
    """Paces panel updates one per event-loop turn; None: the application's."""

    def later(self, key: object, fn: Callable[[], None]) -> None:
        """Run a panel's update on a later turn of the event loop, one update per turn (see
        :mod:`console.ui.core.pacer`); a key already waiting keeps its place and runs once."""
        from console.ui.core.pacer import default_pacer

        (self.pacer or default_pacer()).schedule(key, fn)

    def run_steps(self, key: Hashable, steps: Iterator[object]) -> None:
        """Run a generator one step per turn of the event loop (see :meth:`Pacer.run_steps`)."""
        from console.ui.core.pacer import default_pacer

        (self.pacer or default_pacer()).run_steps(key, steps)

    def cancel(self, key: Hashable) -> None:
        """Drop the update or stepped run waiting under ``key``."""
        from console.ui.core.pacer import default_pacer

        (self.pacer or default_pacer()).cancel(key)

    def run_in_background(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> Future[Any] | None:
        """Shortcut for panels: the context's task manager, or the application's."""
        from console.ui.core.tasks import default_tasks

        return (self.tasks or default_tasks()).run(fn, on_done, on_error)


def build_context(
    config: Config,
    store: Store | None,
    *,
    clock: Clock,
    operator: str,
    role: str,
    pictures: PictureSource | None = None,
    demo: bool = False,
    replay: bool = False,
    tasks: TaskManager | None = None,
    pacer: Pacer | None = None,
    poll_s: float | None = None,
) -> ConsoleContext:
    """The one way a console's context is put together, live, replayed or under test.

    ``pictures`` defaults to a :class:`LivePictureSource` on ``store`` (``poll_s``: its idle
    reload interval). A replay's gateway has no store: it refuses every command, whatever the
    role; the context still keeps the replay's store for the panels that read it."""
    from console.ui.core.gateway import CommandGateway
    from console.ui.core.pacer import Pacer
    from console.ui.core.picture import LivePictureSource
    from console.ui.core.tasks import TaskManager

    tasks = tasks or TaskManager()
    if pictures is None:
        if store is None:
            raise ValueError("a live console needs a store")
        pictures = LivePictureSource(
            store,
            clock=clock,
            link_stale_s=config.link_stale_s,
            tasks=tasks,
            poll_s=1.0 if poll_s is None else poll_s,
        )
    gateway = CommandGateway(
        None if replay else store,
        operator=operator,
        role=role,
        pictures=pictures,
        tasks=tasks,
        mobile_crisis_hours=None if replay else config.mobile_crisis_hours,
        followups=None if replay else getattr(config, "followup", None),
        replay=replay,
    )
    if isinstance(pictures, LivePictureSource):
        live = pictures
        # A command queued here changes the store too: show it (pending) without waiting for a
        # poll. The one refresh for every command, whichever panel sent it.
        gateway.submitted.connect(lambda *_: live.notify())
    return ConsoleContext(
        config=config,
        store=store,
        clock=clock,
        operator=operator,
        role=role,
        pictures=pictures,
        gateway=gateway,
        selection=Selection(),
        demo=demo,
        replay=replay,
        tasks=tasks,
        pacer=pacer or Pacer(),
    )
