#!/usr/bin/env bash
# Create (idempotently) the Python virtualenv holding the reference librmn (19.5, through the
# rpnpy bundle `fstd2nc-deps`) used by the decode benchmarks: <repo>/.venv-oracle.
#
#   bench/oracle-env.sh            # creates it if missing, prints its python path
#   source <(bench/oracle-env.sh --print-env)   # exports ORACLE_PY
#
# numpy must be < 2 (rpnpy's getIgTags breaks under numpy 2).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.venv-oracle"
py="$venv/bin/python"
stamp="$venv/.fstgis-oracle-ok"

if [[ ! -f "$stamp" ]]; then
    if [[ ! -x "$py" ]]; then
        python3 -m venv "$venv" >&2
    fi
    "$py" -m pip install --quiet --disable-pip-version-check "fstd2nc-deps==0.20200304.6" "numpy<2" >&2
    # Smoke test: librmn loads and numpy is 1.x.
    "$py" - >&2 <<'PY'
import warnings; warnings.simplefilter('ignore')
import numpy as np
assert int(np.__version__.split('.')[0]) < 2, np.__version__
import fstd2nc_deps  # noqa: F401
from rpnpy.librmn import all as rmn
print('oracle ok:', rmn.RMN_LIBPATH)
PY
    touch "$stamp"
fi

if [[ "${1:-}" == "--print-env" ]]; then
    echo "export ORACLE_PY='$py'"
else
    echo "$py"
fi
