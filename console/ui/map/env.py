"""Process environment QtWebEngine needs, set before the QApplication exists.

Chromium refuses to start as root without ``--no-sandbox``, and with no display (offscreen,
CI, a bundle smoke test) its GPU process only produces noise and occasional crashes. Both flags
are read once, when the first web view starts, so this must run before the application object
is created.
"""

from __future__ import annotations

import os
import sys
from typing import Any

_FLAGS = ("--no-sandbox", "--disable-gpu")
MBTILES_SCHEME = "rcmbtiles"
"""URL scheme the map page loads MBTiles tiles from (``rcmbtiles://<file>/{z}/{x}/{y}``)."""


def _is_root() -> bool:
    geteuid = getattr(os, "geteuid", None)
    return geteuid is not None and geteuid() == 0


def _is_headless() -> bool:
    if os.environ.get("QT_QPA_PLATFORM", "").startswith(("offscreen", "minimal")):
        return True
    if sys.platform.startswith("linux"):
        return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return False


def prepare_webengine_env() -> None:
    """Add the sandbox/GPU flags when running as root or headless; import QtWebEngine early;
    declare the MBTiles URL scheme (``register_schemes``).

    Existing flags in ``QTWEBENGINE_CHROMIUM_FLAGS`` are kept. Importing the web engine module
    before the application object lets Qt share OpenGL contexts between views, which it
    otherwise warns about. Safe to call more than once.
    """
    if _is_root() or _is_headless():
        current = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "").split()
        for flag in _FLAGS:
            if flag not in current:
                current.append(flag)
        os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = " ".join(current)
    import PySide6.QtWebEngineWidgets  # noqa: F401  (side effect: registers early init)

    register_schemes()


def register_schemes() -> None:
    """Declare the MBTiles scheme to QtWebEngine; Qt accepts this only before the application
    object exists (later calls do nothing)."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWebEngineCore import QWebEngineUrlScheme

    if QCoreApplication.instance() is not None:
        return
    name = MBTILES_SCHEME.encode()
    if QWebEngineUrlScheme.schemeByName(name).name() == name:
        return
    scheme = QWebEngineUrlScheme(name)
    scheme.setSyntax(QWebEngineUrlScheme.Syntax.Host)
    scheme.setFlags(
        QWebEngineUrlScheme.Flag.SecureScheme
        | QWebEngineUrlScheme.Flag.LocalScheme
        | QWebEngineUrlScheme.Flag.LocalAccessAllowed
        | QWebEngineUrlScheme.Flag.CorsEnabled
    )
    QWebEngineUrlScheme.registerScheme(scheme)


def bench_app(what: str) -> Any:
    """The QApplication a benchmark runs in: offscreen when there is no display, web engine
    ready, and the existing application reused when there is one."""
    if not os.environ.get("QT_QPA_PLATFORM") and sys.platform.startswith("linux"):
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
    prepare_webengine_env()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(["responder-console-bench"])
    elif not isinstance(app, QApplication):
        raise RuntimeError(f"{what} needs a QApplication, but a non-GUI one already exists")
    return app
