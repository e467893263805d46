"""``responder-console export-shift`` and ``responder-console replay``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from console.cli.common import UserError, iso_time


def _speed(value: str) -> float:
    try:
        v = float(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from exc
    if not 1 <= v <= 3600:
        raise argparse.ArgumentTypeError("--speed must be between 1 and 3600")
    return v


def _positive(value: str) -> int:
    try:
        v = int(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from exc
    if v < 1:
        raise argparse.ArgumentTypeError("--min-calls must be at least 1")
    return v


def register(sub: Any) -> None:
    p = sub.add_parser("export-shift", help="write a self-contained shift file for replay")
    p.add_argument(
        "--db",
        required=True,
        metavar="URL",
        help="database URL (sqlite:///file.db, postgresql://host/db) or a file path",
    )
    p.add_argument(
        "--from",
        dest="start",
        required=True,
        type=iso_time,
        metavar="ISO",
        help="start of the shift (ISO 8601 with UTC offset)",
    )
    p.add_argument(
        "--to",
        dest="end",
        required=True,
        type=iso_time,
        metavar="ISO",
        help="end of the shift, exclusive (ISO 8601 with UTC offset)",
    )
    p.add_argument(
        "--deidentify",
        action="store_true",
        help="the trainer's copy: an allow-list of fields, no names, phones, notes or other "
        "free text, dates moved by a secret number of weeks, locations generalised "
        "(docs/deidentification.md; the only kind of file a trainer may open)",
    )
    p.add_argument(
        "--min-calls",
        dest="k",
        type=_positive,
        metavar="K",
        help="with --deidentify: the fewest calls any location of the file stands for "
        "(default: security.deidentify_k of the configuration, 5)",
    )
    p.add_argument("--force", action="store_true", help="replace OUT if it exists")
    p.add_argument("out", metavar="OUT", help="the shift file to write")
    p.set_defaults(_run=run_export)

    p = sub.add_parser("replay", help="open the console in replay mode")
    p.description = (
        "Open the console in replay mode on a shift file (or a database range): seekable "
        "playback at 1x-3600x, the timeline, bookmarks, training mode."
    )
    p.add_argument("target", metavar="FILE_OR_DB", help="a shift file, or a database URL/path")
    p.add_argument(
        "--from",
        dest="start",
        type=iso_time,
        metavar="ISO",
        help="start of the range (database only; default: its first event)",
    )
    p.add_argument(
        "--to",
        dest="end",
        type=iso_time,
        metavar="ISO",
        help="end of the range (database only; default: after its last event)",
    )
    p.add_argument(
        "--role",
        dest="replay_role",
        choices=("trainer", "supervisor", "viewer"),
        default=None,
        help="replay with a narrower role than the one granted (the operators file, or the "
        "database login's group role); a wider one is refused. Default: the granted role, at "
        "most trainer. Trainers and viewers may open only de-identified, signed shift files",
    )
    p.add_argument("--speed", type=_speed, default=60.0, help="initial speed (1-3600, default 60)")
    p.add_argument("--training", action="store_true", help="start in training mode")
    p.set_defaults(_run=run_replay)


def run_export(args: argparse.Namespace) -> int:
    from console.replay.engine import ReplayError
    from console.replay.shiftfile import export_shift
    from console.store import Store, StoreError

    if args.end <= args.start:
        print("responder-console export-shift: --to must be after --from", file=sys.stderr)
        return 2
    try:
        store = Store.open(args.db, create=False)
    except StoreError as exc:
        print(f"responder-console export-shift: {exc}", file=sys.stderr)
        return 2
    try:
        cfg = _config(args)
        key_file = _signing_key_file(cfg)
        res = export_shift(
            store,
            args.start,
            args.end,
            args.out,
            deidentify=args.deidentify,
            force=args.force,
            k=args.k or cfg.deidentify_k,
            city_centre=cfg.map.center,
            signing_key=key_file,
        )
    except ReplayError as exc:
        print(f"responder-console export-shift: {exc}", file=sys.stderr)
        return 2
    except (OverflowError, OSError) as exc:
        why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        print(f"responder-console export-shift: cannot write {args.out}: {why}", file=sys.stderr)
        return 1
    finally:
        store.close()
    kind = "de-identified " if res.deidentified else ""
    print(
        f"wrote {kind}shift file {res.path}: {res.events} events in range, {res.base} carried "
        f"in from before, {res.teams} teams, sha256 {res.checksum}"
    )
    if res.dropped:
        left = ", ".join(f"{n} {kind_}" for kind_, n in sorted(res.dropped.items()))
        print(f"left out by de-identification: {left}")
    from console.replay.signing import public_key_path

    pub = public_key_path(key_file)
    if res.key_created:
        print(
            f"created the shift-signing key {key_file} (mode 0600, keep it from trainers); "
            f"install its public key {pub} where trainers replay"
        )
    print(f"signed with {key_file} (trainers verify with {pub})")
    return 0


def _config(args: argparse.Namespace) -> Any:
    from pathlib import Path

    from console.config import ConfigError, load_config

    try:
        return load_config(Path(args.config) if getattr(args, "config", None) else None)
    except ConfigError as exc:
        raise UserError(str(exc)) from exc


def _signing_key_file(cfg: Any) -> Any:
    """``security.signing_key_file`` of the configuration, or the default in the data folder."""
    from console.config import SIGNING_KEY_FILENAME, user_data_dir
    from console.files import private_dir

    if cfg.signing_key_file is not None:
        return cfg.signing_key_file
    data = user_data_dir()
    private_dir(data, tighten=True)
    return data / SIGNING_KEY_FILENAME


def run_replay(args: argparse.Namespace) -> int:
    try:
        from console.ui.replay.cli import run
    except ImportError as exc:
        raise UserError(f"replay is not available in this installation ({exc})") from exc
    return run(args)
