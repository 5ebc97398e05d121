#!/usr/bin/env bash
# Install claude-usage with its test dependencies into .venv and run the whole test suite.
# The tests read ../shared (fixtures and bug cases) in place. Extra arguments go to pytest.
set -euo pipefail
EXTRAS="[dev]"
source "$(dirname "$0")/bootstrap.sh"
exec .venv/bin/python -m pytest "$@"
