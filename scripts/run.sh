#!/usr/bin/env bash
# The body of `make run`. It runs inside `scripts/devenv.py exec --`, so DATABASE_URL, REDIS_URL and
# DJANGO_SECRET_KEY are already in the environment and the venv's tools are on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

# honcho gives every process a PORT (5000 unless PORT is set), so fix the web port here.
export HOST="${HOST:-127.0.0.1}"
export PORT="${PORT:-8000}"

python manage.py migrate --noinput
python manage.py seed_demo

shown_host="$HOST"
if [ "$shown_host" = "0.0.0.0" ]; then shown_host=127.0.0.1; fi
cat <<URLS

  Back office   http://${shown_host}:${PORT}/admin/
  API docs      http://${shown_host}:${PORT}/api/docs/
  Readiness     http://${shown_host}:${PORT}/api/v1/health/ready
  Websocket     ws://${shown_host}:${PORT}/ws/v1/ping/

  web (uvicorn), worker and beat (Celery) start below. Ctrl-C stops them and the embedded servers.

URLS

exec honcho start -f Procfile
