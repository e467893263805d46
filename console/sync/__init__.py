"""The dispatch link: EIDO over a NENA-STA-024 WebSocket, the outbox sender, the simulator.

Qt-free. The desktop console builds a :class:`~console.sync.service.SyncService` and runs it on a
worker thread; the headless ``sync`` command runs the same service. docs/dispatch-protocol.md
describes the wire protocol.
"""
