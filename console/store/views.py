"""Moved to :mod:`console.store.read.views`; this path keeps older imports working."""

from .read.views import *  # noqa: F403
