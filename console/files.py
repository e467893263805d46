"""Files and folders the console creates are its user's alone: 0600 and 0700.

The command line sets umask 077 at start (console.cli), which covers everything the process
creates. These helpers do not rely on it: the console's pieces also run from other programs (a
service's own launcher, tests), a file written through a temporary name must be private from
its first byte, and a folder of the console's own (the data and configuration folders) left
open by an older version is closed again. Only what the console creates or owns is changed: a
folder the user chose for an export keeps its mode.

Standard library only, so every layer may use it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def private_dir(path: str | Path, *, tighten: bool = False) -> Path:
    """Create ``path`` and any missing parents with mode 0700 (whatever the umask); with
    ``tighten``, an existing ``path`` of this user's is set to 0700 too (the console's own
    folders, never one the user chose)."""
    p = Path(path)
    missing: list[Path] = []
    cur = p
    while not cur.exists() and cur != cur.parent:
        missing.append(cur)
        cur = cur.parent
    p.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    for d in missing:
        with contextlib.suppress(OSError):
            os.chmod(d, PRIVATE_DIR_MODE)
    if tighten and not missing:
        with contextlib.suppress(OSError):
            st = p.stat()
            if st.st_uid == os.geteuid() and st.st_mode & 0o777 != PRIVATE_DIR_MODE:
                os.chmod(p, PRIVATE_DIR_MODE)
    return p


def make_private(path: str | Path) -> Path:
    """Set an existing file to 0600 (quietly: a file that vanished or is not ours is left)."""
    p = Path(path)
    with contextlib.suppress(OSError):
        if p.stat().st_mode & 0o777 != PRIVATE_FILE_MODE:
            os.chmod(p, PRIVATE_FILE_MODE)
    return p


def create_private(path: str | Path, *, truncate: bool = True) -> Path:
    """Create ``path`` empty (or keep it, ``truncate=False``) with mode 0600 before anything is
    written to it, so a later writer (SQLite, Qt, a library) inherits a private file."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if truncate else 0)
    fd = os.open(path, flags, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
    finally:
        os.close(fd)
    return Path(path)


def write_private(path: str | Path, data: str | bytes, *, atomic: bool = True) -> Path:
    """Write ``data`` (text as UTF-8) to a file that is 0600 from its first byte; ``atomic``
    writes a temporary name beside it and renames it into place."""
    p = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    target = p.with_name(f".{p.name}.{os.getpid()}.tmp") if atomic else p
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
        view = memoryview(raw)
        while view:
            view = view[os.write(fd, view) :]
    except BaseException:
        os.close(fd)
        if atomic:
            with contextlib.suppress(OSError):
                os.unlink(target)
        raise
    os.close(fd)
    if atomic:
        os.replace(target, p)
    return p


def append_private(path: str | Path, text: str) -> Path:
    """Append ``text`` to a file created 0600 (and set to 0600 if it was not)."""
    p = Path(path)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
        with os.fdopen(fd, "a", encoding="utf-8", closefd=False) as fh:
            fh.write(text)
    finally:
        os.close(fd)
    return p
