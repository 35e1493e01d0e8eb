#!/usr/bin/env bash
# End-to-end: path MTU. a1's eth0 (and its host veth) has MTU 1500, larger than the overlay's
# 1450 (r1's ports say 1450). A DF packet too big for r1-net-b gets ICMP "fragmentation needed"
# with mtu 1450 from r1; one that fits is delivered.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init mtu
e2e_two_tenants 1500

expect_eq "a1's eth0 MTU" 1500 "$(vm_exec a1 cat /sys/class/net/eth0/mtu)"
wait_until 10 "a1 pings b1 across r1" vm_ping a1 10.0.1.11

# 1400 + 28 = 1428 bytes fit in 1450.
expect_ok "1400-byte DF ping a1 -> b1" vm_exec a1 ping -n -M "do" -s 1400 -c 3 -i 0.2 -W 1 10.0.1.11
# 1472 + 28 = 1500 bytes: r1 answers "frag needed (mtu = 1450)"; later pings fail locally with
# "message too long, mtu=1450" once the kernel has cached the path MTU.
big=$(vm_exec a1 ping -n -M "do" -s 1472 -c 3 -i 0.2 -W 1 10.0.1.11 2>&1) && big_rc=0 || big_rc=$?
expect_match "1472-byte DF ping gets fragmentation needed, mtu 1450" \
  'Frag needed and DF set \(mtu = 1450\)|message too long, mtu=1450' "$big"
expect_fail "1472-byte DF ping a1 -> b1 is not delivered" test "$big_rc" = 0
expect_match "a1 cached the path MTU 1450 towards b1" 'mtu 1450' \
  "$(vm_exec a1 ip route get 10.0.1.11 2>&1 || true)"
expect_ok "after the PMTU update a 1400-byte DF ping still works" \
  vm_exec a1 ping -n -M "do" -s 1400 -c 2 -i 0.2 -W 1 10.0.1.11
# Without DF the kernel fragments to the learned 1450 and the ping gets through.
expect_ok "1472-byte ping without DF (fragmented by a1) works" \
  vm_exec a1 ping -n -M dont -s 1472 -c 2 -i 0.2 -W 1 10.0.1.11
# TCP adapts too: a1 (MTU 1500) sends to b1 across r1.
if command -v iperf3 >/dev/null; then
  if bps=$(vm_iperf_tcp a1 b1 10.0.1.11 2); then
    e2e_pass "iperf3 TCP a1 -> b1 with a1 at MTU 1500 ($((bps / 1000000)) Mbit/s)"
  else
    printf '%s\n' "$bps" >"$E2E_WORK/iperf.err"
    e2e_fail "iperf3 TCP a1 -> b1 with a1 at MTU 1500" "$E2E_WORK/iperf.err"
  fi
fi
expect_ok "agent h1 still running" kill -0 "$(e2e_agent_pid 1)"

e2e_finish
