#!/usr/bin/env bash
# The body of `make check`. Runs inside `scripts/devenv.py exec --` (settings need the database and Redis
# URLs; makemigrations --check reads the migration history). Stops at the first failing step.
set -uo pipefail
cd "$(dirname "$0")/.."

step() {
  local name=$1
  shift
  printf '\n==> %s\n' "$name"
  local started=$SECONDS
  if ! "$@"; then
    printf '\ncheck FAILED at step: %s (%s)\n' "$name" "$*" >&2
    exit 1
  fi
  printf '    ok (%ss)\n' "$((SECONDS - started))"
}

step "ruff lint" ruff check .
step "ruff format" ruff format --check .
step "mypy" mypy .
step "import layers" lint-imports
step "migrations up to date" python manage.py makemigrations --check --dry-run
step "OpenAPI schema" python manage.py spectacular --validate --fail-on-warn --file /dev/null

printf '\nall checks passed\n'
