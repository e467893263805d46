"""``responder-console program-report``: the program's monthly report (HTML or PDF, and CSVs)."""

from __future__ import annotations

import argparse
import json
import re
from datetime import tzinfo
from pathlib import Path
from typing import Any

from console.cli.common import UserError, add_db, open_store


def _month(s: str) -> str:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", s.strip()):
        raise argparse.ArgumentTypeError(f"{s!r} is not a month (YYYY-MM, e.g. 2026-11)")
    return s.strip()


def register(sub: Any) -> None:
    p = sub.add_parser(
        "program-report",
        help="the program's monthly report (HTML or PDF) and its figures as CSV files",
        description="The program's monthly report: volume, timeliness, safety, outcomes and "
        "follow-ups, coverage and equity for the calls received in one month (the machine's "
        "local time). Its figures equal `report --json` for the same period. No person's name, "
        "phone or address is in it.",
    )
    add_db(p)
    p.add_argument("--month", required=True, type=_month, metavar="YYYY-MM")
    p.add_argument(
        "--out", metavar="FILE", help="write the report to FILE.html (self-contained) or FILE.pdf"
    )
    p.add_argument(
        "--csv",
        metavar="DIR",
        help="write every figure as CSV files in DIR, with data_dictionary.csv describing them",
    )
    p.set_defaults(_run=run)


def local_zone() -> tzinfo:
    from datetime import datetime

    tz = datetime.now().astimezone().tzinfo
    assert tz is not None
    return tz


def run(args: argparse.Namespace) -> int:
    from console.config import ConfigError, load_config
    from console.store.read.program import program_report, write_csvs

    if args.out and not args.out.lower().endswith((".html", ".htm", ".pdf")):
        raise UserError(f"--out {args.out}: the report is written as .html or .pdf")
    try:
        given = getattr(args, "config", None)  # the global --config
        cfg = load_config(Path(given) if given else None)
    except ConfigError as exc:
        raise UserError(str(exc)) from exc
    store = open_store(args.db)
    rep = program_report(
        store,
        args.month,
        tz=local_zone(),
        hours=cfg.program_hours,
        targets=cfg.targets,
        scheduled_teams=cfg.scheduled_teams,
        destinations=cfg.destinations,
    )
    written = []
    if args.csv:
        try:
            written += [str(p) for p in write_csvs(rep, args.csv)]
        except OSError as exc:
            raise UserError(f"cannot write CSV files to {args.csv}: {exc.strerror or exc}") from exc
    if args.out:
        try:
            from console.ui.report.render import RenderError, write_report
        except ImportError as exc:
            raise UserError(f"rendering the report needs the desktop libraries ({exc})") from exc
        try:
            written.append(str(write_report(rep, args.out)))
        except RenderError as exc:
            raise UserError(str(exc)) from exc
    if not written:
        print(json.dumps({k: t.rows for k, t in rep.tables.items()}, indent=1, default=str))
    else:
        print(f"program report {args.month}: {len(written)} file(s) written")
    return 0
