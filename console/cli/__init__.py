"""The command line: one module per subcommand (or small group), each with ``register(sub)``
adding its parser and handler.

Every headless command of CONTRACTS.md is here; each loads only what it needs, so ``state`` or
``sync`` on a server never imports Qt. Errors reach the user as one line on stderr with a
non-zero exit, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from console import __version__
from console.cli import bench, config, db, quarantine, replay, sim, state, sync
from console.cli.common import UserError, iso_time

__all__ = ["UserError", "build_parser", "iso_time", "main"]

log = logging.getLogger("console")

# In the order `--help` lists them.
COMMANDS = (db, state, quarantine, bench, sim, sync, replay, config)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="responder-console",
        description="Supervisor console for civilian crisis-response teams.",
    )
    p.add_argument("--version", action="version", version=f"responder-console {__version__}")
    p.add_argument("--db", metavar="URL", help="database URL or SQLite file path")
    p.add_argument("--dispatch", metavar="ws://HOST:PORT", help="dispatch notifier URL")
    p.add_argument("--config", metavar="FILE", help="configuration file (TOML)")
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
        help="open on an embedded SQLite database with the dispatch simulator on loopback",
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "_run", None):
            return int(args._run(args))
        return run_gui(args)
    except UserError as exc:
        print(f"responder-console: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: one line for the user, the traceback in the log
        log.exception("unexpected error")
        print(f"responder-console: unexpected error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
