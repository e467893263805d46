"""Shift files: a self-contained SQLite file holding one shift for replay, and ``export-shift``.

A shift file holds the events of the range (plus the few earlier ones that reproduce what was
still open when it starts), the team roster, the format and store schema versions, a sha256
checksum over the canonical rows, and the trainer's annotations (bookmarks, decision points and
trainees' choices), which are the only part written after export.

Opening a file that is damaged, altered after export, or written by a newer console fails with a
:class:`ShiftFileError` that says which, and changes nothing: the file is read through a
read-only connection and only annotation edits ever write to it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.domain.codec import (
    CodecError,
    event_body,
    event_from_parts,
    parse_ts,
    team_to_dict,
)
from console.domain.events import Event
from console.domain.model import Team
from console.domain.projection import fold
from console.files import create_private, private_dir

from .deidentify import K_DEFAULT, Deidentifier
from .engine import ReplayError, ShiftData, base_events
from .signing import SignatureError, ensure_key, public_key_path, sign
from .signing import verify as verify_signature

if TYPE_CHECKING:
    from console.store.identity import Identity

FORMAT = "responder-console-shift"
FORMAT_VERSION = 1
"""Layout this console writes and reads; a file of a higher version is refused."""

SQLITE_HEADER = b"SQLite format 3\x00"

CHECKED_META = (
    "format",
    "format_version",
    "schema_version",
    "created_at",
    "start",
    "end",
    "deidentified",
    "event_count",
    "base_count",
)
"""Metadata covered by the checksum (flipping ``deidentified`` must not go unnoticed)."""

ANNOTATION_KINDS = ("bookmark", "decision")

_DDL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    part TEXT NOT NULL CHECK (part IN ('base', 'range')),
    source TEXT NOT NULL,
    source_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE TABLE roster (team_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE persons (id INTEGER PRIMARY KEY, call_id TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE annotations (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('bookmark', 'decision')),
    at TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    call_id TEXT,
    author TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE TABLE choices (
    id INTEGER PRIMARY KEY,
    annotation_id INTEGER NOT NULL REFERENCES annotations(id) ON DELETE CASCADE,
    trainee TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    made_at TEXT NOT NULL
);
"""


