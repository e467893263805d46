"""The documentation tells the truth about the program it documents.

- every image a document shows exists, and every picture in ``docs/images`` is shown somewhere;
- every link to another document, and every ``#anchor``, leads somewhere;
- every shortcut written ``<kbd>…</kbd>`` in a guide is a shortcut of a real action of the window
  the guide describes (the live window for the supervisor guide, the replay window for the
  trainer guide), and every shortcut those windows have is in their guide;
- every ``responder-console …`` command line in the documents parses with the program's own
  argument parser.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
IMAGES = DOCS / "images"
SUPERVISOR = DOCS / "supervisor-guide.md"
TRAINER = DOCS / "trainer-guide.md"

NOT_COMMAND_LINES = {"responder-console listener"}
"""Inline code that names the program but is not a command line: the application name the
console's PostgreSQL listener connection shows in ``pg_stat_activity`` (operations.md)."""


def _documents() -> list[Path]:
    return [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# -- images and links ------------------------------------------------------------------------------

_IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)[^)]*\)|<img\s[^>]*src=\"([^\"]+)\"")
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def _prose(text: str) -> str:
    """The document without its fenced code blocks (links inside code are not links)."""
    return _FENCE.sub("", text)


def _images(path: Path) -> list[str]:
    return [a or b for a, b in _IMAGE.findall(_prose(_text(path)))]


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    s = re.sub(r"[`*_]", "", heading.strip().lower())
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    heads = re.findall(r"^#{1,6}\s+(.+?)\s*#*$", _prose(_text(path)), re.M)
    return {_slug(h) for h in heads}


@pytest.mark.parametrize("doc", _documents(), ids=lambda p: p.name)
def test_every_image_shown_exists_and_is_a_png(doc: Path) -> None:
    for ref in _images(doc):
        target = (doc.parent / ref).resolve()
        assert target.is_file(), f"{doc.name} shows {ref}, which does not exist"
        if target.suffix == ".png":
            head = target.read_bytes()[:8]
            assert head == b"\x89PNG\r\n\x1a\n", f"{ref} is not a PNG file"


def test_pictures_stay_small() -> None:
    # The screenshot script palette-reduces a large picture; a bigger file means it did not.
    big = {p.name: p.stat().st_size for p in IMAGES.glob("*.png") if p.stat().st_size > 400_000}
    assert not big, f"pictures over 400 KB: {big}"


def test_every_picture_is_shown_by_a_document() -> None:
    shown = {(d.parent / r).resolve() for d in _documents() for r in _images(d)}
    pictures = sorted(IMAGES.glob("*.png"))
    assert pictures, "docs/images holds no pictures: run docs/make_screenshots.py"
    unused = [p.name for p in pictures if p.resolve() not in shown]
    assert not unused, f"pictures no document shows: {unused}"


@pytest.mark.parametrize("doc", _documents(), ids=lambda p: p.name)
def test_every_link_to_a_document_or_anchor_leads_somewhere(doc: Path) -> None:
    for ref in _LINK.findall(_prose(_text(doc))):
        if re.match(r"[a-z]+:", ref):
            continue  # http:, https:, mailto:
        file, _, anchor = ref.partition("#")
        target = (doc.parent / file).resolve() if file else doc
        assert target.exists(), f"{doc.name} links to {ref}: no such file"
        if anchor and target.suffix == ".md":
            assert anchor in _anchors(target), (
                f"{doc.name} links to {ref}: {target.name} has no heading with that anchor"
            )


def test_slug_matches_the_headings_the_guides_link_to() -> None:
    # The rule the anchor check relies on, on headings of the kind the guides use.
    assert _slug("Pending, confirmed, refused") == "pending-confirmed-refused"
    assert _slug("When the dispatch link is down") == "when-the-dispatch-link-is-down"
    assert _slug("`export-shift` and de-identification") == "export-shift-and-de-identification"


# -- command lines ---------------------------------------------------------------------------------


