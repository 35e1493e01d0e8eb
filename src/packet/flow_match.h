#pragma once
// FlowMatch: the flow key of one packet, with read tracking.
//
// Every tracked accessor records the field it returns in a "seen" mask. The simulation reads
// packet fields only through these accessors, so at the end the seen mask is exactly the set of
// fields the decision depended on: that becomes the megaflow mask (MidoNet's "fields seen").
// Code that must look without widening the match (trace printing, action diffing) uses
// untracked(). Setters never mark a field as seen; they record it in written() (a field a device
// writes belongs in the mask even when the write changed nothing), and a set-field action forces
// its layer into the mask through normalizeMask().
//
// Conventions, as in the Linux/OVS flow key:
//  - eth_type is the type after any 802.1Q tag; vlan_present/vlan_id describe the outer tag.
//  - nw_* describe IPv4 or IPv6 (family from eth_type); nw_frag is derived from the fragment
//    fields (IPv4 MF/offset, IPv6 fragment header).
//  - tp_src/tp_dst are TCP/UDP ports, zero for other protocols and for later fragments.
//  - icmp_* hold ICMPv4 or ICMPv6 type and code; icmp_id is the echo identifier (0 if none).
//  - arp_* hold the ARP opcode and addresses (eth_type 0x0806).

#include <cstdint>
#include <string>

#include "packet/addr.h"

namespace loom::packet {

inline constexpr uint16_t kEthTypeIpv4 = 0x0800;
inline constexpr uint16_t kEthTypeArp = 0x0806;
inline constexpr uint16_t kEthTypeVlan = 0x8100;
inline constexpr uint16_t kEthTypeQinQ = 0x88a8;
inline constexpr uint16_t kEthTypeIpv6 = 0x86dd;

inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;
inline constexpr uint8_t kIpProtoIcmpv6 = 58;

inline constexpr uint16_t kArpOpRequest = 1;
inline constexpr uint16_t kArpOpReply = 2;

enum class FragType : uint8_t {
  None = 0,   // Not a fragment.
  First = 1,  // Offset 0 with more fragments: carries the L4 header.
  Later = 2,  // Offset > 0: no L4 header.
};

// One bit per field in a FieldMask. Order matters only for printing.
enum class Field : uint8_t {
  TunnelId,
  EthSrc,
  EthDst,
  Vlan,  // vlan_present and vlan_id together.
  EthType,
  NwSrc,
  NwDst,
  NwProto,
  NwTos,
  NwTtl,
  NwFrag,
  TpSrc,
  TpDst,
  IcmpType,
  IcmpCode,
  IcmpId,  // Userspace-only: a fast path keyed without it cannot honour a flow that read it.
  ArpOp,
  ArpSha,
  ArpTha,
  ArpSpa,
  ArpTpa,
  TcpFlags,
  Count,
};

using FieldMask = uint32_t;
static_assert(static_cast<int>(Field::Count) <= 32);

constexpr FieldMask fieldBit(Field f) { return FieldMask{1} << static_cast<unsigned>(f); }
inline constexpr FieldMask kAllFields = (FieldMask{1} << static_cast<unsigned>(Field::Count)) - 1;
// Fields a BPF flow key cannot carry: a flow that read one of them must stay in userspace.
inline constexpr FieldMask kUserspaceOnlyFields = fieldBit(Field::IcmpId);

const char* fieldName(Field f);
// "eth_src,eth_dst,eth_type" (empty string for 0).
std::string fieldMaskToString(FieldMask m);

// Makes a mask well formed, as MidoNet's FlowMask.calculateFor does: any L3 field implies
// eth_type; any L4 field implies nw_proto and eth_type; any ARP field implies eth_type. Used on
// the final mask, after set-field actions have added their own fields.
FieldMask normalizeMask(FieldMask m);

struct FlowFields {
  uint64_t tunnel_id = 0;
  MacAddr eth_src;
  MacAddr eth_dst;
  bool vlan_present = false;
  uint16_t vlan_id = 0;
  uint16_t eth_type = 0;
  IpAddr nw_src;
  IpAddr nw_dst;
  uint8_t nw_proto = 0;
  uint8_t nw_tos = 0;  // DSCP and ECN (IPv4 TOS / IPv6 traffic class).
  uint8_t nw_ttl = 0;  // IPv4 TTL / IPv6 hop limit.
  FragType nw_frag = FragType::None;
  uint16_t tp_src = 0;
  uint16_t tp_dst = 0;
  uint8_t icmp_type = 0;
  uint8_t icmp_code = 0;
  uint16_t icmp_id = 0;
  uint16_t arp_op = 0;
  MacAddr arp_sha;
  MacAddr arp_tha;
  IpAddr arp_spa;
  IpAddr arp_tpa;
  uint16_t tcp_flags = 0;  // Low 9 bits of TCP byte 12-13: NS (0x100), CWR .. FIN (0x001).

  friend bool operator==(const FlowFields&, const FlowFields&) = default;
};

class FlowMatch {
 public:
  FlowMatch() = default;
  explicit FlowMatch(const FlowFields& f) : f_(f) {}

