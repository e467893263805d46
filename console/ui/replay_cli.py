"""Old import path, kept for the benchmarks and the command line: see ``console.ui.replay.cli``."""

from console.ui.replay.cli import build_replay_console, configure_parser, run

__all__ = ["build_replay_console", "configure_parser", "run"]
