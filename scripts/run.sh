#!/usr/bin/env bash
# The body of `make run`. It runs inside `scripts/devenv.py exec --`, so DATABASE_URL, REDIS_URL and
# DJANGO_SECRET_KEY are already in the environment and the venv's tools are on PATH.
#
# The console stays readable (issue 17): periodic task runs are not logged at INFO, a request is
# one line (uvicorn's access log is off; django-structlog's request_finished says it all), the
# URLs and demo logins are printed once the web process answers and the worker replies to a ping
# (again on demand: `python manage.py demo_logins`), and Ctrl-C is a normal way to stop (exit 0).
set -euo pipefail
cd "$(dirname "$0")/.."

# honcho gives every process a PORT (5000 unless PORT is set), so fix the web port here.
export HOST="${HOST:-127.0.0.1}"
export PORT="${PORT:-8000}"

python manage.py migrate --noinput
python manage.py seed_demo --no-logins

shown_host="$HOST"
if [ "$shown_host" = "0.0.0.0" ]; then shown_host=127.0.0.1; fi

announce() {
  # Wait (up to 3 minutes) for the web process to be ready and a worker to answer a ping.
  python - "http://${shown_host}:${PORT}/api/v1/health/ready" <<'PY' || return 0
import sys, time, urllib.request
deadline = time.monotonic() + 180
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=2) as answer:
            if answer.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(1)
sys.exit(1)
PY
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    if celery -A cotton_erp inspect ping --timeout 2 >/dev/null 2>&1; then break; fi
  done
  cat <<URLS

  Back office   http://${shown_host}:${PORT}/admin/
  API docs      http://${shown_host}:${PORT}/api/docs/
  Readiness     http://${shown_host}:${PORT}/api/v1/health/ready
  Websocket     ws://${shown_host}:${PORT}/ws/v1/ping/

URLS
  python manage.py demo_logins | sed 's/^/  /'
  printf '\n  web (uvicorn), worker and beat (Celery) are up. Ctrl-C stops them and the embedded servers.\n\n'
}

stopping=0
trap 'stopping=1' INT TERM HUP
announce &
announcer=$!

code=0
honcho start -f Procfile || code=$?
kill "$announcer" 2>/dev/null || true
wait "$announcer" 2>/dev/null || true
# Stopped with Ctrl-C (or a TERM from devenv): a normal end, not an error for make.
if [ "$stopping" = 1 ]; then exit 0; fi
exit "$code"
