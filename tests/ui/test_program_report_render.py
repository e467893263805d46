"""The monthly report as documents: HTML, PDF and CSVs, drawn offscreen; its pages looked at as
images; and no person's name, phone, address or call number in any byte of any of them."""

from __future__ import annotations

import csv
import json
import os
import re
import sqlite3
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtPdf import QPdfDocument

from console.domain.commands import (
    AddNote,
    EscalateCall,
    GiveUnservedReason,
    OpenFollowUp,
    RecordNaloxone,
    RecordOutcome,
)
from console.domain.events import (
    CallReceived,
    CallUpdated,
    CommandRequested,
    Event,
    Note,
    NoteAdded,
)
from console.domain.model import Call, CallStatus, CallType, EscalationTarget
from console.domain.program import Outcome, UnservedReason
from console.domain.synthetic import synthetic_days
from console.store import Store
from console.store.read.program import program_report, write_csvs
from console.ui.report.render import write_html, write_pdf, write_report

T0 = datetime(2026, 11, 12, 15, 0, tzinfo=UTC)
PEOPLE = [
    # (given, surname, phone, date of birth, street address)
    ("Jolene", "Marchetti", "860-555-0142", "1984-03-07", "1187 Wethersfield Avenue"),
    ("Dwayne", "Okafor", "(860) 555-0199", "1971-11-23", "43 Zion Street"),
    ("Priscilla", "Vandermolen", "+1 860 555 0123", "2009-06-30", "2210 Albany Avenue Apt 3"),
]
OPERATOR = "Hank Strozier"
NEIGHBORHOOD = "Frog Hollow"
"""Not a person's identifier: the report shows it, so the search below can see text where it is."""


def _ev(kind: type[Event], sid: str, at: datetime, **kw: Any) -> Event:
    return kind(source="dispatch", source_id=sid, occurred_at=at, recorded_at=at, **kw)


def _sensitive_store(path: Path) -> Store:
    events = synthetic_days(4, 400, seed=2, start=datetime(2026, 11, 10, 12, tzinfo=UTC))
    for i, (given, sur, phone, dob, addr) in enumerate(PEOPLE):
        cid = f"INC-25-0{i}8317"
        at = T0 + timedelta(minutes=10 * i)
        call = Call(
            cid,
            CallStatus.PENDING,
            2,
            CallType.MENTAL_HEALTH,
            at,
            at,
            lat=41.7601 + i * 0.01,
            lon=-72.6802 - i * 0.01,
            address=addr,
            neighborhood=NEIGHBORHOOD,
            summary=f"{given} {sur} at {addr}, callback {phone}",
            destination=f"{addr} (mother's home)",
            language="es" if i == 0 else None,
            juvenile=i == 2,
            disposition=f"left with {given} {sur}",
        )
        later = at + timedelta(minutes=3)
        events += [
            _ev(CallReceived, f"p{i}a", at, call=call),
            _ev(
                CallUpdated,
                f"p{i}b",
                later,
                call=replace(
                    call,
                    status=CallStatus.CANCELLED,
                    updated_at=later,
                    version=2,
                    cleared_at=later,
                ),
            ),
            _ev(
                NoteAdded,
                f"p{i}c",
                later,
                note=Note(cid, f"Spoke with {given} {sur}, DOB {dob}; {phone}", OPERATOR, later),
            ),
            _ev(
                CommandRequested,
                f"p{i}d",
                later,
                command_id=f"cmd-{i}",
                command=EscalateCall(
                    call_id=cid, target=EscalationTarget.EMS, reason=f"{given} at {addr}"
                ),
                operator=OPERATOR,
            ),
            _ev(
                CommandRequested,
                f"p{i}e",
                later,
                command_id=f"cmdn-{i}",
                command=AddNote(call_id=cid, text=f"call {given} back on {phone}"),
                operator=OPERATOR,
            ),
        ]
    store = Store.open(f"sqlite:///{path}")
    store.append(events)
    for i, (given, sur, phone, _, addr) in enumerate(PEOPLE):
        # The program's own records, with names and places in every free-text field.
        cid = f"INC-25-0{i}8317"
        who = f"{given} {sur}"
        for cmd in (
            RecordOutcome(
                call_id=cid,
                outcome=Outcome.TRANSPORTED_COMMUNITY,
                destination_kind=f"{sur.lower()}_home",
                reason=f"{who} to {addr}",
            ),
            RecordNaloxone(
                call_id=cid,
                doses=1,
                given_at=T0 + timedelta(minutes=10 * i + 2),
                reason=f"given to {who}",
            ),
            GiveUnservedReason(
                call_id=cid, unserved=UnservedReason.CALLER_DECLINED, reason=f"{who} {phone}"
            ),
            OpenFollowUp(call_id=cid, owner=who, due_at=T0 + timedelta(days=2), cause=phone),
        ):
            store.submit(cmd, operator=OPERATOR)
    for i, (given, sur, phone, dob, _) in enumerate(PEOPLE):
        store.record_persons(
            f"INC-25-0{i}8317",
            [{"role": "Caller", "given_name": given, "surname": sur, "phone": phone, "dob": dob}],
        )
    return store


