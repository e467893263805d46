"""The projection rows: load the ones a batch touches or all of them, write back what changed,
rebuild them from the log."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import (
    Connection,
    bindparam,
    delete,
    func,
    insert,
    select,
)

from console.domain.changes import PROGRAM_RECORDS, Snapshot, Touched, program_records
from console.domain.codec import (
    call_from_dict,
    call_to_dict,
    capacity_from_dict,
    capacity_to_dict,
    command_from_dict,
    command_to_dict,
    event_from_parts,
    program_record_from_dict,
    program_record_to_dict,
    team_from_dict,
    team_to_dict,
)
from console.domain.commands import (
    CommandRecord,
)
from console.domain.destinations import CapacityReport
from console.domain.events import (
    Alert,
    AlertKind,
    DestinationStatusReported,
    Event,
    Note,
    Severity,
)
from console.domain.model import EscalationTarget, Position
from console.domain.projection import Ack, State, fold

from . import notify
from . import schema as S
from .eventlog import _stored_events
from .sqlutil import _chunks, _dumps, _insert_params, _params, _rows_in
from .timetext import BatchTimes, json_time

if TYPE_CHECKING:
    from .store import Store


@dataclass(frozen=True)
class _NoteFact:
    """A stored note as the write-back expects it (rebuild path)."""

    source: str
    source_id: str
    note: Note
    kind: str = "note"


def _note_of(e: Any) -> Note | None:
    n = getattr(e, "note", None)
    return n if isinstance(n, Note) else None


CALL_COLUMNS = (
    "id",
    "status",
    "priority",
    "type",
    "received_at",
    "cleared_at",
    "team",
    "escalated_to",
    "unsafe",
    "neighborhood",
    "updated_at",
    "version",
    "k_source_id",
    "data",
)
TEAM_COLUMNS = (
    "id",
    "status",
    "provider",
    "call",
    "status_since",
    "updated_at",
    "k_source_id",
    "data",
)
"""The columns of a call's and a team's row, in the order :func:`_call_row` and
:func:`_team_row` give their values."""


def _call_row(
    st: State, cid: str, cache: dict[int, str] | None, db: Callable[[datetime | None], Any]
) -> tuple[Any, ...]:
    """A call's row as driver parameters (``db`` converts its times), in CALL_COLUMNS order."""
    c = st.calls[cid]
    data = cache.get(id(c)) if cache else None
    esc = c.escalated_to
    return (
        c.id,
        c.status.value,
        c.priority,
        c.type.value,
        db(c.received_at),
        db(c.cleared_at),
        c.team,
        esc.value if esc else None,
        bool(c.safety_flags),
        c.neighborhood,
        db(c.updated_at),
        c.version,
        st.call_source_id(cid),
        data if data is not None else _dumps(call_to_dict(c, json_time)),
    )


def _team_row(
    st: State, tid: str, cache: dict[int, str] | None, db: Callable[[datetime | None], Any]
) -> tuple[Any, ...]:
    """A team's row as driver parameters, in TEAM_COLUMNS order."""
    t = st.teams[tid]
    data = cache.get(id(t)) if cache else None
    return (
        t.id,
        t.status.value,
        t.provider,
        t.call,
        db(t.status_since),
        db(t.updated_at),
        st.team_source_id(tid),
        data if data is not None else _dumps(team_to_dict(t, json_time)),
    )


def _command_row(c: CommandRecord) -> dict[str, Any]:
    return {
        "command_id": c.command_id,
        "kind": c.command.kind if c.command else None,
        "status": c.status,
        "operator": c.operator,
        "requested_at": c.requested_at,
        "answered_at": c.answered_at,
        "answer": c.answer,
        "data": _dumps(command_to_dict(c.command)) if c.command else None,
    }


def _command_record(r: Any) -> CommandRecord:
    cmd = command_from_dict(json.loads(r.data)) if r.data else None
    return CommandRecord(
        r.command_id, cmd, r.status, r.operator, r.requested_at, r.answered_at, r.answer
    )


def _alert_row(a: Alert) -> dict[str, Any]:
    return {
        "id": a.id,
        "kind": a.kind.value,
        "severity": a.severity.value,
        "subject": a.subject,
        "message": a.message,
        "raised_at": a.raised_at,
    }


