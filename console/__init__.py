"""Responder Console: the supervisor's console for civilian crisis-response teams."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("responder-console")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.1.0"