  // --- Tracked reads: each records its field in seen(). ---
  uint64_t tunnelId() const { return see(Field::TunnelId, f_.tunnel_id); }
  MacAddr ethSrc() const { return see(Field::EthSrc, f_.eth_src); }
  MacAddr ethDst() const { return see(Field::EthDst, f_.eth_dst); }
  bool vlanPresent() const { return see(Field::Vlan, f_.vlan_present); }
  uint16_t vlanId() const { return see(Field::Vlan, f_.vlan_id); }
  uint16_t ethType() const { return see(Field::EthType, f_.eth_type); }
  const IpAddr& nwSrc() const { return see(Field::NwSrc, f_.nw_src); }
  const IpAddr& nwDst() const { return see(Field::NwDst, f_.nw_dst); }
  uint8_t nwProto() const { return see(Field::NwProto, f_.nw_proto); }
  uint8_t nwTos() const { return see(Field::NwTos, f_.nw_tos); }
  uint8_t nwTtl() const { return see(Field::NwTtl, f_.nw_ttl); }
  FragType nwFrag() const { return see(Field::NwFrag, f_.nw_frag); }
  uint16_t tpSrc() const { return see(Field::TpSrc, f_.tp_src); }
  uint16_t tpDst() const { return see(Field::TpDst, f_.tp_dst); }
  uint8_t icmpType() const { return see(Field::IcmpType, f_.icmp_type); }
  uint8_t icmpCode() const { return see(Field::IcmpCode, f_.icmp_code); }
  uint16_t icmpId() const { return see(Field::IcmpId, f_.icmp_id); }
  uint16_t arpOp() const { return see(Field::ArpOp, f_.arp_op); }
  MacAddr arpSha() const { return see(Field::ArpSha, f_.arp_sha); }
  MacAddr arpTha() const { return see(Field::ArpTha, f_.arp_tha); }
  const IpAddr& arpSpa() const { return see(Field::ArpSpa, f_.arp_spa); }
  const IpAddr& arpTpa() const { return see(Field::ArpTpa, f_.arp_tpa); }
  uint16_t tcpFlags() const { return see(Field::TcpFlags, f_.tcp_flags); }

  // Convenience predicates (tracked through the fields they read).
  bool isIpv4() const { return ethType() == kEthTypeIpv4; }
  bool isIpv6() const { return ethType() == kEthTypeIpv6; }
  bool isIp() const {
    uint16_t t = ethType();
    return t == kEthTypeIpv4 || t == kEthTypeIpv6;
  }
  bool isArp() const { return ethType() == kEthTypeArp; }
  // Protocol carries ports (TCP/UDP); reads eth_type and nw_proto.
  bool hasPorts() const {
    if (!isIp()) return false;
    uint8_t p = nwProto();
    return p == kIpProtoTcp || p == kIpProtoUdp;
  }
  bool isIcmp() const {
    uint16_t t = ethType();
    if (t == kEthTypeIpv4) return nwProto() == kIpProtoIcmp;
    if (t == kEthTypeIpv6) return nwProto() == kIpProtoIcmpv6;
    return false;
  }

  // A connection hash that is symmetric (A->B equals B->A): the unordered pair of (address,
  // port) endpoints plus the protocol. Reads the 5-tuple (addresses, proto, ports or ICMP id).
  uint64_t symmetricHash() const;

  // --- Writes: never marked as seen; each records its field in written(). ---
  void setEthSrc(MacAddr m) { write(Field::EthSrc, f_.eth_src, m); }
  void setEthDst(MacAddr m) { write(Field::EthDst, f_.eth_dst, m); }
  void setVlan(bool present, uint16_t id) {
    written_ |= fieldBit(Field::Vlan);
    f_.vlan_present = present;
    f_.vlan_id = present ? id : 0;
  }
  void setNwSrc(const IpAddr& a) { write(Field::NwSrc, f_.nw_src, a); }
  void setNwDst(const IpAddr& a) { write(Field::NwDst, f_.nw_dst, a); }
  void setNwTos(uint8_t t) { write(Field::NwTos, f_.nw_tos, t); }
  void setNwTtl(uint8_t t) { write(Field::NwTtl, f_.nw_ttl, t); }
  void setTpSrc(uint16_t p) { write(Field::TpSrc, f_.tp_src, p); }
  void setTpDst(uint16_t p) { write(Field::TpDst, f_.tp_dst, p); }
  void setTunnelId(uint64_t id) { write(Field::TunnelId, f_.tunnel_id, id); }
  // Neither seen nor written: for tests that build keys.
  FlowFields& mutableFields() { return f_; }
  // The fields set through the setters above. Actions are the diff of the packet as it leaves
  // against the packet as it entered, so a write that left a field as it was has no action: a
  // flow must then match on that field, or it would not rewrite a packet that has another value.
  FieldMask written() const { return written_; }

  // --- Untracked access, for tracing, diffing and tests. ---
  const FlowFields& untracked() const { return f_; }
  FieldMask seen() const { return seen_; }
  void addSeen(FieldMask m) const { seen_ |= m; }
  void resetSeen() const { seen_ = 0; }

  // Human-readable, OVS-like, untracked. Prints the fields that exist for the packet's type,
  // optional ones (tunnel_id, vlan, nw_tos, nw_frag, tcp_flags, icmp_id) only when non-zero:
  // "eth_src=..,eth_dst=..,ipv4,nw_src=..,nw_dst=..,nw_proto=6,nw_ttl=64,tcp,tp_src=..,tp_dst=80".
  // Non-IP, non-ARP frames print "eth_type=0x88b5" instead of the protocol word.
  std::string toString() const;
  // Only the fields in `mask`, in Field order, each as "name=value" ("vlan=none" when absent).
  std::string toString(FieldMask mask) const;

  // Compares fields, not the seen mask.
  friend bool operator==(const FlowMatch& a, const FlowMatch& b) { return a.f_ == b.f_; }

 private:
  template <typename T>
  const T& see(Field f, const T& v) const {
    seen_ |= fieldBit(f);
    return v;
  }
  template <typename T>
  void write(Field f, T& field, const T& v) {
    written_ |= fieldBit(f);
    field = v;
  }

  FlowFields f_;
  mutable FieldMask seen_ = 0;
  FieldMask written_ = 0;
};

}  // namespace loom::packet
