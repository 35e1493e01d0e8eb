#!/usr/bin/env bash
# End-to-end: garbage from a VM. a1 sends malformed frames on its eth0 (raw AF_PACKET): runts,
# bad IPv4 headers, truncated L4 headers, fragments, spoofed a2, bogus ethertypes, VLAN tags
# and 10,000 random frames. Afterwards h1's agent is the same live process and answers, a1 still
# reaches a2 and b1, and tenant B (x1 on h1, x2 on h2) received none of it.
#   E2E_MALFORMED_SEED  random seed (default: random, printed)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init malformed
e2e_two_tenants 1450

seed=${E2E_MALFORMED_SEED:-$RANDOM$RANDOM}
A1_MAC=02:e2:0a:00:00:11 A2_MAC=02:e2:0a:00:00:12 R1_MAC=02:e2:0a:ff:00:01

wait_until 10 "a1 pings a2" vm_ping a1 10.0.0.12
wait_until 10 "a1 pings b1" vm_ping a1 10.0.1.11
wait_until 10 "x1 pings x2" vm_ping x1 10.0.0.12
agent1=$(e2e_agent_pid 1)
upcalls0=$(metric_value "$(agent_metrics 1 2>/dev/null || true)" loom_agent_upcalls_total)

cat >"$E2E_WORK/garbage.py" <<'PY'
# garbage.py IFACE SEED A1_MAC A2_MAC R1_MAC: sends malformed frames; prints what it sent.
import random, socket, struct, sys

iface, seed = sys.argv[1], int(sys.argv[2])
a1, a2, r1 = (bytes.fromhex(m.replace(":", "")) for m in sys.argv[3:6])
bcast = b"\xff" * 6
rng = random.Random(seed)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
counts = {}

def send(kind, frame):
    try:
        s.send(frame)
        counts[kind] = counts.get(kind, 0) + 1
    except OSError as e:  # Runts below the Ethernet header length are refused by the kernel.
        counts[kind + " (refused: " + e.strerror + ")"] = counts.get(kind + " (refused: " + e.strerror + ")", 0) + 1

def csum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while t >> 16:
        t = (t & 0xFFFF) + (t >> 16)
    return ~t & 0xFFFF

def ip4(src, dst, proto, payload, ihl=5, total=None, frag=0, opts=b"", ttl=64):
    total = (ihl * 4 + len(payload)) if total is None else total
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | (ihl & 0xF), 0, total & 0xFFFF, rng.randrange(65536),
                    frag, ttl, proto, 0, socket.inet_aton(src), socket.inet_aton(dst)) + opts
    h = h[:10] + struct.pack("!H", csum(h[:20])) + h[12:]
    return h + payload

def eth(dst, src, etype, payload):
    return dst + src + struct.pack("!H", etype) + payload

A1, A2, B1, R = "10.0.0.11", "10.0.0.12", "10.0.1.11", "10.0.0.1"
# Runts: shorter than an Ethernet header, exactly a header, a header and a few bytes.
for n in range(0, 14):
    send("runt <14", bytes(rng.randrange(256) for _ in range(n)))
for dst in (a2, bcast, r1):
    send("header only", eth(dst, a1, 0x0800, b""))
    send("ipv4 stub", eth(dst, a1, 0x0800, b"\x45\x00"))
    send("arp stub", eth(dst, a1, 0x0806, b"\x00\x01\x08\x00"))
