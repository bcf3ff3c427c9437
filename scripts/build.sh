#!/usr/bin/env bash
# Build the installer-ready folder dist/PixCrawler (PyInstaller, one-dir, from build.spec) and
# print its size. Extra arguments go to PyInstaller, e.g. `--distpath DIR --workpath DIR` to
# build outside the checkout. BUILD_SKIP_SETUP=1 uses .venv as it is (the tests do, so a build
# never reinstalls the package under other running tests).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${BUILD_SKIP_SETUP:-0}" != "1" ]; then
  scripts/setup.sh build
fi
.venv/bin/python -c 'import PyInstaller' 2>/dev/null || {
  echo "build: PyInstaller is missing from .venv (install the 'build' extra)" >&2; exit 1; }

distpath="dist"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --distpath) distpath="${args[$((i + 1))]:-dist}" ;;
    --distpath=*) distpath="${args[$i]#--distpath=}" ;;
  esac
done

.venv/bin/python -m PyInstaller build.spec --noconfirm --log-level WARN "$@"
app="$distpath/PixCrawler"
[ -x "$app/PixCrawler" ] || { echo "build: $app/PixCrawler was not produced" >&2; exit 1; }
size=$(du -sm "$app" | cut -f1)
echo "Built $app ($size MB): run $app/PixCrawler [gui|cli|api|worker] ..."
