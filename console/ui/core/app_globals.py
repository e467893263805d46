"""The process's few pieces of shared state, in one place.

A console carries its own pacer and task manager in its context; ``pacer`` and ``tasks`` here
are what a panel built without one uses (created on first use). ``theme`` is the name of the
theme applied last, which colours read when asked for no theme in particular, and
``crash_dialog_open`` keeps a burst of errors to one dialog.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from console.ui.core.pacer import Pacer
    from console.ui.core.tasks import TaskManager

DEFAULT_THEME = "dark"


@dataclass
class AppGlobals:
    pacer: Pacer | None = None
    tasks: TaskManager | None = None
    theme: str = DEFAULT_THEME
    crash_dialog_open: bool = False


GLOBALS = AppGlobals()
"""The one instance: ``from console.ui.core.app_globals import GLOBALS``."""
