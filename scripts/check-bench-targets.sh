#!/usr/bin/env bash
# The benchmarks are run by hand (bench/*.sh), not by CI: this checks, in seconds, that what
# they build and run still exists (a cargo example named by `--example`, a script under
# bench/ or python/bench/), so that a tidy-up cannot silently break one.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
scripts=(bench/*.sh python/bench/*.sh)
for name in $(grep -ho -- '--example [A-Za-z0-9_]*' "${scripts[@]}" | awk '{print $2}' | sort -u); do
  if ! compgen -G "*/examples/$name.rs" >/dev/null && ! compgen -G "crates/*/examples/$name.rs" >/dev/null; then
    echo "benchmark builds example '$name', which no crate has" >&2
    status=1
  fi
done
for path in $(grep -ho -E '(python/)?bench/[A-Za-z0-9_./-]+\.(py|sh)' "${scripts[@]}" | sort -u); do
  if [ ! -f "$path" ]; then
    echo "benchmark runs $path, which does not exist" >&2
    status=1
  fi
done
exit "$status"
