# Sourced by the observation benchmarks (bench/obs_tiles_bench.sh, bench/omf_pair.sh): build
# the release tile server and run it on a benchmark's data folder.
#
#   . bench/start_server.sh
#   start_server OUT_DIR PORT [EXTRA_TOML]
#
# Writes OUT_DIR/server.toml (data = OUT_DIR/data, the repository's styles, no file watcher,
# then EXTRA_TOML), starts the server on 127.0.0.1:PORT with its log in OUT_DIR/server.log,
# kills it when the calling script exits, and returns once /healthz answers (30 s at most).
# Needs $repo (the repository root).

start_server() {
    local out="$1" port="$2" extra="${3:-}"
    local target="${CARGO_TARGET_DIR:-$repo/target}"
    cargo build --release -q -p tile-server --bin fst-tile-server
    cat > "$out/server.toml" <<EOF2
data = ["data"]
styles = "$repo/styles"
$extra
[watch]
enabled = false
EOF2
    "$target/release/fst-tile-server" --config "$out/server.toml" --listen "127.0.0.1:$port" \
        > "$out/server.log" 2>&1 &
    server_pid=$!
    trap 'kill "$server_pid" 2>/dev/null || true' EXIT
    for _ in $(seq 1 150); do
        curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && return 0
        sleep 0.2
    done
    echo "the tile server did not answer on port $port; see $out/server.log" >&2
    return 1
}
