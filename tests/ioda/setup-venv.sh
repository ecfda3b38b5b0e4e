#!/usr/bin/env bash
# Create <repo>/.venv-ioda-tests with pyodc, h5py, netCDF4, numpy and pytest (PyPI), once;
# again only when requirements.txt changes. Prints the venv's path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/../../.venv-ioda-tests"
if [ ! -x "$venv/bin/pytest" ] || ! cmp -s "$here/requirements.txt" "$venv/requirements.txt"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip >&2
  "$venv/bin/pip" install -q -r "$here/requirements.txt" >&2
  cp "$here/requirements.txt" "$venv/requirements.txt"
fi
echo "$(cd "$venv" && pwd)"
