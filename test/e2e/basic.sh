#!/usr/bin/env bash
# End-to-end: the two-tenant topology (topology.json) on three hosts with real agents.
#   (a) same bridge across hosts  (b) across the router  (c) tenant isolation  (d) ARP
#   (e) a deleted route stops traffic, re-created restores it  (f) unbinding / rebinding a port
#   (g) flows and metrics are visible.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init basic
command -v iperf3 >/dev/null || e2e_skip "iperf3 not installed"
e2e_two_tenants 1450

A1_MAC=02:e2:0a:00:00:11 A2_MAC=02:e2:0a:00:00:12 X2_MAC=02:e2:0b:00:00:12
R1_NET_A_MAC=02:e2:0a:ff:00:01
STATIC_ROUTE=a3e2e000-000a-4000-8000-000000000001

iperf() {  # iperf DESC CLIENT SERVER DST
  local bps
  if bps=$(vm_iperf_tcp "$2" "$3" "$4" 2); then
    e2e_pass "$1 ($((bps / 1000000)) Mbit/s)"
  else
    printf '%s\n' "$bps" >"$E2E_WORK/iperf.err"
    e2e_fail "$1" "$E2E_WORK/iperf.err"
  fi
}

echo "== (a) a1 -> a2: bridge net-a, h1 -> h2"
wait_until 10 "a1 pings a2" vm_ping a1 10.0.0.12
expect_ok "a1 -> a2: 5 of 5 pings" vm_ping a1 10.0.0.12 5
iperf "iperf3 TCP a1 -> a2" a1 a2 10.0.0.12

echo "== (b) a1 -> b1: net-a -> r1 -> net-b, h1 -> h3"
wait_until 10 "a1 pings b1 across r1" vm_ping a1 10.0.1.11
expect_ok "a1 -> b1: 5 of 5 pings" vm_ping a1 10.0.1.11 5
expect_match "r1 decrements the TTL (b1's reply has ttl=63)" 'ttl=63' \
  "$(vm_exec a1 ping -n -c 1 -W 1 10.0.1.11 || true)"
expect_ok "a1 pings its gateway r1 (10.0.0.1)" vm_ping a1 10.0.0.1 2
expect_eq "a1 resolved its gateway to r1-net-a's MAC" "$R1_NET_A_MAC" "$(vm_neigh_mac a1 10.0.0.1)"
iperf "iperf3 TCP a1 -> b1" a1 b1 10.0.1.11

echo "== (c) tenant isolation: tenant B (x1, x2) reuses tenant A's addresses"
wait_until 10 "x1 pings x2 (tenant B, h1 -> h2)" vm_ping x1 10.0.0.12
expect_eq "x1 resolved 10.0.0.12 to x2's MAC" "$X2_MAC" "$(vm_neigh_mac x1 10.0.0.12)"
# a1 -> 10.0.0.12 (with a fresh ARP broadcast) must reach a2 and never x2.
vm_exec a1 ip neigh flush dev eth0
x2_rx0=$(vm_rx_packets x2)
a2_rx0=$(vm_rx_packets a2)
expect_ok "a1 -> 10.0.0.12 after an ARP flush: 5 of 5 pings" vm_ping a1 10.0.0.12 5
a2_rx1=$(vm_rx_packets a2)
expect_eq "(d) a1's ARP request for 10.0.0.12 resolved to a2's MAC" "$A2_MAC" \
  "$(vm_neigh_mac a1 10.0.0.12)"
expect_gt "a2 received a1's pings (rx $a2_rx0 -> $a2_rx1)" "$a2_rx1" "$((a2_rx0 + 4))"
# Frames from a1 addressed to x2's MAC stay in tenant A.
vm_exec a1 ip neigh replace 10.0.0.99 lladdr "$X2_MAC" dev eth0 nud permanent
vm_exec a1 ping -n -q -c 5 -i 0.2 -W 1 10.0.0.99 >/dev/null 2>&1 || true
vm_exec a1 ip neigh del 10.0.0.99 dev eth0
# And a broadcast ping in tenant A.
vm_exec a1 ping -n -q -b -c 2 -i 0.2 -W 1 10.0.0.255 >/dev/null 2>&1 || true
x2_rx1=$(vm_rx_packets x2)
expect_eq "x2 received nothing from tenant A (rx_packets unchanged)" "$x2_rx0" "$x2_rx1"
# The other direction: x1 -> a2's MAC.
a2_rx0=$(vm_rx_packets a2)
vm_exec x1 ip neigh replace 10.0.0.99 lladdr "$A2_MAC" dev eth0 nud permanent
vm_exec x1 ping -n -q -c 5 -i 0.2 -W 1 10.0.0.99 >/dev/null 2>&1 || true
vm_exec x1 ip neigh del 10.0.0.99 dev eth0
expect_eq "a2 received nothing from x1 (rx_packets unchanged)" "$a2_rx0" "$(vm_rx_packets a2)"

