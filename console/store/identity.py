"""Who is at the console and what they may do, established by the system rather than claimed.

- On SQLite (one seat) the operator is the operating-system account running the program, and
  the role comes from the operators file the site's administrator owns::

      [operators]
      alice = "supervisor"
      bob = "trainer"

  An account not in the file (or no file) is a viewer. The demo makes the account supervisor
  of its own demo database.
- On PostgreSQL the operator is the login (``current_user``) and the role is the group role it
  is a member of: ``rc_supervisor``, ``rc_trainer`` or ``rc_viewer`` (none: viewer).

``--operator`` and ``--role`` may only narrow what is granted (a supervisor may open as a
viewer); a claim beyond it is refused, with a one-line reason, and the granted identity kept.
"""

from __future__ import annotations

import getpass
import logging
import os
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text

log = logging.getLogger("console.identity")

ROLES = ("viewer", "trainer", "supervisor")
"""Narrowest first: a role may open the console as any role before it."""

GROUP_ROLES = {"supervisor": "rc_supervisor", "trainer": "rc_trainer", "viewer": "rc_viewer"}
"""The PostgreSQL group role of each console role."""

DEFAULT_OPERATORS_FILE = Path("/etc/responder-console/operators.toml")


class IdentityError(ValueError):
    """The operators file cannot be used (unreadable, malformed, writable by others)."""


@dataclass(frozen=True, slots=True)
class Identity:
    operator: str
    role: str
    basis: str
    """How the identity was established, in words (for the log and the About box)."""
    refused: tuple[str, ...] = ()
    """Claims (``--operator``, ``--role``) that were refused, one line each."""


def _euid() -> int | None:
    return os.geteuid() if hasattr(os, "geteuid") else None


def os_user() -> str:
    """The account running the program, from the password database (not from $USER, which
    the user sets)."""
    uid = _euid()
    if uid is not None:
        try:
            import pwd

            return pwd.getpwuid(uid).pw_name
        except (ImportError, KeyError):
            pass
    try:
        return getpass.getuser()
    except Exception:
        return "operator"


def _untrusted(path: Path) -> str | None:
    """Why the operators file cannot be trusted, or None: it must be owned by root or by an
    account other than the one running the console, and writable by its owner only."""
    st = path.stat()
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"{path} is writable by others than its owner"
    uid = _euid()
    if uid is not None and uid != 0 and st.st_uid == uid:
        return f"{path} is owned by the account running the console, not by the administrator"
    return None


def read_operators(path: Path) -> dict[str, str]:
    """The operators file's ``[operators]`` table: account name -> role."""
    problem = _untrusted(path)
    if problem is not None:
        raise IdentityError(f"operators file not used: {problem}")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise IdentityError(f"operators file {path} cannot be read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise IdentityError(f"operators file {path} is not valid TOML: {exc}") from exc
    table = doc.get("operators", {})
    if not isinstance(table, dict):
        raise IdentityError(f"operators file {path}: [operators] must be a table")
    out: dict[str, str] = {}
    for name, role in table.items():
        if role not in ROLES:
            raise IdentityError(
                f'operators file {path}: {name} = {role!r} is not "supervisor", "trainer" or '
                '"viewer"'
            )
        out[str(name)] = str(role)
    return out


def narrow(granted: Identity, claimed_operator: str | None, claimed_role: str | None) -> Identity:
    """Apply ``--operator`` / ``--role``: accepted when they narrow, refused when they widen."""
    refused: list[str] = list(granted.refused)
    operator, role = granted.operator, granted.role
    if claimed_operator and claimed_operator != granted.operator:
        refused.append(
            f"--operator {claimed_operator} refused: the operator here is {granted.operator} "
            f"({granted.basis})"
        )
    if claimed_role and claimed_role != granted.role:
        if claimed_role in ROLES and ROLES.index(claimed_role) < ROLES.index(granted.role):
            role = claimed_role
        else:
            refused.append(
                f"--role {claimed_role} refused: {granted.operator} is {granted.role} here "
                f"({granted.basis}); a role may only be narrowed"
            )
    return Identity(operator, role, granted.basis, tuple(refused))


def on_sqlite(
    operators_file: Path | None,
    *,
    demo: bool = False,
    claimed_operator: str | None = None,
    claimed_role: str | None = None,
) -> Identity:
    """The identity of a one-seat console (SQLite)."""
    user = os_user()
    problems: tuple[str, ...] = ()
    if demo:
        granted = Identity(user, "supervisor", "the demo database's own supervisor")
    else:
        path = operators_file or DEFAULT_OPERATORS_FILE
        role, basis = "viewer", f"not listed in {path}"
        if not path.exists():
            basis = f"no operators file at {path}"
        else:
            try:
                listed = read_operators(path)
            except (IdentityError, OSError) as exc:
                problems = (str(exc),)
                basis = "the operators file could not be used"
            else:
                if user in listed:
                    role, basis = listed[user], f"operators file {path}"
        granted = Identity(user, role, basis, problems)
    return narrow(granted, claimed_operator, claimed_role)


def on_postgres(
    engine: Engine, *, claimed_operator: str | None = None, claimed_role: str | None = None
) -> Identity:
    """The identity of a console on PostgreSQL: the login and its group roles."""
    with engine.connect() as conn:
        user = conn.execute(text("SELECT current_user")).scalar_one()
        held = set(
            conn.execute(
                text(
                    "SELECT rolname FROM pg_roles WHERE rolname IN"
                    " ('rc_supervisor', 'rc_trainer', 'rc_viewer')"
                    " AND pg_has_role(current_user, oid, 'member')"
                )
            ).scalars()
        )
    role = next((r for r in reversed(ROLES) if GROUP_ROLES[r] in held), "viewer")
    basis = (
        f"member of {GROUP_ROLES[role]}"
        if GROUP_ROLES[role] in held
        else "the login is in no rc_ group role"
    )
    return narrow(Identity(str(user), role, basis), claimed_operator, claimed_role)


def establish(
    engine: Engine,
    operators_file: Path | None,
    *,
    demo: bool = False,
    claimed_operator: str | None = None,
    claimed_role: str | None = None,
) -> Identity:
    """The identity for a console on ``engine``; each refusal is logged."""
    if engine.dialect.name == "postgresql":
        ident = on_postgres(engine, claimed_operator=claimed_operator, claimed_role=claimed_role)
    else:
        ident = on_sqlite(
            operators_file, demo=demo, claimed_operator=claimed_operator, claimed_role=claimed_role
        )
    for line in ident.refused:
        log.warning("%s", line)
    return ident
