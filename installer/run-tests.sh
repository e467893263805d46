#!/usr/bin/env bash
# Set up everything (system libraries, PostgreSQL, the virtual environment) and run the tests.
# The same script is what CI runs. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
RC_WITH_POSTGRES=1 bash installer/bootstrap.sh

# A PostgreSQL server on loopback for the multi-console tests (the same tests run on SQLite).
if [ -z "${RC_TEST_PG_URL:-}" ] && command -v pg_lsclusters >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
  read -r ver name _ < <(pg_lsclusters --no-header | head -n1) || true
  if [ -n "${ver:-}" ]; then
    pg_ctlcluster "$ver" "$name" start 2>/dev/null || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
    su postgres -c "psql -q -v ON_ERROR_STOP=1" >/dev/null <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rc_test') THEN
    CREATE ROLE rc_test LOGIN CREATEDB CREATEROLE PASSWORD 'rc_test';
  ELSE
    ALTER ROLE rc_test CREATEDB CREATEROLE;
  END IF;
END $$;
SQL
    export RC_TEST_PG_URL="postgresql://rc_test:rc_test@127.0.0.1:5432/postgres"
  fi
fi

export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest "$@"
