"""The simulator serves loopback only, unless it is given TLS and a client CA (mutual TLS)."""

from __future__ import annotations

import asyncio
import socket
import ssl
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.cli import main
from console.sim.runner import SimulatorThread
from console.sim.simulator import (
    DispatchSimulator,
    ExposureError,
    build,
    exposure_problem,
    is_loopback,
)

from .test_link_tls import Pki

T0 = datetime(2026, 11, 26, 9, tzinfo=UTC)


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki(tmp_path)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        (None, False),
        ("192.0.2.10", False),
        ("no-such-host.invalid", False),
    ],
)
def test_what_counts_as_loopback(host: str | None, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_off_loopback_only_with_a_client_ca(pki: Pki) -> None:
    assert exposure_problem("127.0.0.1", None) is None
    assert exposure_problem("0.0.0.0", pki.server(mutual=True)) is None
    plain = exposure_problem("0.0.0.0", None)
    assert plain is not None and "TLS and a client CA" in plain
    one_way = exposure_problem("0.0.0.0", pki.server(mutual=False))
    assert one_way is not None and "a client CA" in one_way and "TLS and" not in one_way


@pytest.mark.parametrize(
    "extra",
    [
        [],
        ["--tls-cert", "{cert}", "--tls-key", "{key}"],
    ],
    ids=["plain", "tls-without-client-ca"],
)
@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_the_command_refuses_to_listen_beyond_loopback_without_mutual_tls(
    pki: Pki, capsys: pytest.CaptureFixture[str], extra: list[str], host: str
) -> None:
    files = {"cert": str(pki.server_cert), "key": str(pki.server_key)}
    argv = ["dispatch-sim", "--port", "0", "--host", host, *(a.format(**files) for a in extra)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"dispatch-sim: refusing to listen on {host} without ")
    assert "--client-ca" in err[0]


def test_the_simulator_itself_refuses_too() -> None:
    sim = DispatchSimulator(build(seed=1, start=T0, duration_h=1, rate_per_hour=5.0))
    with pytest.raises(ExposureError, match=r"refusing to listen on 0\.0\.0\.0"):
        asyncio.run(sim.serve("0.0.0.0", 0))
    assert sim.port is None  # it never listened
    with pytest.raises(ExposureError):
        SimulatorThread(sim, host="0.0.0.0")


def test_with_mutual_tls_it_listens_on_every_interface(pki: Pki) -> None:
    world = build(seed=1, start=T0, duration_h=1, rate_per_hour=5.0)
    st = SimulatorThread(
        DispatchSimulator(world, speed=10), host="0.0.0.0", ssl=pki.server(mutual=True)
    ).start()
    try:
        assert st.port
        ctx = ssl.create_default_context(cafile=str(pki.ca_file))
        ctx.load_cert_chain(str(pki.client_cert), str(pki.client_key))
        with (
            socket.create_connection(("127.0.0.1", st.port), timeout=10) as raw,
            ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            assert tls.version() is not None  # the handshake, client certificate and all
    finally:
        st.stop()


def test_a_name_that_does_not_resolve_is_said_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dispatch-sim", "--port", "0", "--host", "no-such-host.invalid"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == "dispatch-sim: cannot listen on no-such-host.invalid: the name does not resolve"
