#!/usr/bin/env bash
# Scale-out test (issue 14): three fst-tile-server replicas over the same data behind nginx
# (Debian package; config from tile-server/deploy/nginx-fst.conf, ports changed), all on
# loopback. Shows identical ETags for the same tile from every replica, cache hits at the
# proxy, and zero failed requests through nginx while one replica is killed mid-load.
#   FST_TILE_SERVER=path/to/fst-tile-server (default: $CARGO_TARGET_DIR/debug/...)
#   SCALEOUT_SECONDS=12 (load duration)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
server="${FST_TILE_SERVER:-$target/debug/fst-tile-server}"
seconds="${SCALEOUT_SECONDS:-12}"
command -v nginx >/dev/null || { echo "scaleout: nginx is not installed (scripts/apt-packages.txt)" >&2; exit 1; }
[ -x "$server" ] || { echo "scaleout: build the server first ($server)" >&2; exit 1; }

work="$(mktemp -d /tmp/fst-scaleout.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Four free loopback ports: nginx, then the replicas.
read -r P0 P1 P2 P3 < <(python3 - <<'EOF'
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
EOF
)

mkdir -p "$work/cache" "$work/tmp"
for k in 1 2 3; do
  port="P$k"
  cat > "$work/replica$k.toml" <<EOF
listen = "127.0.0.1:${!port}"
data = ["$root/tile-server/sample"]
[connections]
max_per_ip = 0
EOF
  "$server" --config "$work/replica$k.toml" 2> "$work/replica$k.log" &
  pids+=("$!")
  eval "R$k=$!"
done

# The shipped config with this test's ports and paths.
sed -e "s#127.0.0.1:8081#127.0.0.1:$P1#; s#127.0.0.1:8082#127.0.0.1:$P2#; s#127.0.0.1:8083#127.0.0.1:$P3#" \
    -e "s#listen 127.0.0.1:8080#listen 127.0.0.1:$P0#" \
    -e "s#/var/cache/nginx/fst#$work/cache#" \
    "$root/tile-server/deploy/nginx-fst.conf" > "$work/fst.conf"
# Run as root (as CI may), nginx's workers would drop to `nobody` and could not write the
# cache in this test's folder: keep them as the invoking user.
user_line=""
[ "$(id -u)" -eq 0 ] && user_line="user root;"
cat > "$work/nginx.conf" <<EOF
$user_line
daemon off;
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/tmp/body;
  proxy_temp_path $work/tmp/proxy;
  fastcgi_temp_path $work/tmp/fastcgi;
  uwsgi_temp_path $work/tmp/uwsgi;
  scgi_temp_path $work/tmp/scgi;
  # Test only: a request with X-NoCache bypasses the cache, so that the load reaches the
  # replicas.
  proxy_cache_bypass \$http_x_nocache;
  proxy_no_cache \$http_x_nocache;
  include $work/fst.conf;
}
EOF
nginx -p "$work" -c "$work/nginx.conf" 2> "$work/nginx-stderr.log" &
pids+=("$!")

for port in "$P1" "$P2" "$P3" "$P0"; do
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.2
  done
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { echo "scaleout: port $port did not come up" >&2; cat "$work"/*.log >&2; exit 1; }
done

python3 - "$P0" "$P1" "$P2" "$P3" "$seconds" "$R2" <<'EOF' || { tail -20 "$work/nginx-error.log" >&2; exit 1; }
import http.client, os, signal, sys, threading, time

p0, p1, p2, p3, seconds, victim = (int(x) for x in sys.argv[1:])

def get(port, path, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body
    finally:
        c.close()

tiles = [f"/tiles/TT/{z}/{x}/{y}.png" for z in (2, 3, 4, 5) for x in range(2 ** z) for y in range(2 ** z)
         if z < 4 or (x * 4 // 2 ** z, y * 4 // 2 ** z) in {(0, 1), (1, 1), (0, 2), (1, 2)}]
wms = ("/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=TT&STYLES=&CRS=EPSG:3857"
       "&BBOX=-15000000,3000000,-6000000,10000000&WIDTH=256&HEIGHT=200&FORMAT=image/png")

# Identical ETags from every replica.
for path in tiles[:8] + [wms]:
    tags = {get(p, path)[1].get("etag") for p in (p1, p2, p3)}
    assert len(tags) == 1 and None not in tags, f"{path}: ETags differ across replicas: {tags}"
print(f"scaleout: identical ETags from 3 replicas for {len(tiles[:8]) + 1} URLs")

# Cache hits at the proxy.
# (On failure the message carries both answers' status and caching headers: it failed once,
# MISS then MISS, right after the soak test, and the headers were not kept.)
def cache_view(answer):
    status, headers, _ = answer
    return (f"{status} {headers.get('x-cache-status')} cache-control={headers.get('cache-control')!r}"
            f" etag={headers.get('etag')!r}")
first_answer, second_answer = get(p0, wms), get(p0, wms)
first = first_answer[1].get("x-cache-status")
second = second_answer[1].get("x-cache-status")
assert second == "HIT", (f"second request through nginx: {cache_view(first_answer)} then "
                         f"{cache_view(second_answer)}")
print(f"scaleout: proxy cache {first} then {second}")

# Load through nginx; the second replica is killed a third of the way in.
stop = time.time() + seconds
lock = threading.Lock()
stats = {"ok": 0, "fail": 0, "hit": 0, "errors": []}

def client(k):
    i = k
    while time.time() < stop:
        path = tiles[i % len(tiles)]
        i += 13
        hdr = {"X-NoCache": "1"} if i % 2 else {}
        try:
            st, h, body = get(p0, path, hdr)
            good = st == 200 and body.startswith(b"\x89PNG")
        except Exception as e:  # noqa: BLE001 - any failure counts
            st, h, good = repr(e), {}, False
        with lock:
            if good:
                stats["ok"] += 1
                stats["hit"] += h.get("x-cache-status") == "HIT"
            else:
                stats["fail"] += 1
                stats["errors"].append(f"{path}: {st}")

threads = [threading.Thread(target=client, args=(k,)) for k in range(16)]
for t in threads:
    t.start()
time.sleep(seconds / 3)
os.kill(victim, signal.SIGKILL)
print(f"scaleout: killed replica pid {victim} at {seconds / 3:.0f} s")
for t in threads:
    t.join()
print(f"scaleout: {stats['ok']} ok, {stats['fail']} failed, {stats['hit']} cache hits")
assert stats["fail"] == 0, stats["errors"][:5]
assert stats["ok"] > 100 and stats["hit"] > 0, stats
EOF
echo "scaleout: ok"
