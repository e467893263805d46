"""PostgreSQL change notification inside the Qt event loop.

A console started with ``--db postgresql://...`` does not talk to dispatch: the sync service
writes, and every committed write is announced on a NOTIFY channel
(:mod:`console.store.notify`). :class:`PgChangeNotifier` listens on its own connection, wakes up
through a ``QSocketNotifier`` on the connection's socket (never a polling timer, never a blocking
call on the GUI thread) and emits :attr:`PgChangeNotifier.changed` with what changed.

Connect ``changed`` to the live picture source's ``notify``. ``None`` means "everything may have
changed": after (re)connecting, after a missed notification, or after a batch too big to list.
"""

from __future__ import annotations

import logging
import random

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Signal, Slot

from console.config import redact_url
from console.store.notify import CHANNEL, ChangeListener, ListenerLost

log = logging.getLogger(__name__)


class PgChangeNotifier(QObject):
    """Emits ``changed(Changes | None)`` for every committed write to the shared database."""

    changed = Signal(object)
    """console.store.Changes (with ``seq``), or None: reload the whole picture."""
    connection_changed = Signal(bool, str)
    """(listening, detail): False with the reason when the connection is lost."""

    def __init__(
        self,
        url: str,
        parent: QObject | None = None,
        *,
        channel: str = CHANNEL,
        retry_base_s: float = 0.5,
        retry_cap_s: float = 15.0,
    ) -> None:
        super().__init__(parent)
        self._listener = ChangeListener(url, channel=channel)
        self._where = redact_url(self._listener.url)
        self._notifier: QSocketNotifier | None = None
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.timeout.connect(self._connect)
        self._retry_base_s = retry_base_s
        self._retry_cap_s = retry_cap_s
        self._failures = 0
        self._running = False
        self.heard = 0
        """Notifications received since start (for status displays and tests)."""

    @property
    def listening(self) -> bool:
        return self._notifier is not None

    @property
    def last_seq(self) -> int:
        return self._listener.last_seq

    def start(self) -> None:
        """Connect now; on failure keep retrying with backoff until :meth:`stop`."""
        self._running = True
        self._connect()

    def stop(self) -> None:
        self._running = False
        self._retry.stop()
        self._drop()
        self._listener.close()

    @Slot()
    def _connect(self) -> None:
        if not self._running:
            return
        try:
            self._listener.connect()
        except ListenerLost as exc:
            self._lost(str(exc))
            return
        self._failures = 0
        sn = QSocketNotifier(self._listener.fileno(), QSocketNotifier.Type.Read, self)
        sn.activated.connect(self._readable)
        self._notifier = sn
        log.info("listening for changes on %s", self._where)
        self.connection_changed.emit(True, f"listening on {self._where}")
        # Whatever happened while not listening is unknown: reload everything once.
        self.changed.emit(None)
        self._readable()  # anything that arrived between LISTEN and the notifier

    @Slot()
    def _readable(self) -> None:
        try:
            notes = self._listener.poll()
        except ListenerLost as exc:
            self._lost(str(exc))
            return
        for note in notes:
            self.heard += 1
            self.changed.emit(note.changes)

    def _lost(self, why: str) -> None:
        self._drop()
        if not self._running:
            return
        delay = random.uniform(
            self._retry_base_s / 2,
            min(self._retry_cap_s, self._retry_base_s * 2 ** min(self._failures, 20)),
        )
        self._failures += 1
        log.warning("change notification unavailable (%s); retrying in %.1f s", why, delay)
        self.connection_changed.emit(False, why)
        self._retry.start(int(delay * 1000))

    def _drop(self) -> None:
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
            self._notifier = None
