#!/usr/bin/env bash
# bench/api: GET /v1/environments (20 items, a customer token) on `byoc server`
# against nginx serving the same JSON as a static file — both over HTTPS with
# keep-alive, the same certificate and key, nginx with as many workers as the
# server has I/O threads; wrk -t2 -c50 -d10s against each, side by side.
# Not a test: run by hand. Usage:
#   bench/api/run.sh [BUILD_DIR]        (default: build)
#   IO_THREADS=2 DURATION=10s ROUNDS=2 bench/api/run.sh build-h9
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-build}"
[[ "$build" = /* ]] || build="$root/$build"
byoc="$build/src/byoc"
io_threads="${IO_THREADS:-2}"
duration="${DURATION:-10s}"
rounds="${ROUNDS:-2}"
items=20
for tool in wrk nginx curl; do
  command -v "$tool" >/dev/null || { echo "bench/api: $tool is not installed" >&2; exit 2; }
done
[[ -x "$byoc" ]] || { echo "bench/api: no $byoc (build the byoc target first)" >&2; exit 2; }

work="$(mktemp -d /tmp/byoc-bench-api.XXXXXX)"
server_pid=""
nginx_pid=""
cleanup() {
  [[ -n "$nginx_pid" ]] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null || true
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [[ -n "${KEEP:-}" ]] || rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# --- the management plane ---------------------------------------------------
"$byoc" server --listen 127.0.0.1:0 --data-dir "$work/server" --io-threads "$io_threads" \
  >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 200); do
  [[ -s "$work/server/server.json" ]] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.05
done
url="$(sed -E 's/.*"url":"([^"]+)".*/\1/' "$work/server/server.json")"
admin="$(cat "$work/server/admin.token")"
ca="$work/server/ca.pem"
api() {  # METHOD PATH TOKEN [BODY]
  curl -sS --fail-with-body --cacert "$ca" -X "$1" -H "Authorization: Bearer $3" \
    -H 'Content-Type: application/json' ${4:+--data "$4"} "$url$2"
}
for i in $(seq -w 1 $items); do
  api POST /v1/environments "$admin" \
    "{\"name\":\"bench-$i\",\"cloud\":\"external\",\"cidr\":\"10.$((10#$i)).0.0/16\"}" >/dev/null
done
customer="$(api POST /v1/tokens "$admin" '{"role":"customer","organization":"default"}' |
  sed -E 's/.*"token":"([^"]+)".*/\1/')"
mkdir -p "$work/www/v1"
chmod 0755 "$work" "$work/www" "$work/www/v1"  # nginx workers run unprivileged
api GET /v1/environments "$customer" >"$work/www/v1/environments"
chmod 0644 "$work/www/v1/environments"
count="$(grep -o '"id":"env-' "$work/www/v1/environments" | wc -l)"
[[ "$count" == "$items" ]] || { echo "bench/api: expected $items environments, got $count" >&2; exit 1; }

# --- nginx with the same certificate, key and body ---------------------------
nginx_port="$(free_port)"
mkdir -p "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes $io_threads;
daemon off;
master_process on;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  server {
    listen 127.0.0.1:$nginx_port ssl;
    ssl_certificate $work/server/server.pem;
    ssl_certificate_key $work/server/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $work/www;
    location = /v1/environments {
      default_type application/json;
      add_header Cache-Control no-store;
    }
  }
}
CONF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" &
nginx_pid=$!
for _ in $(seq 1 100); do
  curl -s --cacert "$ca" -o /dev/null "https://127.0.0.1:$nginx_port/v1/environments" && break
  sleep 0.05
done
cmp -s <(curl -sS --cacert "$ca" "https://127.0.0.1:$nginx_port/v1/environments") "$work/www/v1/environments" ||
  { echo "bench/api: nginx does not serve the same body" >&2; exit 1; }

cat >"$work/auth.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $customer"
LUA
# wrk counts non-2xx answers; a run with any of them is not a valid figure.
run_wrk() {  # URL
  local out
  out="$(wrk -t2 -c50 -d"$duration" -s "$work/auth.lua" "$1")"
  if grep -q 'Non-2xx' <<<"$out"; then echo "bench/api: non-2xx answers from $1" >&2; echo "$out" >&2; exit 1; fi
  grep 'Requests/sec' <<<"$out" | awk '{print $2}'
}

body_bytes="$(wc -c <"$work/www/v1/environments")"
echo "bench/api: GET /v1/environments ($items items, $body_bytes bytes), wrk -t2 -c50 -d$duration, HTTPS keep-alive,"
echo "           byoc server --io-threads $io_threads vs nginx worker_processes $io_threads, $(nproc) cores"
printf '%-6s %14s %14s %8s\n' round "byoc req/s" "nginx req/s" ratio
for r in $(seq 1 "$rounds"); do
  byoc_rps="$(run_wrk "$url/v1/environments")"
  nginx_rps="$(run_wrk "https://127.0.0.1:$nginx_port/v1/environments")"
  ratio="$(awk -v a="$byoc_rps" -v b="$nginx_rps" 'BEGIN { printf "%.2f", a / b }')"
  printf '%-6s %14s %14s %7sx\n' "$r" "$byoc_rps" "$nginx_rps" "$ratio"
done
echo "goal: ratio >= 0.50"
if [[ -n "${PROFILE:-}" ]]; then  # perf profile of the server under the same load
  perf record -F 999 -g -p "$server_pid" -o "$PROFILE" -- sleep 8 >/dev/null 2>&1 &
  wrk -t2 -c50 -d"$duration" -s "$work/auth.lua" "$url/v1/environments" >/dev/null
  wait "$!"
fi
