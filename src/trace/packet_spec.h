#pragma once
// A readable packet description for the trace tool, turned into a frame.
//
//   tcp src=10.0.0.11 dst=10.0.1.11 dport=80
//   icmp dst=10.0.1.1
//   arp tpa=10.0.0.12
//   udp src=10.0.0.11 dst=203.0.113.9 sport=5353 dport=53 ttl=1
//
// The first word is the protocol: tcp, udp, icmp (echo request), ip (no L4 header), ipv6,
// arp. Then key=value pairs:
//   eth_src, eth_dst   MACs. Defaults: eth_src is the ingress port's MAC; eth_dst is what the
//                      sender would resolve: the destination's MAC when it sits on the same
//                      bridge, else the MAC of the router port on the bridge whose subnet holds
//                      the source (the default gateway), else broadcast.
//   src, dst           IP addresses (src defaults to the ingress port's first address).
//   vlan, ttl, tos     numbers.  frag=first|later.  size=<payload bytes>.
//   sport, dport       TCP/UDP ports (default 40000 and 80).  flags=S|SA|A|F|R|P (TCP).
//   type, code, id, seq  ICMP fields (default echo request, id 1, seq 1).
//   op=request|reply, spa, tpa, sha, tha   ARP fields (default: request from the port; a
//                      reply without tha is a broadcast gratuitous reply).
// A key that does not apply to the protocol (flags on udp, ttl on arp) is an error.

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/snapshot.h"

namespace loom::trace {

// Builds the frame `spec` describes, entering through `ingress` of `topo` (used for the
// defaults above). InvalidArgument names the token at fault.
StatusOr<std::vector<uint8_t>> buildPacket(std::string_view spec,
                                           const model::TopologySnapshot& topo,
                                           model::Index ingress);

}  // namespace loom::trace
