#!/usr/bin/env bash
# Prepare a fresh Debian 12 machine (or a developer's) to run Responder Console from source:
# the system libraries Qt and QtWebEngine need, then a virtual environment with the project.
# Idempotent: a second run installs nothing it already has.
set -euo pipefail
cd "$(dirname "$0")/.."

QT_LIBS=(libegl1 libgl1 libfontconfig1 libfreetype6 libglib2.0-0 libxkbcommon0 libdbus-1-3
  libbrotli1 fonts-dejavu-core libnss3 libxcomposite1 libxdamage1 libxrandr2 libxtst6 libasound2
  libgbm1 libxkbfile1 xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0
  libxcb-render-util0 libxkbcommon-x11-0 libx11-xcb1 libxcb-shape0 libxcb-randr0 libxcb-xkb1
  libxcb-xfixes0 libxcb-sync1 libxcb-shm0 libxcb-util1 libxcb-glx0)

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then SUDO=sudo; else
      echo "bootstrap: missing system packages (run as root to install): ${missing[*]}" >&2
      return 1
    fi
  else SUDO=""; fi
  echo "bootstrap: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if command -v apt-get >/dev/null 2>&1; then
  apt_install "${QT_LIBS[@]}"
  if [ "${RC_WITH_POSTGRES:-0}" = 1 ]; then apt_install postgresql; fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[test,postgres,dev]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