def _join_continuations(block: str) -> list[str]:
    lines: list[str] = []
    buf = ""
    for raw in block.splitlines():
        line = raw.rstrip()
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        lines.append(buf + line)
        buf = ""
    if buf:
        lines.append(buf)
    return lines


def _argv(line: str) -> list[str] | None:
    """The arguments after the program name, or None if the line does not run the program."""
    line = line.strip()
    if line.startswith("$ "):
        line = line[2:]
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        return None
    while words and "=" in words[0] and not words[0].startswith("-"):
        words = words[1:]  # VAR=value before the program, or ExecStart=
    if not words:
        return None
    prog = words[0].rpartition("=")[2]
    if Path(prog).name != "responder-console":
        return None
    return words[1:]


def command_lines() -> Iterator[Any]:
    for doc in _documents():
        text = _text(doc)
        for block in _FENCE.findall(text):
            info, body = block.split("\n", 1)
            if info.strip("`").strip() in ("text", "output"):
                continue  # what the program prints, not what is typed
            body = body.rsplit("```", 1)[0]
            for line in _join_continuations(body):
                argv = _argv(line)
                if argv is not None:
                    yield pytest.param(argv, id=f"{doc.name}: {shlex.join(argv)[:60]}")
        if doc.parent != DOCS:
            continue  # the README's table shows synopses ([--db URL] ...), not command lines
        for span in re.findall(r"`(responder-console\b[^`]*)`", _prose(text)):
            line = " ".join(span.split())
            if line in NOT_COMMAND_LINES:
                continue
            argv = _argv(line)
            if argv is not None:
                yield pytest.param(argv, id=f"{doc.name}: `{shlex.join(argv)[:60]}`")


def test_the_guides_show_command_lines() -> None:
    found = [(p.id, p.values[0]) for p in command_lines()]
    assert any(i.startswith("supervisor-guide.md") for i, _ in found)
    assert any(i.startswith("trainer-guide.md") and a[0] == "replay" for i, a in found)
    assert any(a[0] == "export-shift" and "--deidentify" in a for _, a in found)


@pytest.mark.parametrize("argv", list(command_lines()))
def test_command_line_parses(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    from console.app import build_parser

    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:
        if exc.code not in (0, None):  # --help and --version exit 0
            err = capsys.readouterr().err.strip().splitlines()
            pytest.fail(f"responder-console {shlex.join(argv)}: {err[-1] if err else exc}")


def test_a_wrong_command_line_is_caught(capsys: pytest.CaptureFixture[str]) -> None:
    # The parse check can fail: an option the program does not have is refused.
    from console.app import build_parser

    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["replay", "--speeed", "60", "shift.rcshift"])
    assert exc.value.code == 2
    assert "--speeed" in capsys.readouterr().err


# -- shortcuts -------------------------------------------------------------------------------------

_KBD = re.compile(r"<kbd>([^<]+)</kbd>")


def _portable(keys: str) -> str:
    from PySide6.QtGui import QKeySequence

    return QKeySequence(keys).toString(QKeySequence.SequenceFormat.PortableText)


def _documented(doc: Path) -> dict[str, str]:
    """Portable key text -> how the guide wrote it."""
    return {_portable(k): k for k in _KBD.findall(_text(doc))}


def _window_shortcuts(window: Any) -> dict[str, str]:
    """Portable key text -> action, for every QAction the window and its children hold."""
    from PySide6.QtGui import QKeySequence

    from console.ui.shell.help import window_actions

    out: dict[str, str] = {}
    for a in window_actions(window):
        for k in a.shortcuts():
            if not k.isEmpty():
                out[k.toString(QKeySequence.SequenceFormat.PortableText)] = (
                    a.text().replace("&", "") or a.objectName()
                )
    return out


class _FixedClock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def now(self) -> datetime:
        return self.t


