"""Replay in the console window: the replay picture source, the timeline strip, bookmarks,
training mode and the debrief."""

from .source import ReplayPictureSource
from .timeline import TimelinePanel, TimelineStrip
from .training import DebriefDialog, DecisionDialog, TrainingController

__all__ = [
    "DebriefDialog",
    "DecisionDialog",
    "ReplayPictureSource",
    "TimelinePanel",
    "TimelineStrip",
    "TrainingController",
]
