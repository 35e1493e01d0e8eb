#!/usr/bin/env bash
# A local single-member etcd for the demo and development (tests start their own, see
# test/support/etcd_process.h).
#
#   scripts/etcd.sh start <dir> [client-port]   start (or find running) etcd; prints the endpoint
#   scripts/etcd.sh stop <dir>                  kill it
#
# Data, log (etcd.log) and pid file (etcd.pid) live in <dir>. The peer port is client-port + 1.
#
# Settings a loom deployment needs (docs: ../shared/docs/etcd-notes.md §2):
# - Auto-compaction, periodic, 1 h. Without it history grows until the backend quota raises a
#   NOSPACE alarm and every write fails. Time-based retention is chosen over a revision count
#   because what it must cover is an outage: an agent that lost its watch resumes from its last
#   revision + 1 without a full re-list as long as that revision is less than ~1 h old, however
#   busy the NSDB was meanwhile (a revision count would shrink that window under write bursts).
# - --quota-backend-bytes 4 GiB (default 2 GiB; docs suggest at most 8 GiB).
# - --grpc-keepalive-min-time 1s: below loom's 2 s client keepalive ping interval, so pinging
#   clients (which notice a hung member that way) are not sent GOAWAY too_many_pings.
# - --max-request-bytes and --max-txn-ops at their defaults (1.5 MiB, 128), stated explicitly
#   because loom's client relies on them (etcd::kMaxTxnOps).
set -euo pipefail

usage() {
  echo "usage: $0 start <dir> [client-port] | stop <dir>" >&2
  exit 2
}

alive() { [ -f "$1/etcd.pid" ] && kill -0 "$(cat "$1/etcd.pid")" 2>/dev/null; }

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || usage

case "$cmd" in
start)
  port=${3:-2379}
  peer=$((port + 1))
  command -v etcd >/dev/null || { echo "etcd not installed (scripts/install-deps.sh)" >&2; exit 1; }
  command -v curl >/dev/null || { echo "curl not installed (scripts/install-deps.sh)" >&2; exit 1; }
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if alive "$dir"; then
    echo "etcd already running (pid $(cat "$dir/etcd.pid"))" >&2
    echo "127.0.0.1:$port"
    exit 0
  fi
  nohup etcd --name loom --data-dir "$dir/data" \
    --listen-client-urls "http://127.0.0.1:$port" --advertise-client-urls "http://127.0.0.1:$port" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "loom=http://127.0.0.1:$peer" \
    --auto-compaction-mode periodic --auto-compaction-retention 1h \
    --quota-backend-bytes $((4 * 1024 * 1024 * 1024)) \
    --grpc-keepalive-min-time 1s \
    --max-request-bytes 1572864 --max-txn-ops 128 \
    --logger zap --log-outputs stderr >>"$dir/etcd.log" 2>&1 </dev/null &
  echo $! >"$dir/etcd.pid"
  for _ in $(seq 1 200); do
    if curl -fs -m 1 "http://127.0.0.1:$port/health" 2>/dev/null | grep -q '"health":"true"'; then
      echo "127.0.0.1:$port"
      exit 0
    fi
    if ! alive "$dir"; then break; fi
    sleep 0.1
  done
  echo "etcd did not become healthy in 20 s; last lines of $dir/etcd.log:" >&2
  tail -n 20 "$dir/etcd.log" >&2 || true
  kill -9 "$(cat "$dir/etcd.pid")" 2>/dev/null || true
  rm -f "$dir/etcd.pid"
  exit 1
  ;;
stop)
  if alive "$dir"; then
    pid=$(cat "$dir/etcd.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/etcd.pid"
  ;;
*)
  usage
  ;;
esac
