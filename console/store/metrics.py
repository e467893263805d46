"""Moved to :mod:`console.store.read.metrics`; this path keeps older imports working."""

from .read.metrics import *  # noqa: F403
