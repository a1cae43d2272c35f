# Shared by scripts/run and scripts/test: create .venv and (re)install when pyproject changes.
# Usage: . scripts/_venv.sh EXTRAS   (e.g. "cpu" or "cpu,dev")
set -eu
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
extras=$1
venv="${STASH_SENSE_VENV:-$root/.venv}"
python=${PYTHON:-python3}
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
fi
stamp="$venv/.installed-$(echo "$extras" | tr ',' '-')"
if [ ! -f "$stamp" ] || [ "$root/pyproject.toml" -nt "$stamp" ]; then
  "$venv/bin/python" -m pip install --quiet -e "$root[$extras]"
  touch "$stamp"
fi
