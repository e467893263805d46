"""Transport security of the dispatch link: wss verified against a CA bundle, mutual TLS, and
refusals that say which side failed; unencrypted links off this machine only when allowed."""

from __future__ import annotations

import re
import ssl
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trustme

from console.sim.runner import SimulatorThread
from console.sim.simulator import DispatchSimulator, build
from console.store import Store
from console.sync.client import DispatchClient
from console.sync.service import SyncService
from console.sync.transport import (
    LinkSecurity,
    TransportError,
    client_ssl_context,
    server_ssl_context,
)

from .helpers import cli, spawn, wait_until
from .peer_server import PeerServer

T0 = datetime(2026, 11, 26, 9, tzinfo=UTC)


class Pki:
    """A CA, the server's certificate for 127.0.0.1, a client certificate, and a stranger CA."""

    def __init__(self, root: Path) -> None:
        self.ca = trustme.CA()
        self.other_ca = trustme.CA()
        server = self.ca.issue_cert("127.0.0.1", "localhost")
        client = self.ca.issue_cert("console-1@center.example")
        self.ca_file = root / "ca.pem"
        self.other_ca_file = root / "other-ca.pem"
        self.server_cert = root / "server.pem"
        self.server_key = root / "server.key"
        self.client_cert = root / "client.pem"
        self.client_key = root / "client.key"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        self.other_ca.cert_pem.write_to_path(str(self.other_ca_file))
        server.cert_chain_pems[0].write_to_path(str(self.server_cert))
        server.private_key_pem.write_to_path(str(self.server_key))
        client.cert_chain_pems[0].write_to_path(str(self.client_cert))
        client.private_key_pem.write_to_path(str(self.client_key))
        self.client_key.chmod(0o600)
        self.server_key.chmod(0o600)

    def server(self, *, mutual: bool) -> ssl.SSLContext:
        return server_ssl_context(
            self.server_cert, self.server_key, self.ca_file if mutual else None
        )

    def client(self, *, ca: Path | None = None, with_cert: bool = True) -> LinkSecurity:
        return LinkSecurity(
            ca_file=ca or self.ca_file,
            cert_file=self.client_cert if with_cert else None,
            key_file=self.client_key if with_cert else None,
        )


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki(tmp_path)


def _sim(ssl_ctx: ssl.SSLContext) -> SimulatorThread:
    world = build(seed=1, start=T0, duration_h=10, rate_per_hour=30.0)
    return SimulatorThread(DispatchSimulator(world, speed=10), ssl=ssl_ctx).start()


def test_wss_verified_against_the_ca_bundle_syncs(pki: Pki, sqlite_url: str) -> None:
    st = _sim(pki.server(mutual=False))
    assert st.url.startswith("wss://")
    store = Store.open(sqlite_url, create=True)
    svc = SyncService(store, st.url, security=pki.client(with_cert=False))
    svc.start()
    try:
        wait_until(lambda: svc.health.up, 15, "wss link up")
        wait_until(lambda: store.load_state().calls != {}, 15, "calls over wss")
        assert svc.health.encrypted
    finally:
        svc.stop()
        store.close()
        st.stop()


def test_mutual_tls_with_the_peer_on_its_path(pki: Pki, sqlite_url: str) -> None:
    peer = PeerServer(ssl=pki.server(mutual=True)).start()
    store = Store.open(sqlite_url, create=True)
    svc = SyncService(store, peer.url, security=pki.client())
    svc.start()
    try:
        wait_until(lambda: svc.health.up, 15, "mutual TLS link up")
        assert peer.url.startswith("wss://") and peer.url.endswith("/IncidentData/ent")
    finally:
        svc.stop()
        store.close()
        peer.stop()


def test_a_server_not_signed_by_the_configured_ca_is_refused(pki: Pki, sqlite_url: str) -> None:
    st = _sim(pki.server(mutual=False))
    store = Store.open(sqlite_url, create=True)
    svc = SyncService(
        store,
        st.url,
        security=pki.client(ca=pki.other_ca_file, with_cert=False),
        backoff_base_s=0.1,
    )
    svc.start()
    try:
        wait_until(lambda: svc.health.last_error != "", 15, "a refusal")
        assert not svc.health.up
        assert "dispatch's certificate is not trusted" in svc.health.last_error
        assert "ca_file" in svc.health.last_error
    finally:
        svc.stop()
        store.close()
        st.stop()