def _alert(r: Any) -> Alert:
    return Alert(r.id, AlertKind(r.kind), Severity(r.severity), r.subject, r.message, r.raised_at)


def load_partial(store: Store, conn: Connection, t: Touched) -> State:
    """The rows ``t`` names, as they stand, in a new State (only those: a partial state)."""
    st = State()
    if store._rows is not None:
        t = store._rows.fill(t, st)
    for data, ksid in _rows_in(conn, "calls", "id", ("data", "k_source_id"), t.calls):
        c = call_from_dict(orjson.loads(data))
        st.keep_call(c, ksid)
    for data, ksid in _rows_in(conn, "teams", "id", ("data", "k_source_id"), t.teams):
        tm = team_from_dict(orjson.loads(data))
        st.keep_team(tm, ksid)
    at = _time_reader(conn)
    # The rows of every batch, straight on the driver (one statement each, times read as
    # UtcDateTime reads them).
    for tid, lat, lon, when in _rows_in(
        conn, "positions", "team_id", ("team_id", "lat", "lon", "at"), sorted(t.positions)
    ):
        st.positions[tid] = Position(lat, lon, at(when))
    for part in _chunks(sorted(t.commands)):
        for r in conn.execute(select(S.commands).where(S.commands.c.command_id.in_(part))):
            st.commands[r.command_id] = _command_record(r)
    for part in _chunks(sorted(t.alerts)):
        for r in conn.execute(select(S.alerts).where(S.alerts.c.id.in_(part))):
            st.alerts[r.id] = _alert(r)
    for part in _chunks(sorted(t.acks)):
        for r in conn.execute(select(S.acks).where(S.acks.c.alert_id.in_(part))):
            st.acks[r.alert_id] = Ack(r.alert_id, r.operator, r.at, r.note)
    for cid, target, when in _rows_in(
        conn, "escalations", "call_id", ("call_id", "target", "at"), sorted(t.escalations)
    ):
        st.escalations[cid] = (EscalationTarget(target), at(when))
    for kind in PROGRAM_RECORDS:
        keys = sorted(k for kd, k in t.program if kd == kind)
        held = program_records(st, kind)
        for part in _chunks(keys):
            q = select(S.program_records.c.key, S.program_records.c.data).where(
                S.program_records.c.kind == kind, S.program_records.c.key.in_(part)
            )
            for r in conn.execute(q):
                held[r.key] = program_record_from_dict(kind, orjson.loads(r.data))
    asg_calls = sorted({c for c, _ in t.assignments})
    for cid, tid, when in _rows_in(
        conn, "assignments", "call_id", ("call_id", "team_id", "at"), asg_calls
    ):
        st.assignments[(cid, tid)] = at(when)
    _load_destinations(conn, st, t.destinations)
    return st


def _time_reader(conn: Connection) -> Callable[[Any], datetime]:
    """Read a NOT NULL time column fetched on the driver as
    :class:`~console.store.schema.UtcDateTime` reads it (aware, UTC)."""
    dialect = conn.dialect
    process = S.UtcDateTime().process_result_value

    def read(v: Any) -> datetime:
        d = process(v, dialect)
        if d is None:
            raise ValueError("a NOT NULL time column held NULL")
        return d

    return read


def _load_destinations(conn: Connection, st: State, ids: set[str] | None) -> None:
    """Each destination's latest capacity figure (``ids`` None: every destination)."""
    if ids is None:
        rows: Sequence[Any] = conn.execute(select(S.destination_capacity.c.data)).all()
    else:
        rows = _rows_in(conn, "destination_capacity", "destination_id", ("data",), sorted(ids))
    for (data,) in rows:
        r = capacity_from_dict(orjson.loads(data))
        st.destinations[r.destination_id] = r


def capacity_from_log(conn: Connection) -> list[dict[str, str]]:
    """The ``destination_capacity`` rows folded from the log's ``destination_status`` events
    (a database written before the table existed)."""
    q = select(
        S.events.c.kind,
        S.events.c.source,
        S.events.c.source_id,
        S.events.c.occurred_at,
        S.events.c.recorded_at,
        S.events.c.payload,
    ).where(S.events.c.kind == DestinationStatusReported.kind)
    st = fold(
        event_from_parts(
            r.kind, r.source, r.source_id, r.occurred_at, r.recorded_at, json.loads(r.payload)
        )
        for r in conn.execute(q)
    )
    return [_capacity_row(r) for _, r in sorted(st.destinations.items())]