echo "== (d) flooding across hosts: unknown unicast and broadcast from a1 reach a2 on h2"
a2_rx0=$(vm_rx_packets a2)
vm_exec a1 ip neigh replace 10.0.0.98 lladdr 02:ee:ee:ee:ee:01 dev eth0 nud permanent
vm_exec a1 ping -n -q -c 5 -i 0.2 -W 1 10.0.0.98 >/dev/null 2>&1 || true
vm_exec a1 ip neigh del 10.0.0.98 dev eth0
a2_rx1=$(vm_rx_packets a2)
expect_gt "a2 got the 5 unknown-unicast frames (rx $a2_rx0 -> $a2_rx1)" "$a2_rx1" "$((a2_rx0 + 4))"
vm_exec a1 ping -n -q -b -c 5 -i 0.2 -W 1 10.0.0.255 >/dev/null 2>&1 || true
a2_rx2=$(vm_rx_packets a2)
expect_gt "a2 got the 5 broadcast frames (rx $a2_rx1 -> $a2_rx2)" "$a2_rx2" "$((a2_rx1 + 4))"

echo "== (d) ARP"
vm_exec a1 ip neigh flush dev eth0
expect_ok "a1 pings a2 after an ARP flush" vm_ping a1 10.0.0.12
expect_eq "a1's neighbour entry for a2" "$A2_MAC" "$(vm_neigh_mac a1 10.0.0.12)"
expect_match "a2 learned a1 from the ARP request" "$A1_MAC" "$(vm_neigh_mac a2 10.0.0.11)"

echo "== (e) r1's static route 10.0.2.0/24 via b1"
wait_until 10 "a1 pings 10.0.2.11 (b1) through the static route" vm_ping a1 10.0.2.11
expect_ok "delete the route" ctl route delete "$STATIC_ROUTE"
wait_until 10 "a1 -> 10.0.2.11 fails without the route" not vm_ping a1 10.0.2.11
expect_match "r1 answers 'net unreachable'" 'Net Unreachable' \
  "$(vm_exec a1 ping -n -c 1 -W 1 10.0.2.11 2>&1 || true)"
expect_ok "re-create the route" ctl route create --id "$STATIC_ROUTE" --router-id r1 \
  --dst-prefix 10.0.2.0/24 --next-hop PORT --next-hop-port-id r1-net-b --next-hop-gateway 10.0.1.11
wait_until 10 "a1 pings 10.0.2.11 again" vm_ping a1 10.0.2.11
expect_ok "a1 still reaches b1's own address" vm_ping a1 10.0.1.11

echo "== (f) unbinding vm-a2"
expect_ok "clear vm-a2's binding" ctl binding clear vm-a2
wait_until 10 "a1 -> a2 stops" not vm_ping a1 10.0.0.12
wait_until 10 "vm-a2 no longer active" port_inactive vm-a2
expect_ok "a1 still reaches b1" vm_ping a1 10.0.1.11
expect_ok "bind vm-a2 to h2/a2 again" ctl binding set vm-a2 --host h2 --interface a2
wait_until 15 "vm-a2 active again" port_active vm-a2
wait_until 10 "a1 -> a2 works again" vm_ping a1 10.0.0.12

echo "== (f) the interface goes away and comes back (VM unplugged and replugged)"
host_exec 2 ip link del a2
wait_until 10 "vm-a2 inactive once its interface is gone" port_inactive vm-a2
wait_until 10 "a1 -> a2 stops" not vm_ping a1 10.0.0.12
_e2e_run ip link add eth0 netns "lm$E2E_ID-a2" type veth peer name a2 netns "lm$E2E_ID-h2"
ip -n "lm$E2E_ID-a2" link set eth0 address "$A2_MAC" mtu 1450 up
ip -n "lm$E2E_ID-a2" addr add 10.0.0.12/24 dev eth0
ip -n "lm$E2E_ID-a2" route add default via 10.0.0.1 dev eth0
ip -n "lm$E2E_ID-h2" link set a2 mtu 1450 up
wait_until 15 "vm-a2 active again on the new interface" port_active vm-a2
wait_until 10 "a1 -> a2 works again" vm_ping a1 10.0.0.12

echo "== (g) flows and metrics"
vm_ping a1 10.0.0.12 3 >/dev/null || true
vm_ping a1 10.0.1.11 3 >/dev/null || true
flows=$(agent_ctl 1 flows 2>&1 || true)
expect_match "h1's agent lists flows" '^[1-9][0-9]* flows$' "$flows"
expect_match "h1's agent status" '^flows [0-9]+' "$(agent_ctl 1 status 2>&1 || true)"
expect_match "h1's agent serves vm-a1 and vm-x1" 'vm-a1 .*' "$(agent_ctl 1 ports 2>&1 || true)"
metrics=$(agent_metrics 1 2>&1 || true)
upcalls=$(metric_value "$metrics" loom_agent_upcalls_total)
expect_ok "h1's loom_agent_upcalls_total > 0 (${upcalls:-missing})" \
  awk -v v="${upcalls:-0}" 'BEGIN { exit !(v + 0 > 0) }'
installed=$(metric_value "$metrics" loom_agent_flows_installed_total)
expect_ok "h1's loom_agent_flows_installed_total > 0 (${installed:-missing})" \
  awk -v v="${installed:-0}" 'BEGIN { exit !(v + 0 > 0) }'
for n in 1 2 3; do
  expect_ok "agent h$n still running" kill -0 "$(e2e_agent_pid "$n")"
done

e2e_finish
