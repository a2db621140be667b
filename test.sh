#!/usr/bin/env bash
# Run the test suite in the project's virtual environment (made by ./install.sh), adding the test
# tools to it first when they are missing. Arguments go to pytest: ./test.sh -x tests/test_cli.py
set -euo pipefail
cd "$(dirname "$0")"
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  hint="./install.sh"; [ "$VENV" = .venv ] || hint="VENV=$VENV ./install.sh --dev"
  echo "test.sh: no virtual environment at $VENV: run $hint first." >&2
  exit 2
fi
if ! "$VENV/bin/python" -c 'import pytest, hypothesis, playwright' 2>/dev/null; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[test]"
fi
exec "$VENV/bin/python" -m pytest "$@"
