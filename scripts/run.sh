#!/usr/bin/env bash
# Install claude-usage into .venv and serve your Claude Code data (or the demo data when there is
# none) on http://127.0.0.1:8080. Extra arguments go to `claude-usage serve`.
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
exec .venv/bin/claude-usage serve "$@"
