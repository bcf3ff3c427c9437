#!/usr/bin/env bash
# Set up the virtual environment and run the whole test suite (extra arguments go to pytest).
# PostgreSQL (127.0.0.1:5432, trust, db `test`) and Redis (127.0.0.1:6379) must be running;
# without them their tests skip locally and fail under CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test,build
exec .venv/bin/python -m pytest "$@"
