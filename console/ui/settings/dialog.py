"""Settings: alert thresholds and the theme, saved to the configuration file.

The dialog edits the file in place — only the lines of the keys it changes, so the file's
comments and every other setting stay as the site wrote them — and checks the result with the
same parser the program starts with (``console.config.parse_config``). A value it refuses is
shown next to its field, with the parser's words, and nothing is written.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from console.config import (
    Config,
    ConfigError,
    default_config_text,
    parse_config,
    user_config_file,
)
from console.files import private_dir, write_private
from console.ui.core import theme

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Field:
    key: str
    """Dotted key in the file, e.g. ``thresholds.pending_s.1``."""
    label: str
    unit: str = "s"


FIELDS: tuple[Field, ...] = (
    Field("thresholds.pending_s.1", "Pending limit, priority &1 (urgent)"),
    Field("thresholds.pending_s.2", "Pending limit, priority &2"),
    Field("thresholds.pending_s.3", "Pending limit, priority &3 (routine)"),
    Field("thresholds.checkin_interval_s", "&Check-in interval (on scene)"),
    Field("thresholds.position_stale_s", "&Position stale after"),
    Field("thresholds.link_stale_s", "&Dispatch link stale after"),
)
THEME_KEY = "ui.theme"


# -- editing a TOML file in place ---------------------------------------------------------------

_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")


def _norm_table(name: str) -> str:
    return ".".join(p.strip().strip('"').strip("'") for p in name.split("."))


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"cannot write {type(value).__name__} to the configuration file")


def set_toml_value(text: str, dotted: str, value: object) -> str:
    """``text`` with ``dotted`` (``table.sub.key``) set to ``value``, everything else untouched.

    Replaces the key's line in its ``[table]`` section, or adds the line at the top of the
    section, or adds the section at the end. The caller re-parses the result: a file that
    defines the table some other way (inline or dotted keys) then fails to parse instead of
    being silently rewritten.
    """
    table, _, key = dotted.rpartition(".")
    lines = text.splitlines()
    key_re = re.compile(
        r"^(\s*)(" + re.escape(key) + r"|\"" + re.escape(key) + r"\"|'" + re.escape(key) + r"')"
        r"(\s*=\s*)([^#]*?)(\s*#.*)?$"
    )
    current: str | None = ""
    header_at: int | None = None
    for i, line in enumerate(lines):
        if line.lstrip().startswith("[["):
            current = None  # inside an array of tables: never ours
            continue
        m = _HEADER.match(line)
        if m:
            current = _norm_table(m.group(1))
            if current == table:
                header_at = i
            continue
        if current == table:
            km = key_re.match(line)
            if km:
                lines[i] = (
                    f"{km.group(1)}{km.group(2)}{km.group(3)}{toml_value(value)}{km.group(5) or ''}"
                )
                return "\n".join(lines) + "\n"
    new_line = f"{key} = {toml_value(value)}"
    if header_at is not None:
        lines.insert(header_at + 1, new_line)
    else:
        if lines and lines[-1].strip():
            lines.append("")
        lines += [f"[{table}]", new_line]
    return "\n".join(lines) + "\n"


def lookup(doc: Mapping[str, Any], dotted: str) -> Any:
    cur: Any = doc
    for part in dotted.split("."):
        if not isinstance(cur, Mapping) or part not in cur:
            return None
        cur = cur[part]
    return cur


def _show_number(v: Any) -> str:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return "" if v is None else str(v)
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def write_atomically(path: Path, text: str) -> None:
    """The configuration file, private (0600) from its first byte, renamed into place."""
    private_dir(path.parent)
    write_private(path, text)


# -- the dialog -----------------------------------------------------------------------------------


class SettingsDialog(QDialog):
    """Thresholds and theme. Enter saves, Esc cancels."""

    config_saved = Signal(object)
    """(Config) the new configuration, after the file was written."""

    def __init__(
        self, ctx: Any, parent: QWidget | None = None, *, config_path: Path | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Settings")
        cfg: Config = ctx.config
        self.path = Path(config_path or cfg.source or user_config_file())
        self.saved: Config | None = None

        lay = QVBoxLayout(self)
        self.where = QLabel(f"Saved to {self.path}", self)
        self.where.setProperty("role", "muted")
        self.where.setWordWrap(True)
        lay.addWidget(self.where)

        box = QGroupBox("Alert thresholds (seconds)", self)
        grid = QGridLayout(box)
        self.edits: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        for row, f in enumerate(FIELDS):
            lab = QLabel(f.label + ":", box)
            edit = QLineEdit(box)
            edit.setAccessibleName(f.label.replace("&", ""))
            edit.setText(_show_number(lookup(cfg.raw, f.key)))
            edit.setToolTip(f"{f.key} in the configuration file, in seconds")
            lab.setBuddy(edit)
            err = QLabel(box)
            err.setProperty("role", "error")
            err.setWordWrap(True)
            err.hide()
            grid.addWidget(lab, row, 0)
            grid.addWidget(edit, row, 1)
            grid.addWidget(QLabel(f.unit, box), row, 2)
            grid.addWidget(err, row, 3)
            self.edits[f.key] = edit
            self.errors[f.key] = err
        grid.setColumnStretch(3, 1)
        lay.addWidget(box)

        form = QFormLayout()
        self.theme = QComboBox(self)
        for name in theme.theme_names():
            self.theme.addItem(name.capitalize(), name)
        self.theme.setCurrentIndex(max(0, self.theme.findData(cfg.theme)))
        tlab = QLabel("&Theme:", self)
        tlab.setBuddy(self.theme)
        self.theme_error = QLabel(self)
        self.theme_error.setProperty("role", "error")
        self.theme_error.hide()
        form.addRow(tlab, self.theme)
        form.addRow("", self.theme_error)
        lay.addLayout(form)

        self.error = QLabel(self)
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        lay.addWidget(self.error)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.resize(720, 380)

    # -- validation and saving --------------------------------------------------------------------

    def _clear(self) -> None:
        for err in (*self.errors.values(), self.theme_error, self.error):
            err.hide()
            err.clear()
        for edit in self.edits.values():
            edit.setProperty("invalid", False)
            edit.style().unpolish(edit)
            edit.style().polish(edit)

    def _field_error(self, key: str, message: str) -> None:
        if key in self.errors:
            self.errors[key].setText("⚠ " + message)
            self.errors[key].show()
            edit = self.edits[key]
            edit.setProperty("invalid", True)
            edit.style().unpolish(edit)
            edit.style().polish(edit)
        elif key == THEME_KEY:
            self.theme_error.setText("⚠ " + message)
            self.theme_error.show()
        else:
            self.error.setText("⚠ " + message)
            self.error.show()

    def values(self) -> dict[str, object] | None:
        """The fields as numbers; None after marking the ones that are not numbers."""
        out: dict[str, object] = {}
        ok = True
        for key, edit in self.edits.items():
            raw = edit.text().strip()
            try:
                num = float(raw)
            except ValueError:
                self._field_error(key, f"{raw!r} is not a number of seconds" if raw else "required")
                ok = False
                continue
            if not math.isfinite(num):
                self._field_error(key, f"{raw!r} is not a number of seconds")
                ok = False
                continue
            out[key] = int(num) if num.is_integer() else num
        out[THEME_KEY] = str(self.theme.currentData())
        return out if ok else None

    def _current_text(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return default_config_text()

    def accept(self) -> None:
        self._clear()
        values = self.values()
        if values is None:
            return
        try:
            text = self._current_text()
        except OSError as e:
            self._field_error("", f"{self.path} cannot be read: {e.strerror or e}")
            return
        for key, value in values.items():
            text = set_toml_value(text, key, value)
        try:
            cfg = parse_config(text, source=self.path.resolve())
        except ConfigError as e:
            msg = str(e)
            key = msg.split(":", 1)[0].strip()
            if key in self.edits or key == THEME_KEY:
                self._field_error(key, msg.split(":", 1)[1].strip())
            else:
                self._field_error("", f"Not saved: {msg}")
            return
        try:
            write_atomically(self.path, text)
        except OSError as e:
            self._field_error("", f"Not saved: {self.path} cannot be written: {e.strerror or e}")
            return
        log.info("settings saved to %s", self.path)
        old: Config = self.ctx.config
        # Only what this dialog edits changes in the running console: the database and link it
        # started with (perhaps from the command line) stay as they are.
        cfg = replace(
            old,
            thresholds=cfg.thresholds,
            link_stale_s=cfg.link_stale_s,
            theme=cfg.theme,
            raw=cfg.raw,
        )
        old_theme = old.theme
        self.ctx.config = cfg
        self.saved = cfg
        app = QApplication.instance()
        if cfg.theme != old_theme and isinstance(app, QApplication):
            theme.apply_theme(app, cfg.theme)
        self.config_saved.emit(cfg)
        super().accept()


def open_settings(ctx: Any, parent: QWidget | None = None) -> SettingsDialog:
    dlg = SettingsDialog(ctx, parent)
    dlg.open()
    return dlg
