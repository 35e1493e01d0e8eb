#!/usr/bin/env bash
# End-to-end: agents killed with SIGKILL and restarted lose no packet. a1 pings a2 every 1 ms
# while h1's agent and then h2's agent are killed and restarted; the fast path (pinned maps and
# links) must carry the flow meanwhile and the new agents adopt it.
#   E2E_RESTART_PINGS  ping count (default 12000, ~12 s at 1 ms)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init restart
e2e_two_tenants 1450

count=${E2E_RESTART_PINGS:-12000}
wait_until 10 "a1 pings a2" vm_ping a1 10.0.0.12
expect_ok "a1 -> a2: 20 quick pings" vm_exec a1 ping -n -q -c 20 -i 0.01 -W 1 10.0.0.12

ping_out="$E2E_WORK/ping-restart.out"
vm_bg a1 "$ping_out" ping -n -q -i 0.001 -c "$count" -W 1 10.0.0.12
ping_pid=$E2E_SPAWNED
sleep 1
old1=$(e2e_agent_pid 1)
e2e_restart_agent 1 KILL
sleep 1
old2=$(e2e_agent_pid 2)
e2e_restart_agent 2 KILL
sleep 1
if kill -0 "$ping_pid" 2>/dev/null; then
  e2e_pass "ping still running after both restarts"
else
  e2e_fail "ping ended before both agents were back (raise E2E_RESTART_PINGS)"
fi
ping_rc=0
wait "$ping_pid" || ping_rc=$?
summary=$(grep -E 'packets transmitted' "$ping_out" || true)
echo "   ping: $summary"
sent=$(sed -nE 's/^([0-9]+) packets transmitted.*/\1/p' <<<"$summary")
received=$(sed -nE 's/.* ([0-9]+) received.*/\1/p' <<<"$summary")
expect_eq "ping sent all $count" "$count" "${sent:-none}"
expect_eq "no packet lost across both restarts ($summary)" "$count" "${received:-none}"
expect_match "0% packet loss" ' 0% packet loss' "$summary"
expect_eq "ping exit status" 0 "$ping_rc"

# The restarted agents: new processes, same hosts. By now the killed agents' leases (5 s TTL)
# have expired, so "active" is the new agents' doing.
if [ "$(e2e_agent_pid 1)" != "$old1" ] && [ "$(e2e_agent_pid 2)" != "$old2" ]; then
  e2e_pass "both agents are new processes"
else
  e2e_fail "agents were not restarted"
fi
for p in vm-a1 vm-x1 vm-a2 vm-x2; do
  wait_until 15 "$p active after the restart" port_active "$p" || true
done
expect_match "h1 and h2 alive" 'h2 +yes' "$(ctl host status 2>&1 || true)"
expect_match "h1's agent serves vm-a1 again" 'vm-a1' "$(agent_ctl 1 ports 2>&1 || true)"
expect_match "h1's agent status" '^flows [0-9]+' "$(agent_ctl 1 status 2>&1 || true)"
expect_ok "a1 -> a2 after the restarts" vm_ping a1 10.0.0.12 3
expect_ok "a1 -> b1 after the restarts (new flow through r1)" vm_ping a1 10.0.1.11 3
expect_ok "x1 -> x2 after the restarts" vm_ping x1 10.0.0.12 3
expect_ok "every live host applied the topology" ctl wait-sync --timeout 20s

# A graceful restart (SIGTERM, as for an upgrade). The stopping agent leaves its lease to expire
# instead of revoking it, so the other hosts keep sending to its ports while it restarts: no
# packet may be lost, as with SIGKILL.
ping_out="$E2E_WORK/ping-term.out"
vm_bg a1 "$ping_out" ping -n -q -i 0.002 -c 2000 -W 1 10.0.0.12
ping_pid=$E2E_SPAWNED
sleep 0.5
e2e_restart_agent 1 TERM
ping_rc=0
wait "$ping_pid" || ping_rc=$?
summary=$(grep -E 'packets transmitted' "$ping_out" || true)
echo "   ping: $summary"
received=$(sed -nE 's/.* ([0-9]+) received.*/\1/p' <<<"$summary")
expect_match "a SIGTERM restart of h1 loses no ping" ' 0% packet loss' "$summary"
expect_ok "a1 -> a2 after the SIGTERM restart" vm_ping a1 10.0.0.12 3

e2e_finish
