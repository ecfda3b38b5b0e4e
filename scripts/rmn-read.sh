#!/usr/bin/env bash
# Prints the path of an `rmn-read` (the newest librmn's reader: the RSF and XDF oracle, see
# ../shared/oracle/librmn-dev/README.md) that runs on this machine, or nothing (exit 1) if
# there is none.
#
# The prebuilt binary was compiled with librmn's default compiler preset, `-march=native`,
# on a CPU with AVX-512 FP16: on other x86-64 CPUs it dies with SIGILL on its first read.
# Then it is rebuilt once from the same sources (../shared/oracle/librmn-dev/build.sh, with
# librmn's TARGET_PROC set to x86-64-v2) into $CARGO_TARGET_DIR/oracle/ and reused from
# there. The build takes a few minutes and needs the packages scripts/apt-packages.txt lists
# for it; its log stays in $CARGO_TARGET_DIR/oracle/build/.
#   FSTGIS_RMN_READ=/path/to/rmn-read   try this binary first
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
oracle_dir="$(cd "$root/.." && pwd)/shared/oracle/librmn-dev"
target="${CARGO_TARGET_DIR:-$root/target}/oracle"
sample="$root/crates/fst-core/tests/fixtures/rsf/rsf_basic.fst"

# Whether $1 reads the sample (exit 0 and a manifest that says so).
runs_here() {
  local exe="$1" out
  [ -x "$exe" ] || return 1
  out="$(mktemp -d)"
  # In a subshell, so that a SIGILL's "Illegal instruction" notice goes to /dev/null too.
  if ("$exe" "$sample" "$out/dump"; exit $?) >/dev/null 2>&1 && grep -q '"ok": true' "$out/dump/manifest.json"; then
    rm -rf "$out"
    return 0
  fi
  rm -rf "$out"
  return 1
}

for exe in "${FSTGIS_RMN_READ:-}" "$oracle_dir/rmn-read" "$target/rmn-read"; do
  if [ -n "$exe" ] && runs_here "$exe"; then
    echo "$exe"
    exit 0
  fi
done

if [ ! -x "$oracle_dir/build.sh" ]; then
  echo "rmn-read: no working binary and no $oracle_dir/build.sh to build one" >&2
  exit 1
fi
echo "rmn-read: the prebuilt binary does not run on this CPU; building it for x86-64-v2 (a few minutes)" >&2
mkdir -p "$target"
# build.sh runs "$CMAKE --version" and "$CMAKE -S … -B …": the configure call gets the target.
wrapper="$target/cmake-x86-64-v2"
cat > "$wrapper" <<'EOF'
#!/bin/sh
case "$1" in
  -S) exec cmake "$@" -DTARGET_PROC=x86-64-v2 ;;
  *) exec cmake "$@" ;;
esac
EOF
chmod +x "$wrapper"
if ! CMAKE="$wrapper" JOBS="${JOBS:-2}" "$oracle_dir/build.sh" "$target/build" >&2; then
  echo "rmn-read: the build failed (see $target/build/)" >&2
  exit 1
fi
cp "$target/build/out/rmn-read" "$target/rmn-read.new"
mv "$target/rmn-read.new" "$target/rmn-read"
if runs_here "$target/rmn-read"; then
  echo "$target/rmn-read"
  exit 0
fi
echo "rmn-read: the rebuilt binary does not read $sample either" >&2
exit 1