# Bad IPv4 headers, to a2 (bridged) and to r1 (routed towards b1).
for dst_mac, dst_ip in ((a2, A2), (r1, B1)):
    icmp = struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"x" * 16
    send("ihl 3", eth(dst_mac, a1, 0x0800, ip4(A1, dst_ip, 1, icmp, ihl=3)))
    send("ihl 0", eth(dst_mac, a1, 0x0800, ip4(A1, dst_ip, 1, icmp, ihl=0)))
    send("ihl 15, no options", eth(dst_mac, a1, 0x0800, ip4(A1, dst_ip, 1, b"", ihl=15)))
    send("version 6 in an IPv4 frame", eth(dst_mac, a1, 0x0800, b"\x65" + ip4(A1, dst_ip, 1, icmp)[1:]))
    send("total length > frame", eth(dst_mac, a1, 0x0800, ip4(A1, dst_ip, 1, icmp, total=1400)))
    send("total length < header", eth(dst_mac, a1, 0x0800, ip4(A1, dst_ip, 1, icmp, total=12)))
    send("ttl 0", eth(dst_mac, a1, 0x0800, ip4(A1, dst_ip, 1, icmp, ttl=0)))
    send("ttl 1", eth(dst_mac, a1, 0x0800, ip4(A1, dst_ip, 1, icmp, ttl=1)))
    send("truncated TCP (8 bytes)", eth(dst_mac, a1, 0x0800, ip4(A1, dst_ip, 6, struct.pack("!HHI", 40000, 22, 1))))
    send("truncated TCP (data offset 15)", eth(dst_mac, a1, 0x0800, ip4(A1, dst_ip, 6,
         struct.pack("!HHIIBBHHH", 40000, 22, 1, 0, 0xF0, 0x02, 1024, 0, 0))))
    send("truncated UDP (4 bytes)", eth(dst_mac, a1, 0x0800, ip4(A1, dst_ip, 17, struct.pack("!HH", 40000, 53))))
    send("UDP length > datagram", eth(dst_mac, a1, 0x0800, ip4(A1, dst_ip, 17, struct.pack("!HHHH", 40000, 53, 900, 0))))
    send("truncated ICMP (1 byte)", eth(dst_mac, a1, 0x0800, ip4(A1, dst_ip, 1, b"\x08")))
    send("first fragment", eth(dst_mac, a1, 0x0800, ip4(A1, dst_ip, 6, b"\0" * 24, frag=0x2000)))
    send("later fragment", eth(dst_mac, a1, 0x0800, ip4(A1, dst_ip, 6, b"\0" * 24, frag=0x0010)))
    send("unknown IP protocol 253", eth(dst_mac, a1, 0x0800, ip4(A1, dst_ip, 253, b"junk")))
    send("IPv4 options", eth(dst_mac, a1, 0x0800, ip4(A1, dst_ip, 1, icmp, ihl=6, opts=b"\x01\x01\x01\x00")))
    send("source 0.0.0.0", eth(dst_mac, a1, 0x0800, ip4("0.0.0.0", dst_ip, 1, icmp)))
    send("source broadcast", eth(dst_mac, a1, 0x0800, ip4("255.255.255.255", dst_ip, 1, icmp)))
    send("destination multicast", eth(dst_mac, a1, 0x0800, ip4(A1, "224.0.0.1", 1, icmp)))
# ARP oddities: bad lengths, a request from a spoofed sender, a reply to nobody.
send("ARP hlen 0", eth(bcast, a1, 0x0806, struct.pack("!HHBBH", 1, 0x0800, 0, 4, 1) + b"\0" * 20))
send("ARP truncated", eth(bcast, a1, 0x0806, struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + a1))
# Spoofing a2: its source MAC and IP, from a1's port.
arp_claim = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) + a2 + socket.inet_aton(A2) + bcast + socket.inet_aton(A2)
icmp = struct.pack("!BBHHH", 8, 0, 0, 7, 7) + b"spoof" * 4
icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
for _ in range(3):
    send("spoofed a2: gratuitous ARP", eth(bcast, a2, 0x0806, arp_claim))
    send("spoofed a2: ping to r1", eth(r1, a2, 0x0800, ip4(A2, R, 1, icmp)))
    send("spoofed a2: ping to b1", eth(r1, a2, 0x0800, ip4(A2, B1, 1, icmp)))
    send("spoofed a2: to broadcast", eth(bcast, a2, 0x0800, ip4(A2, "10.0.0.255", 1, icmp)))
# Bogus ethertypes, VLAN tags, an 802.3 length field, IPv6.
for et in (0x0000, 0x05DC, 0x88B5, 0xFFFF, 0x86DD):
    for dst in (a2, bcast, r1):
        send("ethertype 0x%04x" % et, eth(dst, a1, et, b"\0" * 46))
