"""Signed shift files: a trainer's replay opens only what a key holder exported, unchanged.

Ed25519 (the ``cryptography`` package): the private key lives in a file only its owner may read
(mode 0600, config ``security.signing_key_file``); ``export-shift`` creates it when absent. The
public key beside it (``<key file>.pub``) is what a replay checks against; a site installs that
file, never the private one, where trainers replay. A shift file's signature covers its sha256
checksum, which covers every row and the checked metadata (``deidentified`` among them): a file
altered after export, its checksum recomputed, no longer matches the signature.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from console.files import write_private

from .engine import ReplayError


class SignatureError(ReplayError):
    """A shift file is unsigned, its signature does not verify, or the key is unusable."""


def public_key_path(key_file: Path) -> Path:
    return key_file.with_name(key_file.name + ".pub")


def _crypto() -> tuple[Any, Any]:
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import (
            Ed25519PrivateKey,
            Ed25519PublicKey,
        )
    except ImportError as exc:  # pragma: no cover - the package is a dependency
        raise SignatureError(
            f"signing shift files needs the 'cryptography' package ({exc})"
        ) from exc
    return Ed25519PrivateKey, Ed25519PublicKey


def ensure_key(key_file: Path) -> bool:
    """Create the signing key (0600) and its public key when absent; True when created."""
    priv_cls, _ = _crypto()
    if key_file.exists():
        mode = key_file.stat().st_mode & 0o077
        if mode:
            raise SignatureError(
                f"signing key {key_file} may be read by others (mode {oct(key_file.stat().st_mode & 0o777)}); "
                f"chmod 600 {key_file}"
            )
        return False
    if not key_file.parent.is_dir():
        raise SignatureError(f"folder {key_file.parent} for the signing key does not exist")
    key = priv_cls.generate()
    raw = key.private_bytes_raw()
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(raw.hex().encode() + b"\n")
    write_private(public_key_path(key_file), key.public_key().public_bytes_raw().hex() + "\n")
    return True


def sign(key_file: Path, checksum: str) -> tuple[str, str]:
    """(signature hex, public key hex) over a shift file's checksum."""
    priv_cls, _ = _crypto()
    ensure_key(key_file)
    try:
        key = priv_cls.from_private_bytes(bytes.fromhex(key_file.read_text().strip()))
    except (OSError, ValueError) as exc:
        raise SignatureError(f"signing key {key_file} cannot be used: {exc}") from exc
    sig = key.sign(checksum.encode())
    return sig.hex(), key.public_key().public_bytes_raw().hex()


def verify(public_file: Path, checksum: str, signature: str | None, what: str) -> None:
    """Raise :class:`SignatureError` with a one-line reason unless ``signature`` is the trusted
    key's over ``checksum``."""
    _, pub_cls = _crypto()
    if not signature:
        raise SignatureError(
            f"{what} is not signed: a trainer may open only shift files signed at export"
        )
    try:
        pub = pub_cls.from_public_bytes(bytes.fromhex(public_file.read_text().strip()))
    except FileNotFoundError:
        raise SignatureError(
            f"no trusted shift-signing key at {public_file}: ask the administrator to install it"
        ) from None
    except (OSError, ValueError) as exc:
        raise SignatureError(f"the shift-signing key {public_file} cannot be used: {exc}") from exc
    from cryptography.exceptions import InvalidSignature

    try:
        pub.verify(bytes.fromhex(signature), checksum.encode())
    except (InvalidSignature, ValueError):
        raise SignatureError(
            f"{what}'s signature does not verify: it was altered after export or signed with "
            "another key"
        ) from None
