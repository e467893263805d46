"""Least privilege on PostgreSQL: the group roles, their grants, and the functions through which
the lower roles write.

| role | may |
|---|---|
| ``rc_viewer``, ``rc_trainer`` | read every table but ``persons`` and ``quarantine`` (person details; the view ``persons_public`` lists who is on a call without them); audit their own refused commands through ``rc_audit`` |
| ``rc_supervisor`` | read everything; write the projection rows a command makes (``commands``, ``acks``, ``program_records``, ``destination_capacity``); submit commands only through ``rc_append_console_event``, ``rc_queue_command`` and ``rc_audit``, which record the login (``session_user``) themselves |
| ``rc_sync`` | read everything; append dispatch's events; keep the projections, outbox, quarantine, persons and link status; fill an audit row's answer only through ``rc_audit_answer`` |

Nobody is granted UPDATE or DELETE on ``events`` or ``audit``; the functions compute the rows'
chained hashes themselves (console.store.chain, the same canonical form in SQL).
Logins are the site's: ``CREATE ROLE "j.rivera" LOGIN; GRANT rc_supervisor TO "j.rivera";``.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, Engine, text

log = logging.getLogger("console.store")

GROUP_ROLES = ("rc_supervisor", "rc_trainer", "rc_viewer", "rc_sync")
CONSOLE_ROLES = ("rc_supervisor", "rc_trainer", "rc_viewer")

PROJECTIONS = (
    "calls",
    "teams",
    "positions",
    "commands",
    "alerts",
    "acks",
    "notes",
    "assignments",
    "escalations",
    "program_records",
    "destination_capacity",
)
PERSONAL = ("persons", "quarantine")
"""Tables with person details (the people on a call; raw dispatch messages)."""

_ROLE_SQL = """DO $$BEGIN
  CREATE ROLE {role} NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END$$;"""

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION rc_canon_time(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN t IS NULL THEN '' ELSE
    to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
    || CASE WHEN to_char(t AT TIME ZONE 'UTC', 'US') <> '000000'
            THEN '.' || to_char(t AT TIME ZONE 'UTC', 'US') ELSE '' END
    || '+00:00' END
$$;

CREATE OR REPLACE FUNCTION rc_link(prev text, fields text[]) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT encode(sha256(convert_to(prev || coalesce((
    SELECT string_agg(CASE WHEN f IS NULL THEN '-1:' ELSE char_length(f) || ':' || f END, ''
                      ORDER BY i)
    FROM unnest(fields) WITH ORDINALITY AS u(f, i)), ''), 'UTF8')), 'hex')
$$;

CREATE OR REPLACE FUNCTION rc_console_role(claimed text) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN claimed = 'viewer' THEN 'viewer'
    WHEN claimed = 'trainer' AND (pg_has_role(session_user, 'rc_trainer', 'member')
                                  OR pg_has_role(session_user, 'rc_supervisor', 'member'))
      THEN 'trainer'
    WHEN claimed = 'supervisor' AND pg_has_role(session_user, 'rc_supervisor', 'member')
      THEN 'supervisor'
    WHEN pg_has_role(session_user, 'rc_supervisor', 'member') THEN 'supervisor'
    WHEN pg_has_role(session_user, 'rc_trainer', 'member') THEN 'trainer'
    ELSE 'viewer' END
$$;

CREATE OR REPLACE FUNCTION rc_append_console_event(
  p_source_id text, p_kind text, p_entity_id text, p_occurred timestamptz,
  p_recorded timestamptz, p_payload text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE prev text; h text; s bigint;
BEGIN
  IF NOT pg_has_role(session_user, 'rc_supervisor', 'member') THEN
    RAISE EXCEPTION 'only a supervisor can act' USING ERRCODE = '42501';
  END IF;
  IF p_kind NOT IN ('command_requested', 'alert_acknowledged', 'outcome', 'unserved_reason',
                    'naloxone', 'followup_opened', 'followup_attempt', 'followup_closed',
                    'destination_status') THEN
    RAISE EXCEPTION USING MESSAGE = 'a console cannot record a ' || p_kind || ' event',
      ERRCODE = '42501';
  END IF;
  IF (p_payload::json ->> 'operator') IS DISTINCT FROM session_user THEN
    RAISE EXCEPTION USING MESSAGE = 'the operator of a command is the login, ' || session_user,
      ERRCODE = '42501';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('rc:events', 0));
  SELECT chain INTO prev FROM events ORDER BY seq DESC LIMIT 1;
  h := rc_link(coalesce(prev, repeat('0', 64)), ARRAY['console', p_source_id, p_kind,
       p_entity_id, rc_canon_time(p_occurred), rc_canon_time(p_recorded), p_payload]);
  INSERT INTO events (source, source_id, kind, entity_id, occurred_at, recorded_at, payload,
                      chain)
  VALUES ('console', p_source_id, p_kind, p_entity_id, p_occurred, p_recorded, p_payload, h)
  RETURNING seq INTO s;
  RETURN s;
END $$;

CREATE OR REPLACE FUNCTION rc_queue_command(
  p_command_id text, p_kind text, p_payload text, p_call_id text, p_team_id text,
  p_created timestamptz) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF NOT pg_has_role(session_user, 'rc_supervisor', 'member') THEN
    RAISE EXCEPTION 'only a supervisor can act' USING ERRCODE = '42501';
  END IF;
  INSERT INTO outbox (command_id, idempotency_key, kind, payload, call_id, team_id, operator,
                      status, attempts, created_at, answer)
  VALUES (p_command_id, p_command_id, p_kind, p_payload, p_call_id, p_team_id, session_user,
          'queued', 0, p_created, '');
END $$;

CREATE OR REPLACE FUNCTION rc_audit(
  p_at timestamptz, p_role text, p_action text, p_call_id text, p_team_id text, p_reason text,
  p_detail text, p_command_id text, p_answer_status text, p_answer text,
  p_answered_at timestamptz) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE prev text; h text; r text; i bigint; settled boolean := p_command_id IS NULL;
BEGIN
  r := rc_console_role(p_role);
  IF settled AND p_answer_status NOT IN ('rejected', 'done') THEN
    RAISE EXCEPTION 'an audit row is rejected, done or pending' USING ERRCODE = '42501';
  END IF;
  IF NOT settled AND (p_answer_status <> 'pending' OR r <> 'supervisor') THEN
    RAISE EXCEPTION 'only a supervisor''s command awaits dispatch' USING ERRCODE = '42501';
  END IF;
  IF p_answer_status = 'done' AND r <> 'supervisor' THEN
    RAISE EXCEPTION 'only a supervisor can act' USING ERRCODE = '42501';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('rc:audit', 0));
  SELECT chain INTO prev FROM audit ORDER BY id DESC LIMIT 1;
  h := rc_link(coalesce(prev, repeat('0', 64)), ARRAY[rc_canon_time(p_at), session_user::text,
       r, p_action, p_call_id, p_team_id, coalesce(p_reason, ''), coalesce(p_detail, '{}'),
       p_command_id,
       CASE WHEN settled THEN p_answer_status END,
       CASE WHEN settled THEN coalesce(p_answer, '') END,
       CASE WHEN settled THEN rc_canon_time(p_answered_at) END]);
  INSERT INTO audit (at, operator, role, action, call_id, team_id, reason, detail, command_id,
                     answer_status, answer, answered_at, chain)
  VALUES (p_at, session_user, r, p_action, p_call_id, p_team_id, coalesce(p_reason, ''),
          coalesce(p_detail, '{}'), p_command_id, p_answer_status, coalesce(p_answer, ''),
          p_answered_at, h)
  RETURNING id INTO i;
  RETURN i;
END $$;

CREATE OR REPLACE FUNCTION rc_audit_answer(
  p_command_id text, p_status text, p_answer text, p_at timestamptz) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF NOT pg_has_role(session_user, 'rc_sync', 'member') THEN
    RAISE EXCEPTION 'only the sync service records dispatch''s answers' USING ERRCODE = '42501';
  END IF;
  UPDATE audit SET answer_status = p_status, answer = p_answer, answered_at = p_at
  WHERE command_id = p_command_id AND answered_at IS NULL;
END $$;

CREATE OR REPLACE VIEW persons_public AS
  SELECT id, call_id, role, recorded_at FROM persons;
"""

