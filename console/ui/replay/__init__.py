"""Replay in the console window: the replay picture source, the timeline strip, bookmarks,
training mode and the debrief."""

from console.ui.replay.source import ReplayPictureSource
from console.ui.replay.timeline import TimelinePanel, TimelineStrip
from console.ui.replay.training import DebriefDialog, DecisionDialog, TrainingController

__all__ = [
    "DebriefDialog",
    "DecisionDialog",
    "ReplayPictureSource",
    "TimelinePanel",
    "TimelineStrip",
    "TrainingController",
]
