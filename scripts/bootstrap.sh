# Sourced by run.sh and test.sh: a virtual environment in .venv with the package installed.
# Needs only bash and Python >= 3.11; installs Debian's python3-venv when venv is missing (root).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "claude-usage needs Python 3.11 or newer ($PY is $("$PY" --version 2>&1 || echo missing))" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -m venv .venv >/dev/null 2>&1; then
    rm -rf .venv
    if command -v apt-get >/dev/null 2>&1; then
      echo "Installing Debian's python3-venv ..." >&2
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    fi
    "$PY" -m venv .venv
  fi
fi
# Reinstall only when pyproject.toml changed (the install is editable: code changes need none).
stamp=".venv/.installed${EXTRAS:-}"
wanted="$(cksum < pyproject.toml)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  # The distribution was called claude-usage-dashboard before (that name is another project's
  # on PyPI); an older .venv drops it, so that one install provides the command.
  .venv/bin/python -m pip uninstall -q -y claude-usage-dashboard >/dev/null 2>&1 || true
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${EXTRAS:-}"
  echo "$wanted" > "$stamp"
fi
