"""The command line: one module per subcommand (or small group), each with ``register(sub)``
adding its parser and handler.

Every headless command of CONTRACTS.md is here; each loads only what it needs, so ``state`` or
``sync`` on a server never imports Qt. Errors reach the user as one line on stderr with a
non-zero exit, never as a traceback: a bad argument (2), a problem the user can fix (2), a
storage problem (1), and anything unexpected (1: the exception's type on stderr, its traceback in
the log file only). Files and folders the program creates are its user's alone (umask 077).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import NoReturn

from console import __version__
from console.cli import bench, config, db, program_report, quarantine, replay, sim, state, sync
from console.cli.common import UserError, iso_time

__all__ = ["UserError", "build_parser", "iso_time", "main"]

log = logging.getLogger("console")

# In the order `--help` lists them.
COMMANDS = (db, state, program_report, quarantine, bench, sim, sync, replay, config)


PRIVATE_UMASK = 0o077


class OneLineParser(argparse.ArgumentParser):
    """A bad argument is one line on stderr (``--help`` shows the usage), exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {' '.join(message.split())}\n")


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="responder-console",
        description="Supervisor console for civilian crisis-response teams.",
    )
    p.add_argument("--version", action="version", version=f"responder-console {__version__}")
    p.add_argument("--db", metavar="URL", help="database URL or SQLite file path")
    p.add_argument("--dispatch", metavar="ws://HOST:PORT", help="dispatch notifier URL")
    p.add_argument("--config", metavar="FILE", help="configuration file (TOML)")
    sync.add_link_arguments(p)
    p.add_argument(
        "--operator",
        metavar="NAME",
        help="operator name; the console establishes it (the OS user on SQLite, the login on "
        "PostgreSQL) and refuses any other",
    )
    p.add_argument(
        "--role",
        choices=("supervisor", "trainer", "viewer"),
        default=None,
        help="open with a narrower role than the one granted (the operators file on SQLite, "
        "the rc_supervisor/rc_trainer/rc_viewer group roles on PostgreSQL); a wider one is "
        "refused. Supervisors act; trainers and viewers see everything and cannot act",
    )
    p.add_argument(
        "--demo",
        action="store_true",
        help="open on an embedded SQLite database with the dispatch simulator on loopback; "
        "the last demo shift is resumed",
    )
    p.add_argument(
        "--new",
        action="store_true",
        help="with --demo: start a new demo shift (the previous one is kept under a dated name)",
    )
    p.add_argument(
        "--dispatch-wait",
        type=float,
        metavar="SECONDS",
        default=None,
        help="with --demo: simulated seconds the simulated dispatch leaves a new call pending "
        "before assigning a team itself (default 300; 0: at its own pace)",
    )
    p.add_argument(
        "--smoke-test",
        type=float,
        metavar="SECONDS",
        help="start, wait until the map shows Leaflet and markers, then exit 0 (1 on timeout); "
        "for checking an installation",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub)
    return p


def run_gui(args: argparse.Namespace) -> int:
    try:
        gui = importlib.import_module("console.ui.shell.main")
    except ImportError as exc:
        raise UserError(
            f"the desktop console is not available in this installation ({exc})"
        ) from exc
    result: int = gui.run(args)
    return result


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _is_driver_error(exc: BaseException) -> bool:
    """Whether ``exc`` comes from the database (its message may quote stored content)."""
    mods = {type(e).__module__.split(".")[0] for e in (exc, exc.__cause__, exc.__context__) if e}
    return bool(mods & {"sqlalchemy", "sqlite3", "psycopg", "alembic"})


def log_traceback(exc: BaseException) -> str:
    """Append ``exc``'s traceback (frames only: no locals; no message when the database raised
    it) to the log file; returns where, or "" when it cannot be written."""
    from console.config import user_data_dir
    from console.files import append_private, private_dir
    from console.logging_setup import log_file, scrub_exception

    path = log_file(user_data_dir())
    try:
        private_dir(path.parent, tighten=True)
        append_private(
            path,
            f"{datetime.now(UTC).isoformat()} CRITICAL console.cli unexpected error\n"
            + scrub_exception(type(exc), exc, exc.__traceback__),
        )
    except OSError:
        return ""
    return str(path)


def main(argv: Sequence[str] | None = None) -> int:
    os.umask(PRIVATE_UMASK)
    parser = build_parser()
    args = parser.parse_args(argv)
    from console.store.db import StoreError

    try:
        if getattr(args, "_run", None):
            return int(args._run(args))
        return run_gui(args)
    except UserError as exc:
        print(f"responder-console: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"responder-console: {_one_line(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: one line for the user, the traceback in the log file only
        where = log_traceback(exc)
        what = type(exc).__name__
        if not _is_driver_error(exc):
            what += f": {str(exc)[:200]}"
        details = f" (details in {where})" if where else ""
        print(f"responder-console: unexpected error: {_one_line(what)}{details}", file=sys.stderr)
        return 1