class ShiftFileError(ReplayError):
    """A shift file that cannot be written or opened; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Annotation:
    id: int
    kind: str
    at: datetime
    title: str
    note: str = ""
    call_id: str | None = None
    author: str = ""


@dataclass(frozen=True, slots=True)
class Choice:
    id: int
    annotation_id: int
    trainee: str
    action: dict[str, Any]
    made_at: datetime


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    events: int
    base: int
    teams: int
    checksum: str
    deidentified: bool
    signed_with: Path | None = None
    """The signing key file (None: unsigned)."""
    key_created: bool = False
    dropped: dict[str, int] = field(default_factory=dict)
    """De-identified: records left out because their kind is not on the allow-list, by kind."""


# -- canonical rows and the checksum -----------------------------------------------------------


def _dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _iso(d: datetime) -> str:
    return d.astimezone(UTC).isoformat()


def _checksum(con: sqlite3.Connection) -> str:
    """sha256 over the canonical rows: events, roster, persons and the checked metadata."""
    h = hashlib.sha256()
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    for k in CHECKED_META:
        h.update(_dumps(["meta", k, meta.get(k)]).encode())
        h.update(b"\n")
    for row in con.execute(
        "SELECT seq, part, source, source_id, kind, occurred_at, recorded_at, payload"
        " FROM events ORDER BY seq"
    ):
        h.update(_dumps(["event", *row]).encode())
        h.update(b"\n")
    for row in con.execute("SELECT team_id, data FROM roster ORDER BY team_id"):
        h.update(_dumps(["team", *row]).encode())
        h.update(b"\n")
    for row in con.execute("SELECT id, call_id, data FROM persons ORDER BY id"):
        h.update(_dumps(["person", *row]).encode())
        h.update(b"\n")
    return h.hexdigest()


# -- writing -----------------------------------------------------------------------------------


def _known_schema() -> str:
    from console.store.db import head_revision

    return head_revision()


def write_shift_file(
    out: str | Path,
    *,
    start: datetime,
    end: datetime,
    base: Sequence[Event],
    events: Sequence[Event],
    persons: dict[str, list[dict[str, Any]]] | None = None,
    deidentify: bool = False,
    k: int = K_DEFAULT,
    offset: timedelta | None = None,
    city_centre: tuple[float, float] | None = None,
    force: bool = False,
    source: str = "",
    signing_key: Path | None = None,
) -> ExportResult:
    """Write a shift file atomically (a temporary file renamed into place).

    ``deidentify`` writes the trainer's copy (console.replay.deidentify): ``k`` calls at least
    behind every location; every time moved by ``offset`` (a whole number of weeks; default a
    secret one drawn here and never written), the file's range and creation time included."""
    path = Path(out)
    if path.exists() and not force:
        raise ShiftFileError(f"{path} already exists; choose another name or pass --force")
    if not path.parent.is_dir():
        raise ShiftFileError(f"folder {path.parent} does not exist")
    d = Deidentifier(k=k, offset=offset, city_centre=city_centre) if deidentify else None
    created = False
    now = datetime.now(UTC)
    if d is not None:
        d.prepare([*base, *events])
        base_l = [x for x in map(d.event, base) if x is not None]
        range_l = [x for x in map(d.event, events) if x is not None]
        start, end, now = d.time(start), d.time(end), d.time(now)
    else:
        base_l, range_l = list(base), list(events)
    final = fold([*base_l, *range_l])
    roster: list[Team] = [final.teams[k] for k in sorted(final.teams)]
    people: list[tuple[str, list[dict[str, Any]]]] = []
    for cid in sorted(persons or {}):
        found = (persons or {})[cid]
        if not found:
            continue
        if d is None:
            people.append((cid, found))
        elif (pseudo := d.known_call(cid)) is not None:
            people.append((pseudo, d.persons(found)))
    people.sort(key=lambda p: p[0])
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    try:
        create_private(tmp)  # 0600 from the first byte (SQLite's journal takes its mode)
        con = sqlite3.connect(tmp)
        try:
            con.execute("PRAGMA secure_delete=ON")
            con.executescript(_DDL)
            meta = {
                "format": FORMAT,
                "format_version": str(FORMAT_VERSION),
                "schema_version": _known_schema(),
                "created_at": _iso(now),
                "start": _iso(start),
                "end": _iso(end),
                "deidentified": "1" if deidentify else "0",
                "event_count": str(len(range_l)),
                "base_count": str(len(base_l)),
            }
            if source and not deidentify:
                meta["source"] = source
            con.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta.items())
            rows = [
                (
                    part,
                    e.source,
                    e.source_id,
                    e.kind,
                    _iso(e.occurred_at),
                    _iso(e.recorded_at),
                    _dumps(event_body(e)),
                )
                for part, evs in (("base", base_l), ("range", range_l))
                for e in evs
            ]
            con.executemany(
                "INSERT INTO events (part, source, source_id, kind, occurred_at, recorded_at,"
                " payload) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            con.executemany(
                "INSERT INTO roster (team_id, data) VALUES (?, ?)",
                [(t.id, _dumps(team_to_dict(t))) for t in roster],
            )
            con.executemany(
                "INSERT INTO persons (call_id, data) VALUES (?, ?)",
                [(cid, _dumps(p)) for cid, rows_ in people for p in rows_],
            )
            digest = _checksum(con)
            con.execute("INSERT INTO meta (key, value) VALUES ('checksum', ?)", (digest,))
            if signing_key is not None:
                created = ensure_key(signing_key)
                signature, signer = sign(signing_key, digest)
                con.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    [("signature", signature), ("signer", signer)],
                )
            con.commit()
            # Nothing of what was written and replaced may linger in free pages.
            con.execute("VACUUM")
        finally:
            con.close()
        os.chmod(tmp, 0o600)  # a shift file carries call content: its owner's alone
        os.replace(tmp, path)
    except sqlite3.Error as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise ShiftFileError(f"cannot write {path}: {exc}") from exc
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return ExportResult(
        path,
        len(range_l),
        len(base_l),
        len(roster),
        digest,
        deidentify,
        signing_key,
        signing_key is not None and created,
        dict(d.dropped) if d is not None else {},
    )


