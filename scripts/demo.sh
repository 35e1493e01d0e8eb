#!/usr/bin/env bash
# README command 1: a working loom cloud on this machine, in network namespaces.
#
#   bash scripts/demo.sh          # install, build, start, show traffic; leaves it running
#   bash scripts/demo.sh down     # tear it all down
#
# Starts etcd and loom-api in an "underlay" namespace, three hosts (namespaces h1..h3 on an
# underlay bridge, each running loom-agent with its eBPF fast path and a `vxlan external`
# device), imports a two-tenant topology (test/e2e/topology.json: tenant A with two bridges and
# a router, tenant B reusing tenant A's addresses), plugs five VMs (namespaces with a veth, as a
# KVM tap would be), then shows pings and an iperf3 between VMs on different hosts, the flows
# the agents installed, a trace and the metrics, and prints how to explore and how to tear down.
# Needs root (namespaces, BPF).
set -euo pipefail
cd "$(dirname "$0")/.."
state=/tmp/loom-demo.state

down() {
  [ -f "$state" ] || { echo "no loom demo is running"; return 0; }
  # shellcheck disable=SC1090
  source "$state"
  echo "tearing down the loom demo (run $DEMO_ID, work dir $DEMO_WORK)"
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^lm$DEMO_ID-" || true); do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
  done
  sleep 0.3
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^lm$DEMO_ID-" || true); do
    ip netns del "$ns" 2>/dev/null || true
  done
  mountpoint -q "$DEMO_WORK/bpf" 2>/dev/null && umount -l "$DEMO_WORK/bpf"
  case $DEMO_WORK in /tmp/loom-e2e-*) rm -rf "$DEMO_WORK" ;; esac
  rm -f "/tmp/loom-e2e-runs/$DEMO_ID" "$state"
  echo "done: no loom namespace, process or mount is left"
}

if [ "${1:-up}" = down ]; then
  down
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "demo.sh needs root (network namespaces, BPF)" >&2; exit 1; }
[ -f "$state" ] && down

bash scripts/install-deps.sh
echo "building (release)..."
cmake --preset release >/dev/null
cmake --build --preset release --target loom-agent loom-api loomctl loom-trace >/dev/null

export LOOM_BIN_DIR=$PWD/build/release/apps E2E_KEEP=1
# shellcheck source=../test/e2e/lib.sh
source test/e2e/lib.sh
e2e_init demo
banner() { printf '\n######## %s\n' "$*"; }
show() {
  printf '$ %s\n' "$*"
  "$@" 2>&1 | sed 's/^/    /'
}

banner "1. Control plane, three hosts with loom-agent, the two-tenant topology, five VMs"
e2e_two_tenants
# The demo outlives this script: record how to find it, and keep the e2e library's reaper (which
# removes runs whose owner is gone) away from it while a placeholder in the underlay lives.
underlay_exec sleep infinity </dev/null >/dev/null 2>&1 &
echo "$! $E2E_WORK" >"/tmp/loom-e2e-runs/$E2E_ID"
printf 'DEMO_ID=%s\nDEMO_WORK=%s\n' "$E2E_ID" "$E2E_WORK" >"$state"
U=lm$E2E_ID-u
LOOMCTL="ip netns exec $U env LOOM_API=http://$E2E_UNDERLAY_IP:$E2E_API_PORT LOOM_TOKEN_FILE=$E2E_WORK/token $LOOM_BIN_DIR/loomctl"
show ctl router list
show ctl binding list
show ctl host status

banner "2. Tenant A, same bridge, different hosts: vm-a1 (h1) -> vm-a2 (h2)"
show vm_exec a1 ping -c 3 -i 0.2 10.0.0.12
banner "3. Tenant A across router r1, different hosts: vm-a1 (h1) -> vm-b1 (h3)"
show vm_exec a1 ping -c 3 -i 0.2 10.0.1.11
banner "4. Tenant B uses the same addresses, isolated: vm-x1 (h1) -> vm-x2 (h2)"
show vm_exec x1 ping -c 3 -i 0.2 10.0.0.12
banner "5. TCP: iperf3 vm-a1 (h1) -> vm-b1 (h3), 3 s"
vm_exec b1 iperf3 -s -1 -D
sleep 0.5
show vm_exec a1 iperf3 -c 10.0.1.11 -t 3 -f g
banner "6. What h1's agent installed (megaflows: one per L2/L3 path, not per connection)"
show agent_ctl 1 status
show agent_ctl 1 flows
banner "7. A trace through the live topology"
show ctl trace vm-a1 'tcp dst=10.0.1.11 dport=22'
banner "8. Metrics of h1's agent (excerpt)"
agent_metrics 1 | grep -E '^loom_(agent_(upcalls_total|flows_installed|simulation_seconds_count)|datapath_packets_total\{event="(flow_hits|upcalls|tx_tunnel)")' |
  sed 's/^/    /'

cat <<EOF2

######## Explore
  VM shells:        ip netns exec lm$E2E_ID-a1 bash      (VMs: a1 a2 b1 x1 x2; hosts: h1 h2 h3)
  loomctl:          $LOOMCTL port list
  a trace:          $LOOMCTL trace vm-a1 'icmp dst=10.0.0.12'
  flows on h1:      ip netns exec lm$E2E_ID-h1 $LOOM_BIN_DIR/loom-agent ctl --admin-socket $E2E_WORK/h1/agent.sock flows
  metrics of h1:    ip netns exec lm$E2E_ID-h1 curl -s 127.0.0.1:$E2E_METRICS_PORT/metrics
  agent logs:       $E2E_WORK/h*/agent.*.log
  docs:             docs/datapath.md, docs/life-of-a-packet.md, docs/loomctl.md

######## Tear down
  bash scripts/demo.sh down
EOF2

trap - EXIT INT TERM ERR
