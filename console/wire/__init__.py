"""The dispatch wire format: EIDO documents, the code registry and the STA-024 message shapes.

Shared by the sync client/service and the dispatch simulator. Imports console.domain only; Qt-free.
docs/dispatch-protocol.md describes the protocol.
"""
