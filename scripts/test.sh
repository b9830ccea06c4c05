#!/usr/bin/env bash
# Install what the tests need (Python packages in .venv, Chromium from apt when missing) and run
# the whole suite. Extra arguments go to pytest. KUULO_TEST_DATABASE_URL=postgresql+psycopg://…
# runs the same suite on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip >/dev/null
.venv/bin/python -m pip install --quiet -e '.[test]'

if [ ! -x /usr/bin/chromium ]; then
  echo "installing Chromium for the browser tests (apt-get)…"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null
fi

exec .venv/bin/python -m pytest -n "${KUULO_TEST_WORKERS:-2}" -q "$@"