def export_shift(
    store: Any,
    start: datetime,
    end: datetime,
    out: str | Path,
    *,
    deidentify: bool = False,
    force: bool = False,
    k: int = K_DEFAULT,
    city_centre: tuple[float, float] | None = None,
    signing_key: Path | None = None,
) -> ExportResult:
    """Export the shift [start, end) of a database (``console.store.Store``) to a file, signed
    with ``signing_key`` (default: ``shift-signing.key`` in the user data folder, created when
    absent; console.replay.signing)."""
    if signing_key is None:
        from console.config import SIGNING_KEY_FILENAME, user_data_dir

        signing_key = private_dir(user_data_dir(), tighten=True) / SIGNING_KEY_FILENAME
    if start.tzinfo is None or end.tzinfo is None:
        raise ShiftFileError("--from and --to need a UTC offset")
    if end <= start:
        raise ShiftFileError(f"--to ({end.isoformat()}) is not after --from ({start.isoformat()})")
    base = base_events(e for _, e in store.events(end=start))
    events = [e for _, e in store.events(start=start, end=end)]
    call_ids = {
        e.entity_id for e in [*base, *events] if e.kind in ("call_received", "call_updated")
    }
    persons = {cid: store.persons(cid) for cid in sorted(call_ids)}
    from console.config import redact_url

    source = redact_url(store.url.render_as_string(hide_password=False))
    return write_shift_file(
        out,
        start=start,
        end=end,
        base=base,
        events=events,
        persons=persons,
        deidentify=deidentify,
        k=k,
        city_centre=city_centre,
        force=force,
        source=source,
        signing_key=signing_key,
    )


# -- reading -----------------------------------------------------------------------------------


def _ro_connect(path: Path) -> sqlite3.Connection:
    """A connection that cannot change the file (nor create a journal beside it)."""
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    con.execute("PRAGMA query_only=ON")
    return con


def _parse_iso(s: str, what: str, path: Path) -> datetime:
    try:
        d = parse_ts(s, what)
    except CodecError as exc:
        raise ShiftFileError(f"{path} is damaged: {exc}") from exc
    if d is None:
        raise ShiftFileError(f"{path} is damaged: {what} is missing")
    return d