for dst in (a2, bcast, r1):
    send("802.1Q tagged", eth(dst, a1, 0x8100, struct.pack("!HH", 5, 0x0800) + ip4(A1, B1, 1, icmp)))
    send("802.1ad double tagged", eth(dst, a1, 0x88A8, struct.pack("!HHHH", 5, 0x8100, 6, 0x0800) + ip4(A1, B1, 1, icmp)))
# Frames from reserved source MACs.
send("multicast source MAC", eth(a2, b"\x01\x00\x5e\x00\x00\x01", 0x0800, ip4(A1, A2, 1, icmp)))
send("zero source MAC", eth(a2, b"\0" * 6, 0x0800, ip4(A1, A2, 1, icmp)))
send("zero destination MAC", eth(b"\0" * 6, a1, 0x0800, ip4(A1, A2, 1, icmp)))
# 10,000 random frames: a third fully random, a third IPv4-ish to a2/r1/broadcast, a third
# ARP-ish; lengths 14 to 1464 (eth0's MTU 1450 + header).
for i in range(10000):
    n = rng.randrange(14, 1465)
    body = bytes(rng.getrandbits(8) for _ in range(n - 14))
    k = i % 3
    if k == 0:
        send("random", bytes(rng.getrandbits(8) for _ in range(14)) + body)
    elif k == 1:
        send("random IPv4", eth(rng.choice((a2, r1, bcast)), a1, 0x0800, body))
    else:
        send("random ARP", eth(rng.choice((a2, r1, bcast)), a1, 0x0806, body))
for k in sorted(counts):
    print("%6d  %s" % (counts[k], k))
print("total %d" % sum(counts.values()))
PY

x1_rx0=$(vm_rx_packets x1)
x2_rx0=$(vm_rx_packets x2)
echo "== sending garbage from a1 (seed $seed)"
if vm_exec a1 python3 "$E2E_WORK/garbage.py" eth0 "$seed" "$A1_MAC" "$A2_MAC" "$R1_MAC" \
  >"$E2E_WORK/garbage.out" 2>&1; then
  e2e_pass "garbage sent ($(tail -n 1 "$E2E_WORK/garbage.out"))"
else
  e2e_fail "garbage sender failed" "$E2E_WORK/garbage.out"
fi
sed 's/^/   /' "$E2E_WORK/garbage.out"
sleep 2

expect_ok "h1's agent is the same live process ($agent1)" kill -0 "$agent1"
expect_eq "h1's agent pid unchanged" "$agent1" "$(e2e_agent_pid 1)"
expect_match "h1's agent answers status" '^flows [0-9]+' "$(agent_ctl 1 status 2>&1 || true)"
for n in 2 3; do expect_ok "agent h$n still running" kill -0 "$(e2e_agent_pid "$n")"; done
metrics=$(agent_metrics 1 2>&1 || true)
upcalls1=$(metric_value "$metrics" loom_agent_upcalls_total)
expect_ok "h1's metrics answer (upcalls ${upcalls0:-?} -> ${upcalls1:-?})" test -n "$upcalls1"
printf '%s\n' "$metrics" | grep -E '^loom_drops_total.* [1-9]' | sed 's/^/   /' || true
# Tenant B saw nothing. Measured before any new tenant-B traffic.
expect_eq "x1 (tenant B, on h1) received none of it" "$x1_rx0" "$(vm_rx_packets x1)"
expect_eq "x2 (tenant B, on h2) received none of it" "$x2_rx0" "$(vm_rx_packets x2)"
# a1 still works; the spoofed a2 frames must not have stolen a2's traffic for good.
wait_until 15 "a1 pings a2 after the garbage" vm_ping a1 10.0.0.12 2
wait_until 10 "a1 pings b1 after the garbage" vm_ping a1 10.0.1.11 2
expect_ok "x1 pings x2 after the garbage" vm_ping x1 10.0.0.12 2
expect_ok "every live host applied the topology" ctl wait-sync --timeout 20s

e2e_finish