_FUNCTION_SIGNATURES = (
    "rc_append_console_event(text, text, text, timestamptz, timestamptz, text)",
    "rc_queue_command(text, text, text, text, text, timestamptz)",
    "rc_audit(timestamptz, text, text, text, text, text, text, text, text, text, timestamptz)",
    "rc_audit_answer(text, text, text, timestamptz)",
)


def grants_sql() -> list[str]:
    """The statements that give each group role what it needs (idempotent), after the schema
    exists; run by the schema's owner."""
    everything = "ALL TABLES IN SCHEMA public"
    readable = ", ".join(
        t
        for t in (
            *PROJECTIONS,
            "events",
            "audit",
            "outbox",
            "link_status",
            "alembic_version",
        )
    )
    out = [
        f"REVOKE ALL ON {everything} FROM PUBLIC",
        *(f"REVOKE ALL ON FUNCTION {f} FROM PUBLIC" for f in _FUNCTION_SIGNATURES),
        f"REVOKE ALL ON {everything} FROM {', '.join(GROUP_ROLES)}",
        "GRANT USAGE ON SCHEMA public TO " + ", ".join(GROUP_ROLES),
        # Viewers and trainers: everything but person details.
        f"GRANT SELECT ON {readable}, persons_public TO rc_viewer, rc_trainer",
        "GRANT EXECUTE ON FUNCTION "
        + _FUNCTION_SIGNATURES[2]
        + " TO rc_viewer, rc_trainer, rc_supervisor",
        # Supervisors: read everything; a command's own rows only through the functions.
        f"GRANT SELECT ON {everything} TO rc_supervisor",
        "GRANT INSERT, UPDATE, DELETE ON commands, acks, program_records, destination_capacity"
        " TO rc_supervisor",
        f"GRANT EXECUTE ON FUNCTION {_FUNCTION_SIGNATURES[0]}, {_FUNCTION_SIGNATURES[1]}"
        " TO rc_supervisor",
        # The sync service: dispatch's events and everything derived; the audit's answer only
        # through its function.
        f"GRANT SELECT ON {everything} TO rc_sync",
        "GRANT INSERT ON events TO rc_sync",
        "GRANT INSERT, UPDATE, DELETE ON "
        + ", ".join((*PROJECTIONS, "outbox", "link_status", *PERSONAL))
        + " TO rc_sync",
        "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO rc_sync",
        f"GRANT EXECUTE ON FUNCTION {_FUNCTION_SIGNATURES[3]} TO rc_sync",
    ]
    return out


