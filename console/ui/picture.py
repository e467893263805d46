"""Old import path, kept for the benchmarks: see ``console.ui.core.picture``."""

from console.ui.core.picture import LivePictureSource

__all__ = ["LivePictureSource"]
