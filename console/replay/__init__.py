"""Shift replay: seekable playback of a past shift, shift files, de-identification, training.

Qt-free: the window drives it through ``console.ui.replay``; ``export-shift`` runs headless.
"""

from .engine import Mark, PlaybackClock, ReplayEngine, ReplayError

__all__ = ["Mark", "PlaybackClock", "ReplayEngine", "ReplayError"]
