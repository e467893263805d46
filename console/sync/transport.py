"""How the console reaches dispatch: TLS (server verification, client certificate) and the
refusal of unencrypted links to anything but this machine.

``wss://`` verifies dispatch against ``ca_file`` (the system's trust store when unset) and, for
mutual TLS, presents ``cert_file``/``key_file``. The private key must be readable by its owner
only. Plain ``ws://`` is accepted for loopback (the simulator, tests) and elsewhere only when the
configuration says ``allow_unencrypted = true``; the link health then says it is unencrypted.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


class TransportError(ValueError):
    """The link cannot be set up as configured (one line, names the file or setting)."""


@dataclass(frozen=True, slots=True)
class LinkSecurity:
    ca_file: Path | None = None
    """CA bundle dispatch's certificate must chain to (None: the system's trust store)."""
    cert_file: Path | None = None
    """Client certificate for mutual TLS (PEM; may also hold the key)."""
    key_file: Path | None = None
    """The client certificate's private key (PEM); must not be readable by group or others."""
    allow_unencrypted: bool = False
    """Accept ``ws://`` to a host other than this machine."""


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def link_encrypted(url: str) -> bool:
    """Whether a link to ``url`` is private: TLS (``wss://``, ``https://``), or this machine."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme in ("wss", "https") or is_loopback(host)


def check_key_file(path: Path) -> None:
    """Refuse a private key that group or others can read (a copied key is a stolen identity)."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise TransportError(f"key file {path}: {exc.strerror or exc}") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise TransportError(
            f"key file {path} is readable by group or others "
            f"(mode {stat.S_IMODE(mode):03o}); run: chmod 600 {path}"
        )


def client_ssl_context(url: str, sec: LinkSecurity) -> ssl.SSLContext | None:
    """The TLS context for ``url`` (None for ``ws://``); raises TransportError when refused."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        raise TransportError(f"bad dispatch URL {url!r}: {exc}") from None
    if parts.scheme == "ws":
        if not sec.allow_unencrypted and not is_loopback(host):
            raise TransportError(
                f"refusing unencrypted ws:// to {host}: use wss:// "
                "or set allow_unencrypted = true under [dispatch]"
            )
        return None
    for name, f in (("ca_file", sec.ca_file), ("cert_file", sec.cert_file)):
        if f is not None and not f.is_file():
            raise TransportError(f"{name} {f}: no such file")
    if sec.key_file is not None and sec.cert_file is None:
        raise TransportError(
            "key_file is set but cert_file is not (both are needed for mutual TLS)"
        )
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    try:
        if sec.ca_file is not None:
            ctx.load_verify_locations(cafile=str(sec.ca_file))
        if sec.cert_file is not None:
            if sec.key_file is not None:
                check_key_file(sec.key_file)
            ctx.load_cert_chain(str(sec.cert_file), str(sec.key_file) if sec.key_file else None)
    except ssl.SSLError as exc:
        raise TransportError(f"cannot load TLS files: {exc.reason or exc}") from None
    return ctx


def server_ssl_context(
    cert_file: str | Path, key_file: str | Path, client_ca: str | Path | None = None
) -> ssl.SSLContext:
    """For the simulator: serve TLS, and with ``client_ca`` require a client certificate."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert_file), str(key_file))
    if client_ca is not None:
        ctx.load_verify_locations(cafile=str(client_ca))
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def describe_tls_error(exc: BaseException) -> str | None:
    """Say which side of TLS failed, or None when ``exc`` is not a TLS failure."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        why = exc.verify_message or exc.reason or str(exc)
        return f"TLS: dispatch's certificate is not trusted ({why}); check ca_file"
    if isinstance(exc, ssl.SSLError):
        reason = (exc.reason or "").upper()
        if "CERTIFICATE_REQUIRED" in reason or "HANDSHAKE_FAILURE" in reason:
            return "TLS: dispatch requires a client certificate (set cert_file and key_file)"
        if "UNKNOWN_CA" in reason or "BAD_CERTIFICATE" in reason:
            return "TLS: dispatch refused our client certificate (not signed by a CA it trusts)"
        return f"TLS: {exc.reason or exc}"
    return None
