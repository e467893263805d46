"""Moved to :mod:`console.store.read.aggregates`; this path keeps older imports working."""

from .read.aggregates import *  # noqa: F403
