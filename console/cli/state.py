"""``responder-console state`` and ``report``: the picture and the metrics as JSON."""

from __future__ import annotations

import argparse
import json
from typing import Any

from console.cli.common import add_db, iso_time, open_store


def register(sub: Any) -> None:
    st = sub.add_parser("state", help="the current picture as JSON")
    add_db(st)
    st.add_argument("--json", action="store_true", help="JSON output (the only format)")
    st.set_defaults(_run=run_state)

    rp = sub.add_parser("report", help="workload and response metrics as JSON")
    add_db(rp)
    rp.add_argument("--from", dest="start", type=iso_time, metavar="ISO")
    rp.add_argument("--to", dest="end", type=iso_time, metavar="ISO")
    rp.add_argument("--json", action="store_true", help="JSON output (the only format)")
    rp.set_defaults(_run=run_report)


def run_state(args: argparse.Namespace) -> int:
    from console.store.read.views import state_json

    destinations = _site_destinations(getattr(args, "config", None))
    store = open_store(args.db)
    state = store.load_state()
    print(json.dumps(state_json(state, destinations=destinations, now=store.clock.now()), indent=2))
    return 0


def _site_destinations(config: str | None) -> Any:
    """The destinations of ``--config`` (or of the user's configuration file, if there is
    one); None when neither lists any."""
    from pathlib import Path

    from console.cli.common import UserError
    from console.config import ConfigError, load_config, user_config_file

    if config is None and not user_config_file().exists():
        return None
    try:
        cfg = load_config(Path(config) if config is not None else None)
    except ConfigError as exc:
        raise UserError(str(exc)) from exc
    return cfg.destinations or None


def run_report(args: argparse.Namespace) -> int:
    from console.store.read.metrics import report

    store = open_store(args.db)
    print(json.dumps(report(store, args.start, args.end), indent=2))
    return 0