class ShiftFile:
    """An opened, verified shift file. Reading never writes; annotation edits do, and only them."""

    def __init__(
        self,
        path: Path,
        meta: dict[str, str],
        data: ShiftData,
        persons: dict[str, list[dict[str, Any]]],
    ) -> None:
        self.path = path
        self.meta = meta
        self.data = data
        self.persons = persons

    @property
    def deidentified(self) -> bool:
        return self.data.deidentified

    @property
    def start(self) -> datetime:
        return self.data.start

    @property
    def end(self) -> datetime:
        return self.data.end

    # -- annotations ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _rw(self) -> Iterator[sqlite3.Connection]:
        try:
            con = sqlite3.connect(self.path)
        except sqlite3.Error as exc:
            raise ShiftFileError(f"cannot save to {self.path}: {exc}") from exc
        try:
            con.execute("PRAGMA secure_delete=ON")
            con.execute("PRAGMA foreign_keys=ON")
            with con:
                yield con
        except sqlite3.Error as exc:
            raise ShiftFileError(f"cannot save to {self.path}: {exc}") from exc
        finally:
            con.close()

    def annotations(self, kind: str | None = None) -> list[Annotation]:
        con = _ro_connect(self.path)
        try:
            rows = con.execute(
                "SELECT id, kind, at, title, note, call_id, author FROM annotations ORDER BY at, id"
            ).fetchall()
        finally:
            con.close()
        out = [
            Annotation(
                r[0], r[1], _parse_iso(r[2], "annotation time", self.path), r[3], r[4], r[5], r[6]
            )
            for r in rows
        ]
        return [a for a in out if kind is None or a.kind == kind]

    def add_annotation(
        self,
        kind: str,
        at: datetime,
        title: str,
        note: str = "",
        *,
        call_id: str | None = None,
        author: str = "",
    ) -> Annotation:
        if kind not in ANNOTATION_KINDS:
            raise ShiftFileError(f"annotation kind must be bookmark or decision, not {kind!r}")
        if at.tzinfo is None:
            raise ShiftFileError("an annotation time needs a UTC offset")
        if not (self.start <= at <= self.end):
            raise ShiftFileError(
                f"{at.isoformat()} is outside the shift ({self.start.isoformat()} .. "
                f"{self.end.isoformat()})"
            )
        with self._rw() as con:
            cur = con.execute(
                "INSERT INTO annotations (kind, at, title, note, call_id, author, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (kind, _iso(at), title, note, call_id, author, _iso(datetime.now(UTC))),
            )
            aid = int(cur.lastrowid or 0)
        return Annotation(aid, kind, at, title, note, call_id, author)

    def update_annotation(
        self,
        aid: int,
        *,
        title: str | None = None,
        note: str | None = None,
        at: datetime | None = None,
    ) -> None:
        sets: list[str] = []
        vals: list[Any] = []
        if title is not None:
            sets.append("title = ?")
            vals.append(title)
        if note is not None:
            sets.append("note = ?")
            vals.append(note)
        if at is not None:
            sets.append("at = ?")
            vals.append(_iso(at))
        if not sets:
            return
        with self._rw() as con:
            cur = con.execute(
                f"UPDATE annotations SET {', '.join(sets)} WHERE id = ?", (*vals, aid)
            )
            if cur.rowcount == 0:
                raise ShiftFileError(f"no annotation {aid} in {self.path}")

    def delete_annotation(self, aid: int) -> None:
        with self._rw() as con:
            con.execute("DELETE FROM annotations WHERE id = ?", (aid,))

    def record_choice(
        self,
        annotation_id: int,
        trainee: str,
        action: dict[str, Any],
        made_at: datetime | None = None,
    ) -> Choice:
        when = made_at or datetime.now(UTC)
        with self._rw() as con:
            cur = con.execute(
                "INSERT INTO choices (annotation_id, trainee, action, made_at) VALUES (?, ?, ?, ?)",
                (annotation_id, trainee, _dumps(action), _iso(when)),
            )
            cid = int(cur.lastrowid or 0)
        return Choice(cid, annotation_id, trainee, action, when)

    def choices(self) -> list[Choice]:
        con = _ro_connect(self.path)
        try:
            rows = con.execute(
                "SELECT id, annotation_id, trainee, action, made_at FROM choices ORDER BY id"
            ).fetchall()
        finally:
            con.close()
        return [
            Choice(r[0], r[1], r[2], json.loads(r[3]), _parse_iso(r[4], "choice time", self.path))
            for r in rows
        ]