def _variants(s: str) -> set[str]:
    out = {s, s.lower(), s.upper()}
    digits = re.sub(r"\D", "", s)
    if len(digits) >= 7:
        out |= {digits, digits[-10:], digits[-7:]}
    return {v for v in out if len(v) >= 4}


def _needles() -> set[str]:
    found: set[str] = set()
    for i, (given, sur, phone, dob, addr) in enumerate(PEOPLE):
        for s in (given, sur, phone, dob, addr, f"{given} {sur}", f"INC-25-0{i}8317"):
            found |= _variants(s)
    found |= _variants(OPERATOR) | _variants("Strozier")
    return found


def _pdf_text(path: Path) -> str:
    doc = QPdfDocument()
    assert doc.load(str(path)) == QPdfDocument.Error.None_
    return "\n".join(doc.getAllText(i).text() for i in range(doc.pageCount()))


def _pages(path: Path, out: Path) -> list[QImage]:
    doc = QPdfDocument()
    assert doc.load(str(path)) == QPdfDocument.Error.None_
    images = []
    for i in range(doc.pageCount()):
        size = doc.pagePointSize(i)
        page = doc.render(i, QSize(round(size.width() * 1.5), round(size.height() * 1.5)))
        img = QImage(page.size(), QImage.Format.Format_RGB32)  # the page on paper
        img.fill(QColor("white"))
        p = QPainter(img)
        p.drawImage(0, 0, page)
        p.end()
        img.save(str(out / f"program-report-page-{i + 1}.png"))
        images.append(img)
    return images


def test_no_person_is_in_any_byte_of_the_report_or_its_csvs(qapp: Any, tmp_path: Path) -> None:
    store = _sensitive_store(tmp_path / "src.db")
    rep = program_report(store, "2026-11", tz=UTC)
    assert rep.figures["calls_received"] > 100
    html = write_html(rep, tmp_path / "r.html")
    pdf = write_pdf(rep, tmp_path / "r.pdf")
    csvs = write_csvs(rep, tmp_path / "csv")
    needles = _needles()
    # The search sees text where it is: the neighborhood is in the report, in every form.
    blobs: dict[str, bytes] = {p.name: p.read_bytes() for p in [html, pdf, *csvs]}
    pdf_text = _pdf_text(pdf)
    assert NEIGHBORHOOD.encode() in blobs["r.html"]
    assert NEIGHBORHOOD.encode() in blobs["volume_by_neighborhood.csv"]
    assert NEIGHBORHOOD in pdf_text
    # ...and the people were in the database the report was made from.
    con = sqlite3.connect(tmp_path / "src.db")
    for n in ("Marchetti", "Okafor", "Strozier", "860-555-0142", "43 Zion Street"):
        hits = con.execute("SELECT count(*) FROM events WHERE payload LIKE ?", (f"%{n}%",))
        assert hits.fetchone()[0] > 0, n
    con.close()
    for name, data in blobs.items():
        for enc in ("utf-8", "utf-16-le", "utf-16-be"):
            found = sorted(n for n in needles if n.encode(enc) in data)
            assert not found, f"identifying text in {name} ({enc}): {found}"
    found = sorted(n for n in needles if n in pdf_text)
    assert not found, f"identifying text in the PDF's text: {found}"
    # The figures of those calls are there, counted: one language other than English, one youth.
    eq = dict(rep.table("equity").rows)
    assert eq["calls_language_other_than_english"] == 1
    assert dict(rep.table("followups").rows)["naloxone_doses"] == 3
    assert [r[1] for r in rep.table("transports").rows] == ["(other)"]  # a name in it: hidden
    assert dict((r[0], r[2]) for r in rep.table("unserved_reasons").rows)["caller_declined"] == 3
    store.close()


