"""Themes: a dark one for dim dispatch rooms (the default) and a light one.

One :class:`ThemeColors` per theme holds every colour by meaning (status, priority, severity,
surfaces), so the models, the map and the plots draw with the same colours the style sheet uses.
The style sheet itself lives in ``resources/theme/<name>.qss``; its ``@name@`` placeholders are
filled from the same colours, so a colour is defined once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from console.config import THEMES, resource_path
from console.domain.events import Severity
from console.domain.model import CallStatus, TeamStatus
from console.ui.core.app_globals import DEFAULT_THEME as DEFAULT_THEME
from console.ui.core.app_globals import GLOBALS

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ThemeColors:
    """Colours by meaning. Text colours are chosen for contrast on ``base`` / ``window``."""

    name: str
    window: str
    base: str
    alt_base: str
    text: str
    muted: str
    border: str
    accent: str
    accent_text: str
    error: str
    ok: str
    warning: str
    pending: str
    unsafe: str
    overdue_bg: str
    overdue_fg: str
    banner_bg: str
    banner_flash_bg: str
    banner_fg: str
    severity: Mapping[Severity, str]
    priority: Mapping[int, str]
    team_status: Mapping[TeamStatus, str]
    call_status: Mapping[CallStatus, str]

    def qcolor(self, name: str) -> QColor:
        """A scalar colour field as a QColor (``theme.colors('dark').qcolor('muted')``)."""
        value = getattr(self, name)
        if not isinstance(value, str):
            raise ValueError(f"{name} is not a single colour")
        return QColor(value)

    def substitutions(self) -> dict[str, str]:
        """``@field@`` -> colour for every scalar colour and ``@severity_high@`` etc."""
        out: dict[str, str] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, str) and f.name != "name":
                out[f.name] = v
        for sev, c in self.severity.items():
            out[f"severity_{sev.value}"] = c
        for p, c in self.priority.items():
            out[f"priority_{p}"] = c
        return out


def _ro(d: dict) -> Mapping:  # type: ignore[type-arg]
    return MappingProxyType(d)


DARK = ThemeColors(
    name="dark",
    window="#1e2126",
    base="#16181c",
    alt_base="#1b1e23",
    text="#e8eaed",
    muted="#8a8f98",
    border="#3a3f47",
    accent="#4f8fd8",
    accent_text="#ffffff",
    error="#ff8a80",
    ok="#81c784",
    warning="#ffcc80",
    pending="#90caf9",
    unsafe="#ffb74d",
    overdue_bg="#5c1010",
    overdue_fg="#ffcdd2",
    banner_bg="#b71c1c",
    banner_flash_bg="#ff1744",
    banner_fg="#ffffff",
    severity=_ro(
        {
            Severity.CRITICAL: "#ff5252",
            Severity.HIGH: "#ff8a65",
            Severity.MEDIUM: "#ffd54f",
            Severity.LOW: "#90a4ae",
        }
    ),
    priority=_ro({1: "#ff8a80", 2: "#ffcc80", 3: "#b0bec5"}),
    team_status=_ro(
        {
            TeamStatus.AVAILABLE: "#81c784",
            TeamStatus.ASSIGNED: "#ce93d8",
            TeamStatus.EN_ROUTE: "#64b5f6",
            TeamStatus.ON_SCENE: "#ffb74d",
            TeamStatus.TRANSPORTING: "#4dd0e1",
            TeamStatus.AT_DESTINATION: "#bcaaa4",
            TeamStatus.OUT_OF_SERVICE: "#9e9e9e",
            TeamStatus.OFF_DUTY: "#757575",
            TeamStatus.UNKNOWN: "#f48fb1",
        }
    ),
    call_status=_ro(
        {
            CallStatus.PENDING: "#ffcc80",
            CallStatus.ASSIGNED: "#ce93d8",
            CallStatus.EN_ROUTE: "#64b5f6",
            CallStatus.ON_SCENE: "#ffb74d",
            CallStatus.TRANSPORTING: "#4dd0e1",
            CallStatus.CLEARED: "#81c784",
            CallStatus.ESCALATED: "#ff8a80",
            CallStatus.CANCELLED: "#9e9e9e",
            CallStatus.UNKNOWN: "#f48fb1",
        }
    ),
)

LIGHT = ThemeColors(
    name="light",
    window="#f3f4f6",
    base="#ffffff",
    alt_base="#f7f8fa",
    text="#111418",
    muted="#5f6670",
    border="#c4c8ce",
    accent="#1a5fb4",
    accent_text="#ffffff",
    error="#b00020",
    ok="#1b5e20",
    warning="#8a5300",
    pending="#0d47a1",
    unsafe="#b34700",
    overdue_bg="#ffcdd2",
    overdue_fg="#8e0000",
    banner_bg="#c62828",
    banner_flash_bg="#8e0000",
    banner_fg="#ffffff",
    severity=_ro(
        {
            Severity.CRITICAL: "#b71c1c",
            Severity.HIGH: "#c43e00",
            Severity.MEDIUM: "#8a5300",
            Severity.LOW: "#455a64",
        }
    ),
    priority=_ro({1: "#b71c1c", 2: "#a84300", 3: "#455a64"}),
    team_status=_ro(
        {
            TeamStatus.AVAILABLE: "#1b5e20",
            TeamStatus.ASSIGNED: "#6a1b9a",
            TeamStatus.EN_ROUTE: "#0d47a1",
            TeamStatus.ON_SCENE: "#a84300",
            TeamStatus.TRANSPORTING: "#006064",
            TeamStatus.AT_DESTINATION: "#4e342e",
            TeamStatus.OUT_OF_SERVICE: "#616161",
            TeamStatus.OFF_DUTY: "#757575",
            TeamStatus.UNKNOWN: "#ad1457",
        }
    ),
    call_status=_ro(
        {
            CallStatus.PENDING: "#a84300",
            CallStatus.ASSIGNED: "#6a1b9a",
            CallStatus.EN_ROUTE: "#0d47a1",
            CallStatus.ON_SCENE: "#a84300",
            CallStatus.TRANSPORTING: "#006064",
            CallStatus.CLEARED: "#1b5e20",
            CallStatus.ESCALATED: "#b71c1c",
            CallStatus.CANCELLED: "#616161",
            CallStatus.UNKNOWN: "#ad1457",
        }
    ),
)

_COLORS: dict[str, ThemeColors] = {DARK.name: DARK, LIGHT.name: LIGHT}
assert set(_COLORS) == set(THEMES), "every configurable theme needs its colours"


def theme_names() -> tuple[str, ...]:
    return tuple(_COLORS)


def colors(name: str | None = None) -> ThemeColors:
    """The colours of theme ``name`` (default: the theme applied last)."""
    key = GLOBALS.theme if name is None else name
    try:
        return _COLORS[key]
    except KeyError:
        raise ValueError(
            f"theme {key!r} is not allowed (expected {' or '.join(repr(t) for t in _COLORS)})"
        ) from None


def current_theme() -> str:
    return GLOBALS.theme


_PLACEHOLDER = re.compile(r"@([a-z0-9_]+)@")


def style_sheet(name: str) -> str:
    """The theme's QSS with its colour placeholders filled in."""
    c = colors(name)
    path = resource_path(f"theme/{name}.qss")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        log.warning("theme style sheet %s cannot be read (%s); palette only", path, e)
        return ""
    subs = c.substitutions()

    def fill(m: re.Match[str]) -> str:
        key = m.group(1)
        if key not in subs:
            raise ValueError(f"{path.name}: unknown colour placeholder @{key}@")
        return subs[key]

    return _PLACEHOLDER.sub(fill, text)


