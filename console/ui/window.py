"""Old import path, kept for the benchmarks: see ``console.ui.shell.window``."""

from console.ui.shell.window import MainWindow

__all__ = ["MainWindow"]