@pytest.mark.webengine
@pytest.mark.timeout(120)
def test_supervisor_guide_shortcuts_are_the_windows(qtbot: Any, tmp_path: Path) -> None:
    from PySide6.QtCore import QSettings

    from console.config import load_config
    from console.store import Store
    from console.ui.shell.main import build_console, with_sample_destinations

    t = datetime(2026, 3, 12, 14, 0, tzinfo=UTC)
    store = Store.open(f"sqlite:///{tmp_path / 'console.db'}", clock=_FixedClock(t))
    console = build_console(
        # The guide documents the whole window: a site with destinations has their dock too.
        with_sample_destinations(load_config(None)),
        store,
        dispatch_url=None,
        operator="J. Doe",
        role="supervisor",
        clock=_FixedClock(t),
        settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
        show=False,
    )
    try:
        real = _window_shortcuts(console.window)
        documented = _documented(SUPERVISOR)
        assert len(documented) >= 15
        invented = {k: v for k, v in documented.items() if k not in real}
        assert not invented, f"the guide lists shortcuts the window does not have: {invented}"
        missing = {k: v for k, v in real.items() if k not in documented}
        assert not missing, f"shortcuts of the window the guide does not list: {missing}"
    finally:
        console.close()


@pytest.fixture
def shift_file(tmp_path: Path) -> Path:
    from console.domain.synthetic import synthetic_shift
    from console.replay.shiftfile import export_shift
    from console.store import Store

    start = datetime(2026, 3, 12, 6, 0, tzinfo=UTC)
    store = Store.open(f"sqlite:///{tmp_path / 'live.db'}")
    events = synthetic_shift(300, seed=5, start=start)
    store.append(events)
    last = max(e.occurred_at for e in events)
    out = tmp_path / "clean.rcshift"
    export_shift(store, start, last + timedelta(seconds=1), out, deidentify=True)
    store.close()
    return out


@pytest.mark.webengine
@pytest.mark.timeout(120)
def test_trainer_guide_shortcuts_are_the_replay_windows(
    qtbot: Any, tmp_path: Path, shift_file: Path
) -> None:
    from PySide6.QtCore import QSettings

    from console.config import load_config
    from console.replay.shiftfile import open_for_replay
    from console.ui.replay.cli import build_replay_console

    rc = build_replay_console(
        load_config(None),
        open_for_replay(str(shift_file), role="trainer"),
        operator="T. Trainer",
        role="trainer",
        settings=QSettings(str(tmp_path / "replay.ini"), QSettings.Format.IniFormat),
        show=False,
    )
    try:
        real = _window_shortcuts(rc.window)
        documented = _documented(TRAINER)
        invented = {k: v for k, v in documented.items() if k not in real}
        assert not invented, f"the guide lists shortcuts the replay window lacks: {invented}"
        # Every replay control's key is explained here (the rest is the supervisor guide's).
        timeline = _window_shortcuts(rc.timeline)
        timeline[_portable("Ctrl+7")] = "Go to Timeline"
        assert _portable("Ctrl+7") in real
        missing = {k: v for k, v in timeline.items() if k not in documented}
        assert not missing, f"replay shortcuts the trainer guide does not list: {missing}"
    finally:
        rc.close()


def test_architecture_names_every_package_of_the_tree() -> None:
    """A newcomer finds every package from docs/architecture.md: each one under console/ (and
    the benchmarks) is named there, so a new folder cannot land without its paragraph."""
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    missing = []
    for init in sorted([*ROOT.glob("console/**/__init__.py"), ROOT / "benchmarks/__init__.py"]):
        pkg = init.parent.relative_to(ROOT).as_posix()
        if pkg == "console" or "/migrations" in pkg:
            continue
        top = pkg.removeprefix("console/ui/")
        if pkg.startswith("console/ui/"):
            if f"`{top}/`" not in text:
                missing.append(pkg)
        elif f"`{pkg}`" not in text:
            missing.append(pkg)
    assert not missing, f"packages not described in docs/architecture.md: {missing}"