def open_shift_file(path: str | Path) -> ShiftFile:
    """Open and verify a shift file; refuse a damaged, altered or newer one (file untouched)."""
    p = Path(path)
    if not p.is_file():
        raise ShiftFileError(f"{p}: no such shift file")
    try:
        with p.open("rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise ShiftFileError(f"cannot read {p}: {exc.strerror or exc}") from exc
    if header != SQLITE_HEADER:
        raise ShiftFileError(f"{p} is not a shift file (not an SQLite database), or it is damaged")
    try:
        con = _ro_connect(p)
    except sqlite3.Error as exc:
        raise ShiftFileError(f"cannot open {p}: {exc}") from exc
    try:
        return _read(p, con)
    except sqlite3.DatabaseError as exc:
        raise ShiftFileError(f"{p} is damaged and cannot be replayed ({exc})") from exc
    finally:
        con.close()


def _read(p: Path, con: sqlite3.Connection) -> ShiftFile:
    check = con.execute("PRAGMA quick_check").fetchone()
    if not check or check[0] != "ok":
        raise ShiftFileError(
            f"{p} is damaged and cannot be replayed (integrity check: {check[0] if check else '?'})"
        )
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "meta" not in tables:
        raise ShiftFileError(f"{p} is not a shift file (no metadata)")
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    if meta.get("format") != FORMAT:
        raise ShiftFileError(f"{p} is not a shift file (format {meta.get('format')!r})")
    try:
        version = int(meta.get("format_version", ""))
    except ValueError as exc:
        raise ShiftFileError(
            f"{p} is damaged: format version {meta.get('format_version')!r}"
        ) from exc
    if version > FORMAT_VERSION:
        raise ShiftFileError(
            f"{p} was written by a newer console (shift file format {version}; this one reads "
            f"up to {FORMAT_VERSION}): upgrade the console to open it"
        )
    from alembic.script import ScriptDirectory

    from console.store.db import MIGRATIONS

    known = {s.revision for s in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}
    schema = meta.get("schema_version", "")
    if schema not in known:
        raise ShiftFileError(
            f"{p} was written by a newer console (store schema {schema!r} is unknown here): "
            "upgrade the console to open it"
        )
    missing = {"events", "roster", "persons", "annotations", "choices"} - tables
    if missing:
        raise ShiftFileError(f"{p} is damaged: missing {', '.join(sorted(missing))}")
    stored = meta.get("checksum", "")
    actual = _checksum(con)
    if stored != actual:
        raise ShiftFileError(
            f"{p} failed its checksum: it was altered or damaged after export; "
            "export the shift again"
        )
    start = _parse_iso(meta.get("start", ""), "start", p)
    end = _parse_iso(meta.get("end", ""), "end", p)
    base: list[Event] = []
    events: list[Event] = []
    for seq, part, source, source_id, kind, occ, rec, payload in con.execute(
        "SELECT seq, part, source, source_id, kind, occurred_at, recorded_at, payload"
        " FROM events ORDER BY seq"
    ):
        try:
            e = event_from_parts(
                kind,
                source,
                source_id,
                _parse_iso(occ, f"event {seq} time", p),
                _parse_iso(rec, f"event {seq} time", p),
                json.loads(payload),
            )
        except (CodecError, ValueError) as exc:
            raise ShiftFileError(f"{p} is damaged: event {seq}: {exc}") from exc
        (base if part == "base" else events).append(e)
    if len(events) != int(meta.get("event_count", -1)) or len(base) != int(
        meta.get("base_count", -1)
    ):
        raise ShiftFileError(f"{p} is damaged: event count differs from its metadata")
    from console.domain.codec import team_from_dict

    roster = [
        team_from_dict(json.loads(d))
        for (d,) in con.execute("SELECT data FROM roster ORDER BY team_id")
    ]
    persons: dict[str, list[dict[str, Any]]] = {}
    for cid, data in con.execute("SELECT call_id, data FROM persons ORDER BY id"):
        persons.setdefault(cid, []).append(json.loads(data))
    data = ShiftData(
        start,
        end,
        base,
        events,
        roster=roster,
        deidentified=meta.get("deidentified") == "1",
        source=str(p),
        meta=meta,
    )
    return ShiftFile(p, meta, data, persons)


# -- what a role may open ----------------------------------------------------------------------

ROLES = ("supervisor", "trainer", "viewer")


@dataclass
class ReplaySource:
    """What ``replay FILE_OR_DB`` opened: the shift, and its file when it came from one."""

    data: ShiftData
    file: ShiftFile | None = None
    store: Any = None
    notes: list[str] = field(default_factory=list)


def looks_like_shift_file(target: str) -> bool:
    p = Path(target)
    if "://" in target or not p.is_file():
        return False
    try:
        with p.open("rb") as fh:
            if fh.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
                return True  # not SQLite at all: let the shift-file reader say it is damaged
    except OSError:
        return False
    try:
        con = _ro_connect(p)
        try:
            tables = {
                r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        finally:
            con.close()
    except sqlite3.Error:
        return True
    return "meta" in tables or "events" not in tables


def replay_identity(
    target: str,
    *,
    operators_file: Path | None,
    claimed_role: str | None = None,
    claimed_operator: str | None = None,
) -> Identity:
    """Who replays ``target``, and as what: the platform's identity (console.store.identity: the
    login and its group role for a PostgreSQL database; the account and the operators file for
    a shift file or an SQLite one), narrowed by ``--role``, never widened.

    Without ``--role`` the role is the granted one, at most ``trainer``: a supervisor opens a
    raw shift only by asking for it. A ``--role`` wider than the granted one raises
    :class:`ShiftFileError` with a one-line reason, before anything is read.
    """
    from console.store import identity as ident_mod

    if claimed_role is not None and claimed_role not in ROLES:
        raise ShiftFileError(f"role must be one of {', '.join(ROLES)}, not {claimed_role!r}")
    if "://" not in target and not Path(target).exists():
        raise ShiftFileError(f"{target}: no such shift file or database")
    if looks_like_shift_file(target):
        granted = ident_mod.on_sqlite(operators_file)
    else:
        from console.store import Store, StoreError

        try:
            store = Store.open(target, create=False)
        except StoreError as exc:
            raise ShiftFileError(str(exc)) from exc
        try:
            granted = ident_mod.establish(store.engine, operators_file)
        finally:
            store.close()
    order = ident_mod.ROLES  # narrowest first
    wanted = claimed_role or order[min(order.index(granted.role), order.index("trainer"))]
    ident = ident_mod.narrow(granted, claimed_operator, wanted)
    if ident.role != wanted:  # only a --role wider than granted (the default never is)
        raise ShiftFileError(next(r for r in ident.refused if r.startswith("--role ")))
    return ident


def open_for_replay(
    target: str,
    *,
    role: str = "trainer",
    start: datetime | None = None,
    end: datetime | None = None,
    trusted_key: Path | None = None,
) -> ReplaySource:
    """Open a shift file or a database range for replay, as ``role`` may.

    Only a supervisor may open a database or a raw file: those hold behavioral-health data
    about identifiable people. A trainer or a viewer may open only a de-identified shift file,
    and only a signed one: ``trusted_key`` is the public key file exports are checked against
    (default: beside the default signing key, console.replay.signing). ``role`` is what
    :func:`replay_identity` allows, never a bare claim.
    """
    if role not in ROLES:
        raise ShiftFileError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if "://" not in target and not Path(target).exists():
        raise ShiftFileError(f"{target}: no such shift file or database")
    if looks_like_shift_file(target):
        if start is not None or end is not None:
            raise ShiftFileError(
                "--from/--to apply to a database; a shift file holds its own range"
            )
        sf = open_shift_file(target)
        if role != "supervisor" and not sf.deidentified:
            raise ShiftFileError(
                f"{target} is not de-identified: a {role} may open only de-identified shift "
                "files (ask a supervisor to export it with --deidentify)"
            )
        if role != "supervisor":
            if trusted_key is None:
                from console.config import SIGNING_KEY_FILENAME, user_data_dir

                trusted_key = public_key_path(user_data_dir() / SIGNING_KEY_FILENAME)
            try:
                verify_signature(trusted_key, sf.meta["checksum"], sf.meta.get("signature"), target)
            except SignatureError as exc:
                raise ShiftFileError(str(exc)) from exc
        return ReplaySource(sf.data, sf)
    if role != "supervisor":
        raise ShiftFileError(
            f"a {role} may open only de-identified shift files, not a database; ask a "
            "supervisor for `responder-console export-shift --deidentify`"
        )
    from console.store import Store, StoreError

    from .engine import load_from_store

    try:
        store = Store.open(target, create=False)
    except StoreError as exc:
        raise ShiftFileError(str(exc)) from exc
    if start is None or end is None:
        first = last = None
        for _, e in store.events():
            first = e.occurred_at if first is None or e.occurred_at < first else first
            last = e.occurred_at if last is None or e.occurred_at > last else last
        if first is None or last is None:
            raise ShiftFileError(f"{target} holds no events to replay")
        start = start or first
        end = end or last + timedelta(seconds=1)  # the range is half-open: keep the last event
    return ReplaySource(load_from_store(store, start, end), None, store)
