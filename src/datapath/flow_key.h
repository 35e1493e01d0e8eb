#pragma once
// Translation between the simulation's view of a flow (packet::FlowFields, packet::FieldMask,
// packet::SetFieldList) and the BPF flow table's (loom_flow_key, loom_mask, loom_flow_value).
//
// The contract that makes an installed flow correct: keyFromFields() must build, from the
// fields the parser extracted, byte for byte the key the BPF program builds from the same frame
// (bpf/loom_dp_abi.h). A field the two disagree on would make a flow that never hits (harmless
// but costly) or, worse, one that hits packets the simulation never saw. keyable() names the
// flows the BPF key cannot represent; those stay in userspace (LOOM_ACT_UPCALL or no flow).
//
// Assumptions shared with the BPF program (it upcalls what it does not key, reason SLOWPATH):
// frames are untagged, IPv4 has no options, IPv6 has no extension headers (so the key's nw_proto,
// "IPv6 first next-header", is the upper-layer protocol FlowFields carries). Callers that have
// the ParsedPacket should not install flows for frames outside these shapes either.

#include <cstdint>
#include <string>

#include "datapath/bpf/loom_dp_abi.h"
#include "packet/actions.h"
#include "packet/flow_match.h"

namespace loom::datapath {

// The full (unmasked) key of a packet with fields `f` arriving on `ifindex`; mask_id 0, padding
// zero.
loom_flow_key keyFromFields(uint32_t ifindex, const packet::FlowFields& f);

// The BPF mask for a megaflow FieldMask: 0xff bytes over every key field that represents a field
// of `m` (ArpSpa/ArpTpa share nw_src/nw_dst with NwSrc/NwDst). ifindex is always exact, mask_id
// 0. `m` should be normalized (packet::normalizeMask, as SimResult masks are): this function
// adds nothing, so a mask with NwSrc but without EthType would let an ARP packet with the same
// sender address hit an IPv4 flow. Fields with no place in the key (TunnelId, IcmpId) are
// ignored here; keyable() rejects masks that hold them.
loom_mask maskFromFieldMask(packet::FieldMask m);

// False, with a reason in *why (when non-null), when a flow with mask `m` for a packet with
// fields `f` cannot be installed in the BPF table: a userspace-only field or the tunnel id in
// the mask, IPv6 addresses in the mask (the key does not carry them), a VLAN-tagged packet (the
// program upcalls those), an ARP packet with a non-IPv4 address, an IPv4 packet whose masked
// address is not IPv4.
bool keyable(packet::FieldMask m, const packet::FlowFields& f, std::string* why = nullptr);

// key & mask (as the BPF program computes it), then mask_id: the key to install under slot
// `mask_id` of loom_masks.
loom_flow_key applyMask(const loom_flow_key& key, const loom_mask& mask, uint8_t mask_id);

// Fills v.sets / v.n_sets (clearing previous sets) from set-field actions. False, with a reason,
// when the BPF program cannot apply them: VLAN push/pop/set, IPv6 address rewrites, a TOS or TTL
// above 255, more than LOOM_MAX_SETS actions. On false, v.sets is unspecified.
bool setsFromActions(const packet::SetFieldList& actions, loom_flow_value& v,
                     std::string* why = nullptr);

// For people (`loom-agent ctl flows`), OVS-like. With a mask, prints only the fields the mask
// covers (a partially masked field as value/mask); without one, the fields that exist for the
// key's protocol: "in=7,eth_dst=02:00:00:00:00:0c,ipv4,nw_dst=10.0.0.12,tcp,tp_dst=80".
std::string keyToString(const loom_flow_key& key, const loom_mask* mask = nullptr);
// "forward sets=[eth_dst=02:..,ttl=63] out=[tunnel 198.18.0.2 key 5, local if 9] packets=3
// bytes=294", "drop reason=filter_drop packets=1 bytes=98", "upcall packets=0 bytes=0".
std::string valueToString(const loom_flow_value& v);

// Key equality over all 64 bytes (padding included: the agent always zeroes it).
bool keyEquals(const loom_flow_key& a, const loom_flow_key& b);
bool maskEquals(const loom_mask& a, const loom_mask& b);

}  // namespace loom::datapath
