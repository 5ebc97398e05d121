#!/usr/bin/env bash
# Install claude-usage with its test dependencies (and the team extra) into .venv, make sure
# Debian's Chromium (browser tests) and PostgreSQL (team-mode tests: the run starts its own
# server in a temp dir as the postgres user) are there, and run the whole test suite. The tests
# read ../shared (fixtures and bug cases) in place. Extra arguments go to pytest.
set -euo pipefail
EXTRAS="[dev,team]"
source "$(dirname "$0")/bootstrap.sh"
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null || command -v pg_ctl >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "Installing Debian's ${missing[*]} for the browser and team-mode tests ..." >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "The tests need Debian's ${missing[*]} (apt-get install ${missing[*]}); install it as root." >&2
    exit 1
  fi
fi
# Two workers, each test file on one of them (its module fixtures, servers and browsers, start
# once); `-n 0` among the arguments runs everything in this process.
exec .venv/bin/python -m pytest -n 2 --dist loadfile "$@"
