#!/usr/bin/env bash
# Set up everything and open the console on the simulated dispatch feed and an embedded database.
# With no display it starts a virtual one (Xvfb), so it also runs on a headless server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash installer/bootstrap.sh
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
  exec xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/responder-console --demo "$@"
fi
exec .venv/bin/responder-console --demo "$@"
