#!/usr/bin/env bash
# bench/agents: one `byoc server` holding N simulated agents (bench/agents/agents_bench,
# one process, both on this machine), for N = 1,000 then 10,000; each N gets a fresh server
# (own data dir, free port) that is killed with SIGKILL and restarted mid-run for the resync
# figure. Then the same N spread over two servers of one plane on PostgreSQL (a cluster this
# script starts with tests/testing's byoc_test_postgres): RSS of each, changes through either,
# and kill -9 of the first (no restart) until its agents are in sync with the second. Prints
# one table at the end, a column per run. Not a test: run by hand. Usage:
#   bench/agents/run.sh [BUILD_DIR]                 (default: build)
#   AGENTS="1000 10000" IO_THREADS=2 SAMPLES=200 PLANE=0 bench/agents/run.sh build-h9
#   SINGLE=0 bench/agents/run.sh                   (the two-server plane only)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-build}"
[[ "$build" = /* ]] || build="$root/$build"
byoc="$build/src/byoc"
tool="$build/bench/agents/agents_bench"
pg_tool="$build/tests/testing/byoc_test_postgres"
plane="${PLANE:-1}"
single="${SINGLE:-1}"
agents="${AGENTS:-1000 10000}"
io_threads="${IO_THREADS:-2}"
samples="${SAMPLES:-200}"
for f in "$byoc" "$tool" $([[ "$plane" == 1 ]] && echo "$pg_tool"); do
  [[ -x "$f" ]] || { echo "bench/agents: no $f (build the byoc, agents_bench and byoc_test_postgres targets)" >&2; exit 2; }
done

work="$(mktemp -d /tmp/byoc-bench-agents.XXXXXX)"
pidfile=""
# True while the process lives (a zombie counts as gone).
alive() { [[ -e /proc/$1 ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
stop_server() {
  [[ -n "$pidfile" && -s "$pidfile" ]] || return 0
  local pid; pid="$(cat "$pidfile")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 600); do alive "$pid" || break; sleep 0.05; done
  alive "$pid" && kill -9 "$pid" 2>/dev/null || true
  : >"$pidfile"
}
stop_plane() {
  for f in "$work"/plane-*.pid; do
    [[ -s "$f" ]] || continue
    local pid; pid="$(cat "$f")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 600); do alive "$pid" || break; sleep 0.05; done
    alive "$pid" && kill -9 "$pid" 2>/dev/null || true
    : >"$f"
  done
}
cleanup() {
  stop_server
  stop_plane
  [[ -s "$work/pg.json" ]] && "$pg_tool" stop "$work/pg.json" >/dev/null 2>&1
  [[ -n "${KEEP:-}" ]] || rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Starts the server of run $1 on port $2 in the background and waits until it serves.
cat >"$work/start-server.sh" <<SH
#!/usr/bin/env bash
set -euo pipefail
data="\$1"; port="\$2"; pidfile="\$3"; shift 3
# Every simulated agent connects from 127.0.0.1: one source, where real agents are thousands.
# The listener's per-source limit on connections still in their handshake (1024 by default,
# issue 10) would evict the oldest of a fleet reconnecting at once; lift it as real sources would.
"$byoc" server --listen "127.0.0.1:\$port" --data-dir "\$data" --io-threads $io_threads \
  --max-pending-per-source 100000 "\$@" \
  >>"\$data.log" 2>&1 </dev/null &
pid=\$!
echo "\$pid" >"\$pidfile"
for _ in \$(seq 1 600); do
  if [[ -s "\$data/server.json" ]] && grep -q "\"pid\":\$pid[,}]" "\$data/server.json"; then exit 0; fi
  [[ -e /proc/\$pid ]] || { echo "server did not start:" >&2; tail -5 "\$data.log" >&2; exit 1; }
  sleep 0.01
done
echo "server did not come up" >&2; exit 1
SH
# kill -9 of the server of run $1, then a restart on the same port and data dir.
cat >"$work/restart-server.sh" <<SH
#!/usr/bin/env bash
set -euo pipefail
data="\$1"; port="\$2"; pidfile="\$3"
pid="\$(cat "\$pidfile")"
kill -9 "\$pid"
# Dead means its data-dir lock is free: every thread has exited and closed its descriptors
# (the main thread shows as a zombie before the others are gone).
until flock -n "\$data/server.lock" true; do sleep 0.005; done
exec "$work/start-server.sh" "\$data" "\$port" "\$pidfile"
SH
chmod +x "$work/start-server.sh" "$work/restart-server.sh"

results=()
for n in $([[ "$single" == 1 ]] && echo "$agents"); do
  data="$work/server-$n"
  port="$(free_port)"
  pidfile="$work/server-$n.pid"
  "$work/start-server.sh" "$data" "$port" "$pidfile"
  echo "== $n agents (server pid $(cat "$pidfile"), https://127.0.0.1:$port, io threads $io_threads, $(nproc) cores)"
  "$tool" --data-dir "$data" --agents "$n" --samples "$samples" \
    --restart-cmd "$work/restart-server.sh '$data' $port '$pidfile'" --result "$work/result-$n.json"
  results+=("$work/result-$n.json")
  [[ -n "${RESULTS_DIR:-}" ]] && cp "$work/result-$n.json" "$RESULTS_DIR/"
  stop_server
done
if [[ "$plane" == 1 ]]; then
  "$pg_tool" start "$work/pg.json" >/dev/null
  pg_uri="$(python3 -c 'import json,sys; print("postgresql://postgres@127.0.0.1:%d/" % json.load(open(sys.argv[1]))["port"])' "$work/pg.json")"
  for n in $agents; do
    db="bench_agents_$n"
    psql "${pg_uri}postgres" -q -c "CREATE DATABASE $db" >/dev/null
    a="$work/plane-$n-a"; b="$work/plane-$n-b"
    port_a="$(free_port)"; port_b="$(free_port)"
    "$work/start-server.sh" "$a" "$port_a" "$work/plane-a.pid" --store "$pg_uri$db"
    "$work/start-server.sh" "$b" "$port_b" "$work/plane-b.pid" --store "$pg_uri$db" --keys-from "$a"
    echo "== $n agents over two servers on PostgreSQL (https://127.0.0.1:$port_a, https://127.0.0.1:$port_b)"
    "$tool" --data-dir "$a" --data-dir "$b" --agents "$n" --samples "$samples" --kill-first \
      --result "$work/result-plane-$n.json"
    results+=("$work/result-plane-$n.json")
    [[ -n "${RESULTS_DIR:-}" ]] && cp "$work/result-plane-$n.json" "$RESULTS_DIR/"
    stop_plane
    psql "${pg_uri}postgres" -q -c "DROP DATABASE $db WITH (FORCE)" >/dev/null
  done
fi
echo
echo "bench/agents: byoc server(s) (--io-threads $io_threads) and all agents in one process, on this $(nproc)-core machine"
echo "columns: one server on SQLite per N, then (PLANE=1) two servers on one PostgreSQL per N; on 2 cores the"
echo "two servers share the cores and the database: these figures show overhead and failover, not scale-out"
"$tool" --summarize "${results[@]}"
echo "goals at 10,000 agents: RSS <= 1024 MiB, 1-env change p99 <= 1000 ms, all in sync after restart <= 30 s"