def test_the_pdf_pages_show_the_report(qapp: Any, tmp_path: Path, artifacts: Path) -> None:
    store = _sensitive_store(tmp_path / "src.db")
    rep = program_report(
        store, "2026-11", tz=UTC, targets={"received_to_dispatched": 300.0}, scheduled_teams=8
    )
    pdf = write_report(rep, tmp_path / "r.pdf")
    pages = _pages(pdf, artifacts)
    assert len(pages) >= 4
    text = _pdf_text(pdf)
    for heading in (
        "Program report — 2026-11",
        "Volume",
        "Timeliness",
        "Safety",
        "Outcomes and follow-ups",
        "Coverage",
        "Equity",
    ):
        assert heading in text
    for img in pages:
        # Every page carries something, and nothing is drawn past the right margin: the
        # rightmost tenth of the page (the margin is 14 mm of 210) is blank.
        w, h = img.width(), img.height()
        inked = right = 0
        for y in range(0, h, 6):
            for x in range(0, w, 6):
                if img.pixelColor(x, y) != QColor("white"):
                    inked += 1
                    if x > w * 0.93:
                        right += 1
        assert inked > 200
        assert right == 0
    store.close()


def test_the_command_writes_html_pdf_and_csvs(tmp_path: Path) -> None:
    events = synthetic_days(3, 300, seed=4, start=datetime(2026, 10, 30, 9, tzinfo=UTC))
    db = tmp_path / "m.db"
    s = Store.open(f"sqlite:///{db}")
    s.append(events)
    s.close()

    def rc(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "console", *args],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "TZ": "UTC"},  # months in UTC
        )

    out = rc("program-report", "--help")
    assert out.returncode == 0 and "--month" in out.stdout and "--csv" in out.stdout
    ok = rc(
        "program-report",
        "--db",
        str(db),
        "--month",
        "2026-11",
        "--out",
        str(tmp_path / "r.html"),
        "--csv",
        str(tmp_path / "csv"),
    )
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert (tmp_path / "csv" / "data_dictionary.csv").is_file()
    # The CSVs' figures are those `report --json` prints for the same window.
    js = json.loads(
        rc(
            "report",
            "--db",
            str(db),
            "--json",
            "--from",
            "2026-11-01T00:00:00+00:00",
            "--to",
            "2026-11-30T23:59:59.999999+00:00",
        ).stdout
    )
    with (tmp_path / "csv" / "timeliness.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            s = js["intervals_s"][row["interval"]]
            assert (int(row["n"]), float(row["median_s"]), float(row["p90_s"])) == (
                s["n"],
                s["p50"],
                s["p90"],
            )
    with (tmp_path / "csv" / "service.csv").open(encoding="utf-8") as f:
        svc = {r["measure"]: int(r["calls"]) for r in csv.DictReader(f)}
    assert svc["received"] == js["calls_received"] > 20
    assert svc["not_served"] == js["eligible_not_served"]
    pdf = rc(
        "program-report", "--db", str(db), "--month", "2026-11", "--out", str(tmp_path / "r.pdf")
    )
    assert pdf.returncode == 0, pdf.stderr
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    for bad, words in (
        (("--month", "2026-13"), "is not a month"),
        (("--month", "2026-11", "--out", str(tmp_path / "r.txt")), ".html or .pdf"),
    ):
        r = rc("program-report", "--db", str(db), *bad)
        assert r.returncode == 2 and words in r.stderr and len(r.stderr.splitlines()) == 1


def test_file_menu_writes_the_report_and_its_csvs(qtbot: Any, tmp_path: Path) -> None:
    from PySide6.QtCore import QSettings

    from console.config import load_config
    from console.domain.clock import ManualClock
    from console.ui.report.dialog import ProgramReportDialog, csv_folder_for
    from console.ui.shell.main import build_console

    store = _sensitive_store(tmp_path / "console.db")
    console = build_console(
        load_config(None),
        store,
        dispatch_url=None,
        operator="J. Doe",
        role="supervisor",
        clock=ManualClock(datetime(2026, 12, 3, 9, tzinfo=UTC)),
        settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
    )
    win = console.window
    try:
        files = [a for a in win.menuBar().actions() if a.text() == "&File"]
        assert files
        item = [a for a in files[0].menu().actions() if a.text() == "&Program report…"]
        assert item
        item[0].trigger()
        dlg = win.report_dialog
        assert isinstance(dlg, ProgramReportDialog) and dlg.isVisible()
        assert dlg.month.currentText() == "2026-11"  # the month before the clock's
        out = tmp_path / "november.pdf"
        dlg.path.setText(str(out))
        with qtbot.waitSignal(dlg.written, timeout=60_000) as sig:
            dlg.generate()
        assert sig.args == [str(out)]
        assert out.read_bytes().startswith(b"%PDF")
        assert (csv_folder_for(out) / "data_dictionary.csv").is_file()
        assert "Saved" in dlg.status.text()
        # A file the report cannot be is refused in the dialog, with the reason.
        dlg.path.setText(str(tmp_path / "november.docx"))
        with qtbot.waitSignal(dlg.failed, timeout=5000):
            dlg.generate()
        assert ".pdf or .html" in dlg.status.text()
        dlg.close()
    finally:
        console.close()
