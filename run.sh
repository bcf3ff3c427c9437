#!/usr/bin/env bash
# Set up PixCrawler (scripts/setup.sh) and open the desktop app. Its first choice at sign-in,
# "This computer", runs the server here in the background (an API on 127.0.0.1 and a Celery
# worker, under the user data folder) and stops it when the app quits. Without a display, the
# app cannot open: say so and show the command-line tool instead, rather than let Qt abort.
# Setting up installs only when pyproject.toml changed (scripts/setup.sh), so a launch costs
# no pip run. On Linux the app itself checks the libraries of Qt's xcb plugin before it loads
# Qt, and a missing one ends it with the install command and exit 69 (the frozen app too).
# VENV=<folder> runs from another environment.
set -euo pipefail
cd "$(dirname "$0")"
venv="${VENV:-.venv}"
VENV="$venv" scripts/setup.sh parquet  # every export format, Parquet included
case "$(uname -s)" in
  Darwin|MINGW*|MSYS*|CYGWIN*) headless=false ;;  # these always have a window system
  *) [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ] \
       && headless=true || headless=false ;;
esac
if [ "$headless" = true ]; then
  cat <<'MSG'
run.sh: no display here (neither DISPLAY nor WAYLAND_DISPLAY is set), so the desktop app
cannot open. The command-line tool does the same work on this computer, for example:

  .venv/bin/pixcrawler crawl "red fox" --engines bing,duckduckgo --max-images 20 --out foxes

(`.venv/bin/pixcrawler --help` lists the other commands.)
MSG
  exit 0
fi
exec "$venv/bin/python" -m pixcrawler_desktop "$@"
