#!/usr/bin/env bash
# The writer against the reference library: files fst-core writes (new files, appends,
# rewrites, copies of every fixture record in both containers, extended and file metadata,
# a file librmn 19.5 appends to and we append to after it,
# and the files left by writers SIGKILLed at random moments) are read back in fresh processes
# by librmn 19.5 (PyPI fstd2nc-deps, bench/oracle-env.sh; XDF) and by the newest librmn's
# rmn-read (XDF and RSF): every record listed, keys equal, values equal to our reader's bit
# for bit (crates/fst-core/tests/write_oracle.rs); vertical grid descriptors ("!!") both ways
# with vgrid 6.4.2 (crates/fst-core/tests/vertical_oracle.rs, bench/vgrid_oracle.py); Z, Y and U
# positional records through librmn's gdll (crates/grids/tests/written_positional.rs).
#
#   scripts/oracle-write.sh
#
# FSTGIS_RMN_READ: the rmn-read binary to try first (scripts/rmn-read.sh finds one that runs
# on this CPU, rebuilding it if need be); without one only librmn 19.5 checks XDF.
# FSTGIS_KILL_ROUNDS: kills per container in the crash test (default 12).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
py="$(bench/oracle-env.sh)"
if rmn_read="$(scripts/rmn-read.sh)"; then
  export FSTGIS_RMN_READ="$rmn_read"
  echo "== rmn-read: $rmn_read"
else
  echo "(no rmn-read runs here, see above: RSF files are checked by our reader only)"
  unset FSTGIS_RMN_READ
fi
out="${CARGO_TARGET_DIR:-$repo/target}/oracle-write"
rm -rf "$out"
mkdir -p "$out/crash"
echo "== writers killed at random moments; the files they leave are kept for librmn"
# --workspace, not -p: the features `cargo test --workspace` built with, so nothing is
# compiled twice (scripts/build-tools.sh says why).
FSTGIS_KEEP_CRASH_FILES="$out/crash" cargo test -q --workspace --test write_crash -- --nocapture \
  writers_killed_at_random_moments 2>&1 | grep -E 'survived|test result' || true
echo "== librmn reads what fst-core wrote"
FSTGIS_ORACLE_PY="$py" FSTGIS_ORACLE_CRASH_DIR="$out/crash" \
  cargo test -q --workspace --test write_oracle -- --nocapture --test-threads=1 2>&1 \
  | grep -E 'records equal|skipped|panicked|test result|FAILED' 
echo "== librmn reads what \`fst cp\` and \`fst rm\` wrote"
FSTGIS_ORACLE_PY="$py" cargo test -q --workspace --test cp_rm -- --nocapture --test-threads=1 2>&1 \
  | grep -E 'records equal|panicked|test result|FAILED'
echo "== vgrid (libvgrid 6.4.2) reads the '!!' records fst-core wrote, and we read vgrid's"
FSTGIS_ORACLE_PY="$py" cargo test -q --workspace --test vertical_oracle -- --nocapture --test-threads=1 2>&1 \
  | grep -E 'values equal|skipped|panicked|test result|FAILED'
echo "== librmn (ezqkdef + gdll) reads the '>>'/'^^'/'^>' records fst-core wrote"
FSTGIS_ORACLE_PY="$py" cargo test -q --workspace --test written_positional -- --nocapture --test-threads=1 2>&1 \
  | grep -E 'equal to librmn|skipped|panicked|test result|FAILED'
