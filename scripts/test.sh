#!/usr/bin/env bash
# Install claude-usage with its test dependencies into .venv, make sure Debian's Chromium is
# there for the browser tests, and run the whole test suite. The tests read ../shared
# (fixtures and bug cases) in place. Extra arguments go to pytest.
set -euo pipefail
EXTRAS="[dev]"
source "$(dirname "$0")/bootstrap.sh"
if [ ! -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "Installing Debian's chromium for the browser tests ..." >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "The browser tests need /usr/bin/chromium (Debian package chromium); install it as root." >&2
    exit 1
  fi
fi
exec .venv/bin/python -m pytest "$@"
