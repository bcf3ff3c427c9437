#!/usr/bin/env bash
# Set up and run PixCrawler in embedded mode on this computer: the API on 127.0.0.1 over SQLite,
# and a Celery worker on a filesystem broker, both under the user data folder. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
port="${PIXCRAWLER_PORT:-8000}"
.venv/bin/python -m pixcrawler_desktop api --port "$port" &
api=$!
.venv/bin/python -m pixcrawler_desktop worker --loglevel WARNING &
worker=$!
trap 'kill $api $worker 2>/dev/null; wait 2>/dev/null' EXIT INT TERM
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/api/v1/health" >/dev/null 2>&1 && break
  kill -0 $api 2>/dev/null || { echo "run.sh: the API did not start" >&2; exit 1; }
  sleep 0.2
done
cat <<MSG

PixCrawler is running on this computer.
  API:   http://127.0.0.1:$port/api/v1   (interactive docs: http://127.0.0.1:$port/docs)
  Data:  $(.venv/bin/python -c 'from worker.settings import get_settings; print(get_settings().data_dir)')

Try it:
  curl -s -X POST http://127.0.0.1:$port/api/v1/auth/register -H 'Content-Type: application/json' \\
       -d '{"email": "me@example.com", "password": "a good password"}'
  then log in at /api/v1/auth/login, create a job with POST /api/v1/jobs and start it.
Press Ctrl-C to stop.
MSG
wait $api
