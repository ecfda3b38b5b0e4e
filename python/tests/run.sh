#!/usr/bin/env bash
# Tests of the Python package (python/): creates <repo>/.venv-python with the packages of
# python/tests/requirements.txt (once; again when that file changes), builds and installs
# fstgis into it (`maturin develop --features proj`: the build that links PROJ; the wheel's
# default build links none, see python/README.md), and runs pytest on python/tests.
# The comparisons with rpnpy/librmn 19.5 run in bench/oracle-env.sh's venv (created if
# missing); FSTGIS_NO_ORACLE=1 skips them.
#   FSTGIS_PYTHON=/path/to/python3   interpreter for the venv (default /usr/bin/python3)
#   --install-only                    build and install, run no test (scripts/setup.sh)
#   extra arguments go to pytest (e.g. -k search)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/.venv-python"
base_py="${FSTGIS_PYTHON:-/usr/bin/python3}"
[ -x "$base_py" ] || base_py="$(command -v python3)"

if [ ! -x "$venv/bin/python" ]; then
  "$base_py" -m venv "$venv"
fi
stamp="$venv/.fstgis-requirements"
if ! cmp -s "$here/requirements.txt" "$stamp"; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$stamp"
fi

echo "== python: build and install fstgis (maturin develop)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
mkdir -p "$CARGO_TARGET_DIR"
log="$CARGO_TARGET_DIR/maturin-develop.log"
if ! VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" \
  "$venv/bin/maturin" develop --features proj -m "$root/python/Cargo.toml" > "$log" 2>&1; then
  cat "$log" >&2
  echo "maturin develop failed" >&2
  exit 1
fi
"$venv/bin/python" -c "import fstgis; print('fstgis', fstgis.__version__, 'from', fstgis.__file__)"
if [ "${1:-}" = --install-only ]; then
  exit 0
fi

if [ "${FSTGIS_NO_ORACLE:-0}" != 1 ]; then
  ORACLE_PY="$("$root/bench/oracle-env.sh")"
  export ORACLE_PY
  if ! "$ORACLE_PY" -c 'import fstd2nc, yaml, xarray, dask' 2>/dev/null; then
    # fstd2nc (over the oracle's rpnpy) for test_fstd2nc.py; it imports yaml undeclared.
    "$ORACLE_PY" -m pip install --quiet --disable-pip-version-check fstd2nc pyyaml xarray dask "numpy<2"
  fi
fi
echo "== python: pytest python/tests"
cd "$here"
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$@" .
