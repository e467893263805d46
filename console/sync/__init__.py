"""The dispatch link: EIDO over a NENA-STA-024 WebSocket, and the outbox sender.

Qt-free. The desktop console builds a :class:`~console.sync.service.SyncService` and runs it on a
worker thread; the headless ``sync`` command runs the same service. docs/dispatch-protocol.md
describes the wire protocol; the wire format itself is console.wire, the simulator console.sim.
"""
