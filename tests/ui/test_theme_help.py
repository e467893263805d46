"""Theme colours and style sheets, the generated shortcut sheet, About, and the settings dialog
writing the configuration file with errors shown next to their field."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures_dialogs import Console, console_session, themed
from PySide6.QtGui import QAction, QColor, QKeySequence
from PySide6.QtWidgets import QApplication, QMainWindow, QMenu

from console.config import default_config_text, load_config
from console.domain.events import Severity
from console.domain.model import TeamStatus
from console.ui.core import theme
from console.ui.settings.dialog import SettingsDialog, set_toml_value
from console.ui.shell.help import ShortcutSheet, about_text, shortcut_rows

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def console(qtbot: Any, tmp_path: Path) -> Iterator[Console]:
    yield from console_session(qtbot, tmp_path)


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours."""

    def lum(c: str) -> float:
        q = QColor(c)
        ch = []
        for v in (q.redF(), q.greenF(), q.blueF()):
            ch.append(v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4)
        return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("name", ["dark", "light"])
def test_theme_colours_are_complete_and_readable(name: str) -> None:
    c = theme.colors(name)
    assert set(c.team_status) == set(TeamStatus)
    assert set(c.severity) == set(Severity)
    assert set(c.priority) == {1, 2, 3}
    # Text and every status/severity colour readable on the theme's base (WCAG AA large: 3).
    assert contrast(c.text, c.base) >= 7
    for colour in (*c.team_status.values(), *c.severity.values(), *c.priority.values()):
        assert contrast(colour, c.base) >= 3, colour
    assert contrast(c.banner_fg, c.banner_bg) >= 4.5
    sheet = theme.style_sheet(name)
    assert "@" not in sheet and c.base in sheet


def test_dark_is_the_default_and_apply_theme_sets_the_palette(qtbot: Any) -> None:
    assert theme.DEFAULT_THEME == "dark"
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    with themed("light"):
        assert theme.current_theme() == "light"
        assert app.palette().base().color().name() == theme.colors("light").base
        assert "QLineEdit" in app.styleSheet()
    with pytest.raises(ValueError, match="theme 'neon' is not allowed"):
        theme.colors("neon")


def test_dark_theme_is_dark() -> None:
    d, light = theme.colors("dark"), theme.colors("light")
    assert QColor(d.window).lightness() < 60 < QColor(light.window).lightness()


def test_shortcut_sheet_lists_the_window_actions(qtbot: Any) -> None:
    win = QMainWindow()
    qtbot.addWidget(win)
    menu = QMenu("&Actions", win)
    win.menuBar().addMenu(menu)
    assign = QAction("&Assign…", win)
    assign.setShortcut(QKeySequence("Ctrl+Shift+G"))
    menu.addAction(assign)
    focus = QAction("Focus the queue", win)
    focus.setShortcut(QKeySequence("F6"))
    focus.setProperty("group", "Panels")
    win.addAction(focus)
    no_key = QAction("Export", win)
    menu.addAction(no_key)

    rows = {(r.group, r.action): r.keys for r in shortcut_rows(win)}
    assert rows[("Actions", "Assign")] == QKeySequence("Ctrl+Shift+G").toString(
        QKeySequence.SequenceFormat.NativeText
    )
    assert rows[("Panels", "Focus the queue")] == "F6"
    assert ("Actions", "Export") not in rows  # no shortcut, nothing to list
    assert ("In dialogs", "Cancel the dialog") in rows

    # Generated when opened: an action added later is listed.
    late = QAction("&Escalate…", win)
    late.setShortcut(QKeySequence("Ctrl+E"))
    menu.addAction(late)
    sheet = ShortcutSheet(win)
    qtbot.addWidget(sheet)
    assert "Escalate" in sheet.visible_actions()
    sheet.search.setText("queue")
    assert sheet.visible_actions() == ["Focus the queue"]


def test_about_names_version_operator_and_database(console: Console) -> None:
    text = about_text(console.ctx)
    assert "Responder Console" in text and "sup.jones" in text and "sqlite" in text


def test_set_toml_value_keeps_comments_and_other_keys() -> None:
    text = default_config_text()
    out = set_toml_value(text, "thresholds.pending_s.1", 90)
    out = set_toml_value(out, "ui.theme", "light")
    out = set_toml_value(out, "thresholds.pending_by_type_s.overdose", 60)
    doc = tomllib.loads(out)
    assert doc["thresholds"]["pending_s"]["1"] == 90
    assert doc["thresholds"]["pending_s"]["2"] == 600
    assert doc["ui"]["theme"] == "light"
    assert doc["thresholds"]["pending_by_type_s"] == {"overdose": 60}
    assert out.count("#") == text.count("#")  # every comment kept
    added = set_toml_value("", "ui.theme", "dark")
    assert tomllib.loads(added) == {"ui": {"theme": "dark"}}


def test_settings_refuse_bad_values_next_to_the_field(
    qtbot: Any, console: Console, tmp_path: Path
) -> None:
    path = tmp_path / "site" / "config.toml"
    path.parent.mkdir()
    original = default_config_text()
    path.write_text(original, encoding="utf-8")
    dlg = SettingsDialog(console.ctx, config_path=path)
    qtbot.addWidget(dlg)
    assert dlg.edits["thresholds.pending_s.1"].text() == "120"

    dlg.edits["thresholds.pending_s.1"].setText("-5")
    dlg.edits["thresholds.checkin_interval_s"].setText("half an hour")
    dlg.accept()
    assert dlg.isVisible() or dlg.result() != dlg.DialogCode.Accepted
    assert "not a number" in dlg.errors["thresholds.checkin_interval_s"].text()
    assert not dlg.errors["thresholds.pending_s.2"].text()
    assert path.read_text(encoding="utf-8") == original  # nothing written

    dlg.edits["thresholds.checkin_interval_s"].setText("900")
    dlg.accept()
    err = dlg.errors["thresholds.pending_s.1"].text()
    assert "-5" in err and "> 0" in err  # the config parser's own words, next to the field
    assert path.read_text(encoding="utf-8") == original


def test_settings_save_to_the_file_and_the_running_console(
    qtbot: Any, console: Console, tmp_path: Path
) -> None:
    path = tmp_path / "config.toml"  # not there yet: starts from the commented defaults
    dlg = SettingsDialog(console.ctx, config_path=path)
    qtbot.addWidget(dlg)
    dlg.edits["thresholds.pending_s.1"].setText("90")
    dlg.edits["thresholds.position_stale_s"].setText("240")
    dlg.theme.setCurrentIndex(dlg.theme.findData("light"))
    db_before = console.ctx.config.database_url
    with themed("dark"):  # puts the application's look back afterwards
        with qtbot.waitSignal(dlg.config_saved, timeout=2000):
            dlg.accept()
        saved = load_config(path, env={}, data_dir=tmp_path)
        assert saved.thresholds.pending_s[1] == 90
        assert saved.thresholds.position_stale_s == 240
        assert saved.theme == "light"
        assert "# Responder Console configuration." in path.read_text(encoding="utf-8")
        live = console.ctx.config
        assert live.thresholds.pending_s[1] == 90 and live.theme == "light"
        assert live.database_url == db_before  # only what the dialog edits changes
        assert theme.current_theme() == "light"
