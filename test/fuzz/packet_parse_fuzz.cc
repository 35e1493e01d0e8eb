// Fuzzes parsePacket: any byte string must parse without reading out of bounds, and the result
// must satisfy the ParsedPacket invariants (checked with a hard abort). Parses with and without
// VXLAN decoding, and parses a decoded VXLAN inner frame in turn.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "packet/checksum.h"
#include "packet/flow_match.h"
#include "packet/parser.h"

namespace {

using loom::packet::FragType;
using loom::packet::L4Kind;
using loom::packet::ParsedPacket;
using loom::packet::ParseError;
using loom::packet::ParseOptions;

void check(bool cond, const char* what) {
  if (!cond) {
    std::fprintf(stderr, "packet_parse invariant broken: %s\n", what);
    std::abort();
  }
}

void checkInvariants(const ParsedPacket& p, std::span<const uint8_t> frame) {
  constexpr uint16_t kAbsent = ParsedPacket::kAbsent;
  const size_t n = frame.size();
  check(p.frame.data() == frame.data() && p.frame.size() == n, "frame span is the input");
  check(p.error < ParseError::Count, "error in range");
  check(loom::packet::parseErrorName(p.error) != nullptr, "error name");
  check(p.l3_end <= n, "l3_end <= frame.size()");
  check(p.vlan_tags <= loom::packet::kMaxVlanTags, "vlan tags bounded");
  check(p.ipv6_ext_headers <= loom::packet::kMaxIpv6ExtHeaders, "ext headers bounded");
  if (p.l3_offset != kAbsent) check(p.l3_offset <= n, "l3_offset within frame");
  if (p.ok() && p.l3_offset != kAbsent) check(p.l3_offset < p.l3_end, "l3_offset < l3_end");
  if (p.l4_offset != kAbsent) {
    check(p.l3_offset != kAbsent && p.l3_offset < p.l4_offset, "l3 before l4");
    check(p.payload_offset != kAbsent, "payload with l4");
    check(p.l4_offset <= p.payload_offset, "l4_offset <= payload_offset");
    check(p.payload_offset <= p.l3_end, "payload_offset <= l3_end");
    check(p.l4 != L4Kind::None, "l4 kind with l4 offset");
  } else {
    check(p.payload_offset == kAbsent, "no payload without l4");
    check(p.l4 == L4Kind::None, "no l4 kind without l4 offset");
  }
  const auto& f = p.fields;
  if (f.nw_frag == FragType::Later) {
    check(p.l4 == L4Kind::None && f.tp_src == 0 && f.tp_dst == 0, "later fragment has no L4");
  }
  if (p.l4 != L4Kind::Tcp && p.l4 != L4Kind::Udp) {
    check(f.tp_src == 0 && f.tp_dst == 0, "ports only for TCP/UDP");
  }
  if (p.l4 != L4Kind::Tcp) check(f.tcp_flags == 0, "tcp flags only for TCP");
  check(f.tcp_flags <= 0x1ff, "tcp flags 9 bits");
  check(!f.vlan_present || f.vlan_id <= 0x0fff, "vlan id 12 bits");
  if (p.vxlan) {
    check(p.l4 == L4Kind::Udp && f.tp_dst == loom::packet::kVxlanPort, "vxlan over udp/4789");
    check(p.vxlan_inner_offset <= p.l3_end, "vxlan inner within datagram");
    check(p.vni <= 0xffffff, "vni 24 bits");
  } else {
    check(p.vxlanInner().empty(), "no inner frame without vxlan");
  }
  check(p.ipDatagram().size() <= n, "datagram within frame");
  // Exercise the checksum readers on whatever parsed.
  if (p.ok() && f.eth_type == loom::packet::kEthTypeIpv4) {
    (void)loom::packet::ipv4HeaderChecksumOk(frame.subspan(p.l3_offset, p.ipv4_ihl * size_t{4}));
  }
  if (p.ok() && p.l4 != L4Kind::None) (void)loom::packet::l4ChecksumOk(p);
}

void parseAndCheck(std::span<const uint8_t> frame, int depth) {
  for (bool vxlan : {false, true}) {
    ParsedPacket p = loom::packet::parsePacket(frame, ParseOptions{.decode_vxlan = vxlan});
    checkInvariants(p, frame);
    ParsedPacket again = loom::packet::parsePacket(frame, ParseOptions{.decode_vxlan = vxlan});
    check(again.fields == p.fields && again.error == p.error, "parse is deterministic");
    if (p.vxlan && depth < 2) parseAndCheck(p.vxlanInner(), depth + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  parseAndCheck(std::span<const uint8_t>(data, size), 0);
  return 0;
}
