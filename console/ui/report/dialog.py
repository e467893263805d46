"""File → Program report…: the month, the file, and the CSV files beside it.

The figures are read on a worker (the GUI thread never waits on the database); the document is
drawn on the GUI thread when they arrive, as the command line draws it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.store.read.program import ProgramReport, program_report, write_csvs
from console.ui.core.context import ConsoleContext
from console.ui.report.render import RenderError, write_report

log = logging.getLogger(__name__)


def recent_months(today: datetime, n: int = 24) -> list[str]:
    """``YYYY-MM`` of the last ``n`` months, the month before ``today``'s first."""
    y, m = today.year, today.month
    out = []
    for _ in range(n):
        m -= 1
        if m == 0:
            y, m = y - 1, 12
        out.append(f"{y:04d}-{m:02d}")
    return out


def csv_folder_for(path: Path) -> Path:
    """Where the CSV files of a report written to ``path`` go: a folder beside it."""
    return path.with_name(f"{path.stem}-csv")


class ProgramReportDialog(QDialog):
    """Asks for the month and the file, then writes the report (and its CSVs)."""

    written = Signal(str)
    """The report's path, once written."""
    failed = Signal(str)
    """Why it could not be written (one line)."""

    def __init__(self, ctx: ConsoleContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Program report")
        now = ctx.clock.now().astimezone()  # the machine's zone, as the command line's
        self.tz = now.tzinfo
        self.month = QComboBox(self)
        self.month.setEditable(True)  # any YYYY-MM, the current month included
        self.month.addItems([f"{now:%Y-%m}", *recent_months(now)])
        self.month.setCurrentIndex(1)
        self.path = QLineEdit(self)
        self.path.setText(str(Path.home() / f"program-report-{self.month.currentText()}.pdf"))
        self.month.currentTextChanged.connect(self._month_changed)
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.with_csv = QCheckBox("Also the figures as CSV files, in a folder beside it", self)
        self.with_csv.setChecked(True)
        self.status = QLabel("", self)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Month:", self.month)
        form.addRow("File (.pdf or .html):", row)
        form.addRow("", self.with_csv)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close, self
        )
        self.buttons.accepted.connect(self.generate)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(
            QLabel(
                "Volume, timeliness, safety, outcomes, coverage and equity for the calls "
                "received in one month. No person's name, phone or address is in it.",
                self,
            )
        )
        lay.addLayout(form)
        lay.addWidget(self.status)
        lay.addWidget(self.buttons)

    def _month_changed(self, month: str) -> None:
        p = Path(self.path.text())
        if p.stem.startswith("program-report-"):
            self.path.setText(str(p.with_name(f"program-report-{month}{p.suffix or '.pdf'}")))

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Save the program report",
            self.path.text(),
            "PDF document (*.pdf);;Web page (*.html)",
        )
        if path:
            self.path.setText(path)

    def generate(self) -> None:
        """Read the figures on a worker, then draw and write the files."""
        month = self.month.currentText().strip()
        path = Path(self.path.text().strip()).expanduser()
        store = self.ctx.store
        if store is None:
            self._fail("no database is open")
            return
        if path.suffix.lower() not in (".pdf", ".html", ".htm"):
            self._fail(f"{path.name}: the report is written as .pdf or .html")
            return
        cfg = self.ctx.config
        tz = self.tz
        assert tz is not None

        def figures() -> ProgramReport:
            return program_report(
                store,
                month,
                tz=tz,
                hours=cfg.program_hours,
                targets=cfg.targets,
                scheduled_teams=cfg.scheduled_teams,
                destinations=cfg.destinations,
            )

        self.buttons.setEnabled(False)
        self.status.setText(f"Reading the figures of {month}…")
        self.ctx.run_in_background(
            figures, lambda rep: self._write(rep, path), lambda exc: self._fail(str(exc))
        )

    def _write(self, rep: Any, path: Path) -> None:
        try:
            out = write_report(rep, path)
            extra = ""
            if self.with_csv.isChecked():
                folder = csv_folder_for(path)
                write_csvs(rep, folder)
                extra = f" and its CSV files in {folder}"
        except (RenderError, OSError) as exc:
            self._fail(str(exc))
            return
        self.buttons.setEnabled(True)
        self.status.setText(f"Saved {out}{extra}")
        self.written.emit(str(out))

    def _fail(self, why: str) -> None:
        line = " ".join(why.split())
        log.warning("program report not written: %s", line)
        self.buttons.setEnabled(True)
        self.status.setText(f"Not written: {line}")
        self.failed.emit(line)
