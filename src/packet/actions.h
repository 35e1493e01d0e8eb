#pragma once
// Set-field actions: how a packet must change between ingress and an egress port.
//
// The simulation never emits these directly: it mutates a working FlowMatch, and diffFields()
// compares it with the original to produce the minimal list (MidoNet's "actions by diff").
// applySetFields() executes such a list on a frame, with checksums updated incrementally; the
// agent uses it when it re-injects the first packet of a flow.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "packet/flow_match.h"

namespace loom::packet {

enum class SetFieldKind : uint8_t {
  EthSrc,
  EthDst,
  PushVlan,  // value = VLAN id.
  PopVlan,
  SetVlan,  // Rewrite the id of the existing outer tag.
  NwSrc,
  NwDst,
  NwTos,
  NwTtl,
  TpSrc,
  TpDst,
};

struct SetField {
  SetFieldKind kind;
  MacAddr mac{};       // EthSrc, EthDst.
  IpAddr ip{};         // NwSrc, NwDst.
  uint16_t value = 0;  // Vlan id, TOS, TTL, port.

  friend bool operator==(const SetField&, const SetField&) = default;
  // "set(eth_dst=02:..)", "dec_ttl" is printed as "set(nw_ttl=63)", "push_vlan(10)".
  std::string toString() const;
};

using SetFieldList = std::vector<SetField>;

// Appends to `out` the set-field actions that turn `before` into `after`, in a fixed order (L2,
// VLAN, L3, L4). Fields that cannot be rewritten (eth_type, nw_proto, ARP fields...) are not
// compared. Returns the FieldMask of the fields it rewrote.
FieldMask diffFields(const FlowFields& before, const FlowFields& after, SetFieldList& out);

// Applies `actions` to `frame` in place (VLAN push/pop resize it). Updates the IPv4 header
// checksum and the TCP/UDP/ICMPv6 checksums incrementally (a zero UDP checksum, "none", stays
// zero). PushVlan inserts an 802.1Q tag (TPID 0x8100) as the new outer tag and fails when two
// tags are present; PopVlan removes the outer tag. Returns false, leaving `frame` unspecified,
// if the frame does not parse or an action does not apply (e.g. TpSrc on ICMP or on a later
// fragment, an IPv6 address on IPv4, a TOS or TTL above 255).
bool applySetFields(std::vector<uint8_t>& frame, std::span<const SetField> actions);

}  // namespace loom::packet