def roles_sql() -> list[str]:
    return [_ROLE_SQL.format(role=r) for r in GROUP_ROLES]


def script() -> str:
    """Everything ``db grants`` prints: roles (administrator), functions and grants (owner)."""
    parts = [
        "-- Group roles (run once per server by an administrator with CREATEROLE):",
        *roles_sql(),
        "",
        "-- Functions, view and grants (run by the schema's owner; `db upgrade` does this):",
        FUNCTIONS.strip(),
        "",
        *(s + ";" for s in grants_sql()),
    ]
    return "\n".join(parts) + "\n"


def _can_create_roles(conn: Connection) -> bool:
    return bool(
        conn.execute(
            text("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")
        ).scalar()
    )


def missing_roles(conn: Connection) -> list[str]:
    have = set(
        conn.execute(
            text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:r)"), {"r": list(GROUP_ROLES)}
        ).scalars()
    )
    return [r for r in GROUP_ROLES if r not in have]


def rights(conn: Connection) -> tuple[bool, bool, bool]:
    """(may insert events, may insert audit rows, may update audit rows) directly: without
    them the console writes through the functions above."""
    row = conn.exec_driver_sql(
        "SELECT has_table_privilege('events', 'INSERT'), has_table_privilege('audit', 'INSERT'),"
        " has_table_privilege('audit', 'UPDATE')"
    ).one()
    return bool(row[0]), bool(row[1]), bool(row[2])


def install(engine: Engine) -> list[str]:
    """Create the roles (when allowed), functions, view and grants; returns the roles still
    missing (an administrator must create them: ``db grants`` prints how)."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.begin() as conn:
        owner = conn.exec_driver_sql(
            "SELECT pg_has_role(current_user, c.relowner, 'MEMBER') FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relname = 'events' AND n.nspname = 'public'"
        ).scalar()
        if not owner:  # another role's connection (the sync service, a console): not its job
            return []
        if missing_roles(conn) and _can_create_roles(conn):
            for stmt in roles_sql():
                conn.exec_driver_sql(stmt)
        missing = missing_roles(conn)
        conn.exec_driver_sql(FUNCTIONS)
        if missing:
            log.warning("PostgreSQL roles missing, grants not installed: %s", ", ".join(missing))
            return missing
        for stmt in grants_sql():
            conn.exec_driver_sql(stmt)
    return []
