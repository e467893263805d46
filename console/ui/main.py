"""Old import path, kept for the benchmarks and the command line: see ``console.ui.shell.main``."""

from console.ui.shell.main import build_console, run, settle_memory

__all__ = ["build_console", "run", "settle_memory"]
