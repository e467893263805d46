"""The retrieval fallback: an open call a reconnect did not re-send is fetched from dispatch's
EIDO retrieval service (NENA Incident Data API) over a real HTTP server on loopback; one the
service does not know stays unconfirmed, an unreadable answer is quarantined."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from console.cli import main
from console.domain.model import Call, CallStatus, CallType
from console.store import Store
from console.sync.retrieval import IncidentRetrieval, RetrievalError
from console.sync.service import SyncService
from console.sync.transport import TransportError
from console.wire.eido import build_incident_eido

from .helpers import wait_until
from .peer_server import PeerServer

T0 = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


def _doc(i: int, status: CallStatus = CallStatus.PENDING, minutes: int = 0) -> dict[str, Any]:
    at = T0 + timedelta(seconds=i, minutes=minutes)
    c = Call(f"HCR-{i:06d}", status, 2, CallType.WELFARE_CHECK, T0, at)
    return build_incident_eido(c)


class IncidentService:
    """Dispatch's retrieval service: GET /IncidentData/incidents/{id} -> the incident's EIDO."""

    def __init__(self) -> None:
        self.incidents: dict[str, str] = {}
        self.asked: list[str] = []
        svc = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                svc.asked.append(self.path)
                prefix = "/IncidentData/incidents/"
                body = svc.incidents.get(self.path.removeprefix(prefix))
                if not self.path.startswith(prefix) or body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/IncidentData"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def incidents() -> Iterator[IncidentService]:
    svc = IncidentService()
    yield svc
    svc.stop()


def test_a_call_not_resent_is_fetched_from_the_retrieval_service(
    sqlite_url: str, incidents: IncidentService
) -> None:
    peer = PeerServer().start()
    docs = {i: _doc(i) for i in (1, 2, 3, 4)}
    peer.publish(list(docs.values()))
    store = Store.open(sqlite_url, create=True)
    svc = SyncService(
        store, peer.url, backoff_base_s=0.1, backoff_cap_s=0.5, retrieval_url=incidents.url
    )
    svc.start()
    try:
        wait_until(lambda: len(store.load_state().calls) == 4, 15, "four calls")
        wait_until(lambda: svc.client.reconciled_at is not None, 10, "reconciliation over")
        # While the link was down, dispatch cleared call 2 and forgot calls 2, 3 and 4: its
        # retrieval service has 2 as it now stands, does not know 3, and answers 4 with junk.
        incidents.incidents["HCR-000002"] = json.dumps(_doc(2, CallStatus.CLEARED, minutes=5))
        incidents.incidents["HCR-000004"] = "<html>maintenance</html>"
        for i in (2, 3, 4):
            peer.forget(str(docs[i]["$id"]))
        peer.drop_connections()
        wait_until(lambda: svc.client.connects >= 2 and svc.health.up, 30, "back up")
        wait_until(
            lambda: store.load_state().calls["HCR-000002"].status is CallStatus.CLEARED,
            30,
            "call 2 fetched",
        )
        wait_until(lambda: "HCR-000003" in svc.not_at_dispatch, 30, "call 3 asked for")
        wait_until(lambda: "HCR-000004" in svc.retrieval_failures, 30, "call 4 asked for")
        assert svc.retrieved == 1
        # Call 1 was re-sent: never asked for. Call 2 is confirmed (and closed); 3 and 4 stay
        # marked as not confirmed; 4's answer is kept in the quarantine with why.
        assert "/IncidentData/incidents/HCR-000001" not in incidents.asked
        assert set(svc.unconfirmed_calls()) == {"HCR-000003", "HCR-000004"}
        [kept] = store.quarantined()
        assert "maintenance" in kept.raw and "not JSON" in kept.reason
    finally:
        svc.stop()
        store.close()
        peer.stop()


def test_the_retrieval_client_says_why_it_cannot_fetch() -> None:
    with pytest.raises(TransportError, match="refusing unencrypted"):
        IncidentRetrieval("http://cad.example/IncidentData")
    with pytest.raises(TransportError, match="must start with http"):
        IncidentRetrieval("ftp://cad.example/IncidentData")
    closed = IncidentRetrieval("http://127.0.0.1:9/IncidentData", timeout_s=2)
    with pytest.raises(RetrievalError, match="cannot reach the retrieval service"):
        closed.fetch("HCR-000001")
    assert closed.url_for("HCR/1 2") == "http://127.0.0.1:9/IncidentData/incidents/HCR%2F1%202"


def test_sync_refuses_a_plain_retrieval_url_to_another_host(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(
        [
            "sync",
            "--db",
            sqlite_url,
            "--dispatch",
            "ws://127.0.0.1:9",
            "--retrieval-url",
            "http://cad.example/IncidentData",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "refusing unencrypted" in err