def qpalette(c: ThemeColors) -> QPalette:
    pal = QPalette()
    R = QPalette.ColorRole
    G = QPalette.ColorGroup
    for role, value in (
        (R.Window, c.window),
        (R.WindowText, c.text),
        (R.Base, c.base),
        (R.AlternateBase, c.alt_base),
        (R.Text, c.text),
        (R.Button, c.window),
        (R.ButtonText, c.text),
        (R.ToolTipBase, c.base),
        (R.ToolTipText, c.text),
        (R.PlaceholderText, c.muted),
        (R.Highlight, c.accent),
        (R.HighlightedText, c.accent_text),
        (R.Link, c.accent),
        (R.BrightText, c.error),
    ):
        pal.setColor(role, QColor(value))
    for role in (R.WindowText, R.Text, R.ButtonText):
        pal.setColor(G.Disabled, role, QColor(c.muted))
    return pal


def apply_theme(app: QApplication, name: str) -> ThemeColors:
    """Apply theme ``name`` to the whole application (Fusion style, palette, style sheet)."""
    c = colors(name)
    app.setStyle("Fusion")
    app.setPalette(qpalette(c))
    app.setStyleSheet(style_sheet(name))
    GLOBALS.theme = name
    app.setProperty("rc_theme", name)
    return c