def _capacity_row(r: CapacityReport) -> dict[str, str]:
    return {"destination_id": r.destination_id, "data": _dumps(capacity_to_dict(r))}


def write_back(
    store: Store,
    conn: Connection,
    st: State,
    before: Snapshot,
    t: Touched,
    accepted: Sequence[Event],
    record_json: dict[int, str] | None = None,
    times: BatchTimes | None = None,
) -> Touched:
    """Write the changed rows; returns what changed (``times``: the batch's, see
    :class:`~console.store.timetext.BatchTimes`)."""
    ch = t.changed(before, st)
    changed_calls = list(ch.calls)
    changed_teams = list(ch.teams)
    changed_pos = list(ch.positions)
    changed_cmds = list(ch.commands)
    changed_alerts = list(ch.alerts)
    changed_acks = list(ch.acks)
    changed_esc = list(ch.escalations)
    changed_asg = list(ch.assignments)

    sqlite = conn.dialect.name == "sqlite"
    if times is None:
        times = BatchTimes(sqlite)

    def replace(
        table: Any,
        key_col: Any,
        ids: Sequence[Any],
        cols: Sequence[str],
        params: list[tuple[Any, ...]],
        known: dict[Any, Any],
    ) -> None:
        if not ids:
            return
        # Rows new to this batch need no delete: most of a live feed's rows are updates of
        # a few open calls, and a shift's first batch is all inserts.
        if sqlite:
            # One statement: REPLACE deletes the row with the same key, then inserts.
            _insert_params(conn, table, cols, params, verb="INSERT OR REPLACE")
            return
        existing = [i for i in ids if i in known]
        for part in _chunks(existing):
            conn.execute(delete(table).where(key_col.in_(part)))
        _insert_params(conn, table, cols, params)

    def replace_rows(
        table: Any,
        key_col: Any,
        ids: Sequence[Any],
        rows: list[dict[str, Any]],
        known: dict[Any, Any],
    ) -> None:
        if ids:
            replace(table, key_col, ids, *_params(conn, table, rows, times), known)

    db = times.db
    replace(
        S.calls,
        S.calls.c.id,
        changed_calls,
        CALL_COLUMNS,
        [_call_row(st, i, record_json, db) for i in changed_calls],
        before.calls,
    )
    replace(
        S.teams,
        S.teams.c.id,
        changed_teams,
        TEAM_COLUMNS,
        [_team_row(st, i, record_json, db) for i in changed_teams],
        before.teams,
    )
    replace_rows(
        S.positions,
        S.positions.c.team_id,
        changed_pos,
        [
            {"team_id": i, "lat": p.lat, "lon": p.lon, "at": p.at}
            for i in changed_pos
            if (p := st.positions[i])
        ],
        before.positions,
    )
    replace_rows(
        S.commands,
        S.commands.c.command_id,
        changed_cmds,
        [_command_row(st.commands[i]) for i in changed_cmds],
        before.commands,
    )
    replace_rows(
        S.alerts,
        S.alerts.c.id,
        changed_alerts,
        [_alert_row(st.alerts[i]) for i in changed_alerts],
        before.alerts,
    )
    replace_rows(
        S.acks,
        S.acks.c.alert_id,
        changed_acks,
        [
            {"alert_id": a.alert_id, "operator": a.operator, "at": a.at, "note": a.note}
            for i in changed_acks
            if (a := st.acks[i])
        ],
        before.acks,
    )
    replace_rows(
        S.escalations,
        S.escalations.c.call_id,
        changed_esc,
        [
            {"call_id": i, "target": st.escalations[i][0].value, "at": st.escalations[i][1]}
            for i in changed_esc
        ],
        before.escalations,
    )
    stale_asg = [k for k in changed_asg if k in before.assignments]
    if stale_asg:
        conn.execute(
            delete(S.assignments).where(
                S.assignments.c.call_id == bindparam("c"),
                S.assignments.c.team_id == bindparam("t"),
            ),
            [{"c": c, "t": tm} for c, tm in stale_asg],
        )
    _insert_params(
        conn,
        S.assignments,
        ("call_id", "team_id", "at"),
        [(c, tm, db(st.assignments[(c, tm)])) for c, tm in changed_asg],
    )
    replace_rows(
        S.destination_capacity,
        S.destination_capacity.c.destination_id,
        list(ch.destinations),
        [_capacity_row(st.destinations[i]) for i in ch.destinations],
        before.destinations,
    )
    _write_program(conn, st, ch.program, before)
    note_rows = [
        {
            "source": e.source,
            "source_id": e.source_id,
            "call_id": n.call_id,
            "text": n.text,
            "author": n.author,
            "at": n.at,
        }
        for e in accepted
        if e.kind == "note" and (n := _note_of(e)) is not None
    ]
    if note_rows:
        conn.execute(insert(S.notes), note_rows)
    ch.notes = {str(r["call_id"]) for r in note_rows}
    return ch


