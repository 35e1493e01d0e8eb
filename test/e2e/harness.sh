#!/usr/bin/env bash
# Self-test of lib.sh without loom-agent: underlay, etcd, loom-api, the topology import, host and
# VM namespaces, the helpers and assertions. Whether cleanup left anything behind is checked
# from outside (ip netns list, /proc/mounts, /tmp/loom-e2e-*).
#   E2E_HARNESS_FAIL=assert   end with a failing assertion (exit 1, cleanup must still run)
#   E2E_HARNESS_FAIL=error    fail an unchecked command under set -e midway
#   E2E_HARNESS_FAIL=hang     sleep forever after setup (send SIGTERM / SIGINT to test cleanup)
export E2E_NO_AGENT=1
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init harness
e2e_two_tenants 1450

[ "${E2E_HARNESS_FAIL:-}" = error ] && false

# Underlay: every host reaches the underlay address and the others through the bridge.
for n in 1 2 3; do
  expect_ok "h$n reaches the underlay" host_exec "$n" ping -c 1 -W 2 198.18.0.254
done
expect_ok "h1 reaches h3 over the underlay" host_exec 1 ping -c 1 -W 2 198.18.0.3
expect_eq "h2's underlay MTU" 1500 "$(host_exec 2 cat /sys/class/net/ul/mtu)"
expect_ok "etcd answers on the underlay from h1" \
  host_exec 1 curl -fs -m 2 "http://198.18.0.254:2379/health"
expect_ok "bpffs mounted for the run" mountpoint -q "$E2E_WORK/bpf"

# The imported topology, with its ids.
expect_match "three hosts" '^h3 ' "$(ctl -o json host list | python3 -c '
import json,sys; print("\n".join(h["name"]+" "+h["id"] for h in json.load(sys.stdin)["items"]))' | sort)"
expect_match "vm-a1 bound to h1 on interface a1" 'host_id: +d1e2e000-0000-4000-8000-000000000001' \
  "$(ctl port show vm-a1)"
expect_match "r1's static route to 10.0.2.0/24" '10\.0\.2\.0/24' "$(ctl route list --router-id r1)"
expect_eq "five VM bindings" 5 "$(ctl binding list | grep -c ' no *$\| yes *$')"
expect_ok "port status answers" ctl port status vm-x2
expect_ok "vm-a2 not active without agents" port_inactive vm-a2

# VM plumbing.
expect_eq "a1's MAC" 02:e2:0a:00:00:11 "$(vm_exec a1 cat /sys/class/net/eth0/address)"
expect_eq "a2's MTU" 1450 "$(vm_exec a2 cat /sys/class/net/eth0/mtu)"
expect_eq "host-side a2 MTU" 1450 "$(host_exec 2 cat /sys/class/net/a2/mtu)"
expect_match "b1 has 10.0.2.11" '10\.0\.2\.11/32' "$(vm_exec b1 ip -4 addr show dev eth0)"
expect_match "x1 default route" 'default via 10\.0\.0\.1' "$(vm_exec x1 ip route)"
expect_eq "x2 rx counter readable" 0 "$(($(vm_rx_packets x2) * 0))"
expect_fail "no agent: a1 cannot reach a2" vm_ping a1 10.0.0.12
wait_until 2 "wait_until passes" true
expect_ok "not inverts" not false

# A background process inside a VM namespace, which cleanup must kill.
vm_exec a2 sleep 1000 &
host_exec 1 sleep 1000 </dev/null >/dev/null 2>&1 &

case ${E2E_HARNESS_FAIL:-} in
assert) expect_eq "deliberate failure" 1 2 ;;
hang) echo "hanging (pid $$)"; sleep 1000 & wait $! ;;
esac
e2e_finish
