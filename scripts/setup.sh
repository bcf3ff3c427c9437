#!/usr/bin/env bash
# Create .venv (Python >= 3.11) and install PixCrawler with the given extras, e.g. `test`.
# VENV=<folder> sets up another environment (scripts/build.sh uses .venv-build).
#
# Installs only when something changed: a stamp per extras in the environment
# (<venv>/.pixcrawler-setup-<extras>) holds pyproject.toml's checksum and the environment's Python;
# when both still match, nothing runs (run.sh calls this on every launch; pip alone takes
# seconds even with nothing to do). The install is editable, so source changes never need it.
# Delete the stamp (or the environment) to force a reinstall. Quiet: pip's and setuptools'
# notes are kept out of the terminal unless the install fails.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
venv="${VENV:-.venv}"
if [ ! -x "$venv/bin/python" ]; then
  py=""
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      py="$candidate"; break
    fi
  done
  [ -n "$py" ] || { echo "setup: Python 3.11 or newer is required" >&2; exit 1; }
  "$py" -m venv "$venv"
fi

stamp_file="$venv/.pixcrawler-setup-${extras:-none}"
# The environment's Python: the interpreter it runs and its pyvenv.cfg (version, home), read
# without starting Python, which alone costs a loaded machine half a second. cksum is POSIX
# (macOS has no sha256sum) and tells any edit apart, which is all a stamp needs.
python_id="$(readlink -f "$venv/bin/python") $(cksum < "$venv/pyvenv.cfg")"
stamp="$(cksum < pyproject.toml) $python_id"
[ "$(cat "$stamp_file" 2>/dev/null)" = "$stamp" ] && exit 0

echo "setup: installing PixCrawler into $venv (the first time, and when pyproject.toml changes) …" >&2
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
pip=("$venv/bin/python" -m pip install -q --disable-pip-version-check --no-warn-script-location)
spec="."
[ -n "$extras" ] && spec=".[$extras]"
# setuptools' build warnings (editable-install notes, deprecations) go to the log, which is shown
# only if the install fails.
if ! { PYTHONWARNINGS=ignore "${pip[@]}" --upgrade pip &&
       PYTHONWARNINGS=ignore "${pip[@]}" -e "$spec"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "setup: installing PixCrawler into $venv failed (output above)" >&2
  exit 1
fi
echo "$stamp" > "$stamp_file"