def _write_program(
    conn: Connection, st: State, changed: set[tuple[str, str]], before: Snapshot
) -> None:
    """Replace the program records that changed (few: a supervisor's or team's entries)."""
    if not changed:
        return
    stale = [{"k": k, "i": i} for k, i in changed if before.program.get((k, i)) is not None]
    if stale:
        conn.execute(
            delete(S.program_records).where(
                S.program_records.c.kind == bindparam("k"),
                S.program_records.c.key == bindparam("i"),
            ),
            stale,
        )
    rows = []
    for k, i in sorted(changed):
        rec = program_records(st, k).get(i)
        if rec is not None:
            rows.append(
                {
                    "kind": k,
                    "key": i,
                    "call_id": getattr(rec, "call_id", "") or "",
                    "data": _dumps(program_record_to_dict(rec)),
                }
            )
    if rows:
        conn.execute(insert(S.program_records), rows)


def load_all(store: Store, conn: Connection) -> State:
    st = State()
    for r in conn.execute(select(S.calls)):
        c = call_from_dict(json.loads(r.data))
        st.keep_call(c, r.k_source_id)
    for r in conn.execute(select(S.teams)):
        tm = team_from_dict(json.loads(r.data))
        st.keep_team(tm, r.k_source_id)
    for r in conn.execute(select(S.positions)):
        st.positions[r.team_id] = Position(r.lat, r.lon, r.at)
    for r in conn.execute(select(S.commands)):
        st.commands[r.command_id] = _command_record(r)
    for r in conn.execute(select(S.alerts)):
        st.alerts[r.id] = _alert(r)
    for r in conn.execute(select(S.acks)):
        st.acks[r.alert_id] = Ack(r.alert_id, r.operator, r.at, r.note)
    for r in conn.execute(select(S.notes)):
        st.notes[(r.source, r.source_id)] = Note(r.call_id, r.text, r.author, r.at)
    for r in conn.execute(select(S.assignments)):
        st.assignments[(r.call_id, r.team_id)] = r.at
    for r in conn.execute(select(S.escalations)):
        st.escalations[r.call_id] = (EscalationTarget(r.target), r.at)
    for r in conn.execute(select(S.program_records)):
        program_records(st, r.kind)[r.key] = program_record_from_dict(r.kind, json.loads(r.data))
    _load_destinations(conn, st, None)
    st.seen.clear()
    st.as_of = conn.execute(select(func.max(S.events.c.occurred_at))).scalar_one()
    return st


def rebuild(store: Store) -> int:
    """Recompute every projection table from the event log (e.g. after a fold fix)."""
    if store._rows is not None:
        store._rows.clear()
    with store._write() as conn:
        # Fold inside the write transaction (and, on PostgreSQL, under the append lock):
        # no batch can land between the read and the write-back.
        seq = store._lock_appends(conn)
        state = fold(_stored_events(conn))
        for table in S.PROJECTION_TABLES:
            conn.execute(delete(table))
        everything = Touched.everything(state)
        notes = [_NoteFact(src, sid, n) for (src, sid), n in state.notes.items()]
        store._write_back(conn, state, Snapshot(), everything, notes)  # type: ignore[arg-type]
        notify.publish(conn, None, seq, seq)
    return len(state.seen)
