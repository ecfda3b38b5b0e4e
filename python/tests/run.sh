#!/usr/bin/env bash
# Tests of the Python package (python/): creates <repo>/.venv-python with the packages of
# python/tests/requirements.txt (once; again when that file changes), builds the wheel that
# pip users get (`maturin build --release`, default features: no PROJ linked), checks it
# (cp39-abi3 tag; `auditwheel show` finds it manylinux: no system library beyond the
# allow-list), installs it into the venv, checks that `pip install ./python` (maturin as the
# PEP 517 backend) works in a fresh venv, and runs pytest on python/tests.
# The comparisons with rpnpy/librmn 19.5 run in bench/oracle-env.sh's venv (created if
# missing); FSTGIS_NO_ORACLE=1 skips them.
#   FSTGIS_PYTHON=/path/to/python3   interpreter for the venvs (default /usr/bin/python3)
#   FSTGIS_FEATURES=proj              build with PROJ linked instead (grids' proj feature: not
#                                     a manylinux wheel, so the auditwheel and fresh-venv
#                                     checks are skipped)
#   FSTGIS_NO_FRESH_VENV=1            skip the fresh-venv `pip install ./python` check
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

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
mkdir -p "$CARGO_TARGET_DIR"
features="${FSTGIS_FEATURES:-}"
wheels="$CARGO_TARGET_DIR/fstgis-wheels${features:+-$features}"
log="$CARGO_TARGET_DIR/maturin-build.log"
build=(build --release -m "$root/python/Cargo.toml" --out "$wheels" -i "$venv/bin/python")
if [ -n "$features" ]; then
  # A wheel linking libproj is no manylinux wheel: tag it plain linux.
  build+=(--features "$features" --compatibility linux)
fi
echo "== python: build the wheel (maturin ${build[*]})"
rm -rf "$wheels"
if ! "$venv/bin/maturin" "${build[@]}" > "$log" 2>&1; then
  cat "$log" >&2
  echo "maturin build failed" >&2
  exit 1
fi
wheel="$(ls "$wheels"/fstgis-*.whl)"
echo "wheel: $(basename "$wheel")"
case "$(basename "$wheel")" in
  *-cp39-abi3-*) ;;
  *) echo "the wheel is not tagged cp39-abi3" >&2; exit 1 ;;
esac
if [ -z "$features" ]; then
  case "$(basename "$wheel")" in
    *manylinux*) ;;
    *) echo "maturin did not tag the wheel manylinux" >&2; exit 1 ;;
  esac
  # auditwheel's own verdict: the platform tag the wheel's external references allow. A
  # library outside the manylinux allow-list (libproj, say) makes it "linux_<arch>".
  # (Its report is wrapped to the terminal's width: joined into one line before matching.)
  audit="$("$venv/bin/auditwheel" show "$wheel" 2>&1 | tr -s ' \n' '  ')" \
    || { echo "$audit" >&2; exit 1; }
  if ! grep -q 'consistent with the following platform tag: "manylinux' <<<"$audit" \
      || grep -q 'requires additional external shared libraries\|is not compliant' <<<"$audit"; then
    echo "$audit" >&2
    echo "auditwheel: the wheel is not manylinux-compatible" >&2
    exit 1
  fi
  grep -o 'consistent with the following platform tag: "[^"]*"' <<<"$audit" | sed 's/^/auditwheel: /' 
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps "$wheel"
# Imported from outside the source tree: python/fstgis would shadow the installed package.
(cd / && "$venv/bin/python" -c "import fstgis; print('fstgis', fstgis.__version__, 'from', fstgis.__file__)")
if [ "${1:-}" = --install-only ]; then
  exit 0
fi

if [ -z "$features" ] && [ "${FSTGIS_NO_FRESH_VENV:-0}" != 1 ]; then
  # What a user does on a fresh machine: pip builds python/ through maturin's PEP 517 backend
  # (maturin itself comes from PyPI into pip's isolated build environment). The same target
  # directory and profile as the wheel above, so cargo finds everything built.
  echo "== python: pip install ./python in a fresh venv"
  fresh="$CARGO_TARGET_DIR/fresh-venv"
  rm -rf "$fresh"
  "$base_py" -m venv "$fresh"
  flog="$CARGO_TARGET_DIR/fresh-venv.log"
  if ! "$fresh/bin/pip" install --disable-pip-version-check "$root/python" > "$flog" 2>&1; then
    cat "$flog" >&2
    echo "pip install ./python failed in a fresh venv" >&2
    exit 1
  fi
  (cd / && "$fresh/bin/python" - "$root/crates/fst-core/tests/fixtures/rsf/rsf_basic.fst" <<'PY'
import sys
import fstgis
with fstgis.open(sys.argv[1]) as f:
    tt = f.find(nomvar="TT")
    assert len(f) == 7 and f.container == "RSF" and tt.data.shape == (tt.ni, tt.nj), (len(f), tt)
    print("fresh venv: fstgis", fstgis.__version__, "opened", len(f), "records; TT", tt.data.shape)
PY
  )
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
