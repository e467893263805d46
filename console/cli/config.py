"""``responder-console config``: check a configuration file, or print/write the default."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def configure_parser(p: Any) -> None:
    p.description = (
        "Check the configuration (the file given, --config, or the user's file) and print what "
        "the program will use; or print or write the commented default file."
    )
    p.add_argument("file", nargs="?", metavar="FILE", help="file to check (default: --config)")
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--default", action="store_true", help="print the commented default configuration"
    )
    group.add_argument(
        "--init",
        action="store_true",
        help="write the default configuration to the user's config folder if it has none",
    )
    p.set_defaults(_run=run)


def register(sub: Any) -> None:
    configure_parser(
        sub.add_parser(
            "config", help="check the configuration file, or write the commented default"
        )
    )


def run(args: argparse.Namespace) -> int:
    from console.config import (
        ConfigError,
        default_config_text,
        ensure_user_config,
        load_config,
        summary,
    )

    if getattr(args, "default", False):
        sys.stdout.write(default_config_text())
        return 0
    if getattr(args, "init", False):
        print(ensure_user_config())
        return 0
    given = getattr(args, "file", None) or getattr(args, "config", None)
    try:
        cfg = load_config(Path(given) if given else None)
    except ConfigError as e:
        print(f"responder-console: {e}", file=sys.stderr)
        return 2
    print("\n".join(summary(cfg)))
    return 0
