#!/usr/bin/env bash
# The main job, until the agent exists: builds loom-trace (release) and traces packets through
# the example topologies, showing each device's decision, the actions, megaflow mask and tags.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target loom-trace >/dev/null
trace=build/release/apps/loom-trace
one=examples/topologies/one-tenant.json
two=examples/topologies/two-tenants.json

banner() { printf '\n######## %s\n' "$*"; }

banner "1. Learning, ARP suppression and routing in one tenant ($one)"
"$trace" --topology "$one" \
  --packet vm-a1 'arp tpa=10.0.0.1' \
  --packet vm-a1 'icmp dst=10.0.0.1' \
  --packet vm-a1 'tcp dst=10.0.1.11 dport=22'

banner "2. vm-b1's security group: SSH in allowed, telnet in dropped, replies to vm-b1's own connections recognised"
"$trace" --topology "$one" \
  --packet vm-a1 'tcp dst=10.0.1.11 dport=23' \
  --packet vm-a1 'tcp dst=10.0.1.11 dport=22' \
  --packet vm-b1 'tcp dst=10.0.0.11 sport=41000 dport=8080' \
  --packet vm-a1 'tcp dst=10.0.1.11 sport=8080 dport=41000 flags=SA' \
  --packet vm-a1 'tcp dst=10.0.1.11 sport=8080 dport=41001 flags=SA'

banner "3. To the internet: ARP for the uplink gateway first, then forward once it is known"
"$trace" --topology "$one" \
  --packet vm-a1 'udp dst=198.51.100.53 sport=5353 dport=53' \
  --packet r1-up 'arp op=reply eth_src=02:00:00:99:00:01 sha=02:00:00:99:00:01 src=192.0.2.1 tpa=192.0.2.2 tha=02:00:00:00:01:03' \
  --packet vm-a1 'udp dst=198.51.100.53 sport=5353 dport=53'

banner "4. Errors a router owes: TTL exceeded"
"$trace" --topology "$one" \
  --packet vm-a1 'udp dst=10.0.1.11 ttl=1 dport=33434'

banner "5. Two tenants with the same addresses stay apart ($two)"
"$trace" --topology "$two" \
  --packet t1-vm1 'icmp dst=10.0.0.12' \
  --packet t2-vm1 'icmp dst=10.0.0.12'
