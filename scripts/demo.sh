#!/usr/bin/env bash
# The main job, until agents carry traffic (issue 5): a loom control plane on this machine.
# Starts etcd, loom-api (with a bearer token) and two stand-in hosts (loom-replica-host: a live
# replica + lease-bound registration, what each agent will run), builds the example topologies
# through loomctl, waits until every host has applied them, traces packets through the live
# topology, shows integrity errors, and moves a tenant's network to a second deployment with
# export/import. Everything runs on loopback and is torn down on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target loom-api loomctl loom-replica-host >/dev/null
bin=build/release
work=$(mktemp -d /tmp/loom-demo.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  bash scripts/etcd.sh stop "$work/etcd" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
banner() { printf '\n######## %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

etcd_port=$(free_port)
etcd=$(bash scripts/etcd.sh start "$work/etcd" "$etcd_port")
head -c 24 /dev/urandom | base64 >"$work/token"
start_api() {  # start_api ROOT LOGFILE: starts loom-api, sets $url (no subshell: $pids must see it)
  "$bin/apps/loom-api" --etcd "$etcd" --root "$1" --listen 127.0.0.1:0 \
    --token-file "$work/token" >"$2" 2>&1 &
  pids+=($!)
  url=""
  for _ in $(seq 100); do
    url=$(sed -n 's/^loom-api listening on //p' "$2")
    [ -n "$url" ] && return
    sleep 0.1
  done
  echo "loom-api did not start:" >&2; cat "$2" >&2; exit 1
}
start_api /loom "$work/api.log"
api=$url
export LOOM_API=$api LOOM_TOKEN_FILE=$work/token
ctl="$bin/apps/loomctl"
echo "etcd at $etcd, loom-api at $api (token in $work/token)"

# The example topologies' two hosts (host-1, host-2), as their agents will: alive under a lease,
# reporting the topology revision they have applied.
for n in 1 2; do
  "$bin/test/tools/loom-replica-host" --endpoints "$etcd" --root /loom \
    --host-id "d1000000-0000-4000-8000-00000000000$n" --ttl 5 >"$work/host-$n.log" 2>&1 &
  pids+=($!)
done

banner "1. Build the example topologies through the API"
run "$ctl" import examples/topologies/one-tenant.json --keep-ids | tail -n 3
run "$ctl" import examples/topologies/two-tenants.json | tail -n 3
run "$ctl" router list
run "$ctl" port list --bridge-id net-a
run "$ctl" rule list --chain-id vm-b1-in

banner "2. Wait until every live host has applied the topology (like OVN's --wait=hv)"
run "$ctl" host status
run "$ctl" wait-sync --timeout 10s

banner "3. Trace packets through the live topology"
run "$ctl" trace vm-a1 'arp tpa=10.0.0.1' 'tcp dst=10.0.1.11 dport=22'
echo
echo "# vm-b1's security group: telnet in is dropped, replies to vm-b1's own connections pass"
run "$ctl" trace vm-a1 'tcp dst=10.0.1.11 dport=23' \
  --from vm-b1 'tcp dst=10.0.0.11 sport=41000 dport=8080' \
  --from vm-a1 'tcp dst=10.0.1.11 sport=8080 dport=41000 flags=SA' | grep -E '^(=== packet|outcome|  chain)' || true

banner "4. Integrity: the API refuses what would leave a dangling reference"
run "$ctl" chain delete vm-b1-in || true
run "$ctl" port create --bridge-id net-a --name bad --addresses 10.0.0.300/24 || true
run "$ctl" router delete r1 || true

banner "5. Move tenant 7e000000-…-0001's network to a second deployment with fresh ids"
echo "\$ $ctl export --tenant 7e000000-0000-4000-8000-000000000001 > tenant.json"
"$ctl" export --tenant 7e000000-0000-4000-8000-000000000001 >"$work/tenant.json"
echo "exported $(grep -c '"id"' "$work/tenant.json") objects to $work/tenant.json"
start_api /loom-dc2 "$work/api2.log"
api2=$url
run "$ctl" --api "$api2" import "$work/tenant.json" | tail -n 4
echo "# Bindings name this data center's hosts, so the export leaves them out: vm-b1 is unbound"
run "$ctl" --api "$api2" trace vm-a1 'tcp dst=10.0.1.11 dport=22' | grep -E '^outcome' || true
echo "# Bind it to a host of the second data center and the same packet is delivered"
run "$ctl" --api "$api2" host create --name dc2-host-1
run "$ctl" --api "$api2" binding set vm-b1 --host dc2-host-1 --interface tap-vm-b1
run "$ctl" --api "$api2" trace vm-a1 'tcp dst=10.0.1.11 dport=22' | grep -E '^(outcome|egress)' || true

banner "Explore"
cat <<EOF
While this script runs the deployment is torn down at exit; to keep one, run the same steps by
hand: scripts/etcd.sh start DIR, build/release/apps/loom-api --etcd ..., then loomctl
(docs/loomctl.md), the API (docs/api.md, GET /api/v1/openapi.json) and metrics (GET /metrics).
EOF
