"""The dispatch link's health for a console that shares the center's database.

Such a console holds no link of its own: the center's sync service does, and records its view
of the link in the database every few seconds. This watcher reads that record off the GUI thread
and hands it to the picture source, so the window says "dispatch link down" (and marks the
picture stale) exactly as a console holding the link would — and also when the sync service
itself has gone silent.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QObject, QTimer

from console.store import LinkReport
from console.sync.client import LinkHealth, LinkState
from console.sync.transport import link_encrypted

log = logging.getLogger("console.ui")


def health_from_reports(reports: list[LinkReport], now: datetime, silence_s: float) -> LinkHealth:
    """The link as the freshest sync service reports it; a silent service is a link down."""
    if not reports:
        return LinkHealth(
            state=LinkState.STOPPED,
            since=now,
            url="",
            last_error="no sync service has reported on the dispatch link",
        )
    r = max(reports, key=lambda x: x.reported_at)
    age = (now - r.reported_at).total_seconds()
    if age > silence_s:
        return LinkHealth(
            state=LinkState.STOPPED,
            since=r.reported_at,
            url=r.url,
            last_message_at=r.last_message_at,
            last_error=f"the sync service ({r.service}) has been silent for {age:.0f} s",
            encrypted=link_encrypted(r.url),
        )
    return LinkHealth(
        state=r.state,
        since=r.since,
        url=r.url,
        last_message_at=r.last_message_at,
        attempts=r.attempts,
        last_error=r.last_error,
        encrypted=link_encrypted(r.url),
    )


class SharedLinkWatcher(QObject):
    """Polls the sync services' link reports every ``interval_s`` and updates the picture."""

    def __init__(
        self,
        ctx: Any,
        *,
        interval_s: float = 5.0,
        silence_s: float = 20.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.silence_s = silence_s
        self._busy = False
        self._timer = QTimer(self)
        self._timer.setInterval(int(interval_s * 1000))
        self._timer.timeout.connect(self.poll)

    def start(self) -> None:
        self._timer.start()
        self.poll()

    def stop(self) -> None:
        self._timer.stop()

    def poll(self) -> None:
        if self._busy or self.ctx.store is None:
            return
        self._busy = True
        self.ctx.run_in_background(self.ctx.store.link_reports, self._done, self._failed)

    def _done(self, reports: list[LinkReport]) -> None:
        self._busy = False
        health = health_from_reports(reports, datetime.now(UTC), self.silence_s)
        self.ctx.pictures.set_link(health)

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        log.warning("cannot read the dispatch link's health from the database: %s", exc)
        self.ctx.pictures.set_link(
            LinkHealth(
                state=LinkState.STOPPED,
                since=datetime.now(UTC),
                url="",
                last_error=f"database unreachable: {exc}",
            )
        )