def test_a_missing_client_certificate_is_named(pki: Pki, sqlite_url: str) -> None:
    st = _sim(pki.server(mutual=True))
    store = Store.open(sqlite_url, create=True)
    svc = SyncService(store, st.url, security=pki.client(with_cert=False), backoff_base_s=0.1)
    svc.start()
    try:
        wait_until(lambda: svc.health.last_error != "", 15, "a refusal")
        assert not svc.health.up
        assert "requires a client certificate" in svc.health.last_error
    finally:
        svc.stop()
        store.close()
        st.stop()


def test_a_client_certificate_from_another_ca_is_named(
    pki: Pki, tmp_path: Path, sqlite_url: str
) -> None:
    stranger = pki.other_ca.issue_cert("console-9@elsewhere.example")
    cert, key = tmp_path / "stranger.pem", tmp_path / "stranger.key"
    stranger.cert_chain_pems[0].write_to_path(str(cert))
    stranger.private_key_pem.write_to_path(str(key))
    key.chmod(0o600)
    st = _sim(pki.server(mutual=True))
    store = Store.open(sqlite_url, create=True)
    sec = LinkSecurity(ca_file=pki.ca_file, cert_file=cert, key_file=key)
    svc = SyncService(store, st.url, security=sec, backoff_base_s=0.1)
    svc.start()
    try:
        wait_until(lambda: svc.health.last_error != "", 15, "a refusal")
        assert not svc.health.up
        assert "client certificate" in svc.health.last_error
        assert "requires" not in svc.health.last_error  # one was sent: it was not accepted
    finally:
        svc.stop()
        store.close()
        st.stop()


def test_a_key_readable_by_others_is_refused_with_chmod_600(pki: Pki) -> None:
    pki.client_key.chmod(0o644)
    with pytest.raises(TransportError, match=r"readable by group or others.*chmod 600") as e:
        client_ssl_context("wss://cad.example/IncidentData/ent", pki.client())
    assert str(pki.client_key) in str(e.value) and "\n" not in str(e.value)


def test_the_sync_command_says_so_in_one_line(pki: Pki, tmp_path: Path) -> None:
    pki.client_key.chmod(0o640)
    res = cli(
        "sync",
        "--db",
        f"sqlite:///{tmp_path / 'c.sqlite'}",
        "--dispatch",
        "wss://127.0.0.1:9/IncidentData/ent",
        "--ca-file",
        str(pki.ca_file),
        "--cert-file",
        str(pki.client_cert),
        "--key-file",
        str(pki.client_key),
        check=False,
    )
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "chmod 600" in lines[0] and str(pki.client_key) in lines[0]


def test_unencrypted_ws_off_this_machine_needs_an_explicit_yes() -> None:
    with pytest.raises(TransportError, match="allow_unencrypted"):
        client_ssl_context("ws://cad.example:8765/IncidentData/ent", LinkSecurity())
    for local in ("ws://127.0.0.1:1", "ws://localhost:1", "ws://[::1]:1"):
        assert client_ssl_context(local, LinkSecurity()) is None

    class Sink:
        async def commit(self, batch: object) -> set[str]:
            return set()

        async def on_connected(self, client: object) -> None:
            return None

    allowed = DispatchClient(
        "ws://cad.example:8765/IncidentData/ent",
        Sink(),
        security=LinkSecurity(allow_unencrypted=True),
    )
    assert allowed.health.encrypted is False
    assert DispatchClient("ws://127.0.0.1:8765", Sink()).health.encrypted is True


def test_dispatch_sim_serves_mutual_tls_from_its_flags(
    pki: Pki, tmp_path: Path, sqlite_url: str
) -> None:
    log = tmp_path / "sim.log"
    proc = spawn(
        "dispatch-sim",
        "--port",
        "0",
        "--speed",
        "60",
        "--duration",
        "1",
        "--tls-cert",
        str(pki.server_cert),
        "--tls-key",
        str(pki.server_key),
        "--client-ca",
        str(pki.ca_file),
        log=log,
    )
    store = Store.open(sqlite_url, create=True)
    svc: SyncService | None = None
    try:
        wait_until(lambda: "listening on wss://" in log.read_text(), 30, "the simulator listening")
        url = re.search(r"listening on (wss://\S+)", log.read_text())
        assert url is not None
        svc = SyncService(store, url.group(1), security=pki.client())
        svc.start()
        wait_until(lambda: svc is not None and svc.health.up, 15, "mutual TLS link up")
    finally:
        if svc is not None:
            svc.stop()
        store.close()
        proc.terminate()
        proc.wait(30)


def test_dispatch_sim_needs_both_tls_files(pki: Pki) -> None:
    res = cli("dispatch-sim", "--port", "0", "--tls-cert", str(pki.server_cert), check=False)
    assert res.returncode == 2 and "--tls-cert and --tls-key go together" in res.stderr
