// Fuzzes flow-key extraction: parse, build a FlowMatch, print it, hash it, normalize its mask,
// and for TCP/UDP/ICMP over IPv4 rebuild an equivalent frame with PacketBuilder and check that
// it parses to the same key with valid checksums.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <utility>

#include "packet/builder.h"
#include "packet/checksum.h"
#include "packet/flow_match.h"
#include "packet/parser.h"

namespace {

using namespace loom::packet;  // NOLINT(google-build-using-namespace): fuzz target only.

void check(bool cond, const char* what) {
  if (!cond) {
    std::fprintf(stderr, "flow_key invariant broken: %s\n", what);
    std::abort();
  }
}

void checkHash(const FlowMatch& m, const ParsedPacket& p) {
  const FlowFields& f = m.untracked();
  m.resetSeen();
  uint64_t h = m.symmetricHash();
  const FieldMask base = fieldBit(Field::NwSrc) | fieldBit(Field::NwDst) | fieldBit(Field::NwProto);
  const FieldMask allowed =
      base | fieldBit(Field::TpSrc) | fieldBit(Field::TpDst) | fieldBit(Field::IcmpId);
  check((m.seen() & base) == base, "hash reads addresses and protocol");
  check((m.seen() & ~allowed) == 0, "hash reads only the 5-tuple");
  FlowFields rev = f;
  std::swap(rev.nw_src, rev.nw_dst);
  std::swap(rev.tp_src, rev.tp_dst);
  check(FlowMatch(rev).symmetricHash() == h, "hash is symmetric");
  FieldMask seen = m.seen();
  FieldMask norm = normalizeMask(seen);
  check((norm & seen) == seen && normalizeMask(norm) == norm, "normalizeMask closure");
  check(!fieldMaskToString(norm).empty(), "mask prints");
  (void)p;
}

// Rebuilds TCP/UDP/ICMP over IPv4 (unfragmented) from its key and checks the key survives.
void checkRebuild(const ParsedPacket& p) {
  const FlowFields& f = p.fields;
  if (!p.ok() || f.eth_type != kEthTypeIpv4 || f.nw_frag != FragType::None) return;
  if (p.l4 == L4Kind::None || p.l4 == L4Kind::Icmpv6) return;
  PacketBuilder b;
  b.eth(f.eth_src, f.eth_dst);
  if (f.vlan_present) b.vlan(f.vlan_id);
  b.ipv4(f.nw_src, f.nw_dst).ttl(f.nw_ttl).tos(f.nw_tos);
  if (p.l4 == L4Kind::Tcp) {
    b.tcp(f.tp_src, f.tp_dst).tcpFlags(f.tcp_flags);
  } else if (p.l4 == L4Kind::Udp) {
    b.udp(f.tp_src, f.tp_dst);
  } else {
    b.icmp(f.icmp_type, f.icmp_code, uint32_t{f.icmp_id} << 16);
  }
  b.payload(p.frame.subspan(p.payload_offset, p.l3_end - p.payload_offset));
  std::vector<uint8_t> frame = b.build();
  ParsedPacket q = parsePacket(frame);
  check(q.ok(), "rebuilt frame parses");
  check(q.fields == f, "rebuilt frame has the same key");
  check(l4ChecksumOk(q), "rebuilt L4 checksum");
  check(ipv4HeaderChecksumOk(q.frame.subspan(q.l3_offset, 20)), "rebuilt IPv4 checksum");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> frame(data, size);
  ParsedPacket p = parsePacket(frame);
  FlowMatch m = flowMatchOf(p);
  check(m.seen() == 0, "fresh match has nothing seen");
  std::string text = m.toString();
  check(!text.empty(), "toString prints");
  check(m.seen() == 0, "toString is untracked");
  FieldMask mask = size > 0 ? (uint32_t{data[0]} * 0x01010101U) & kAllFields : kAllFields;
  (void)m.toString(mask);
  (void)m.toString(kAllFields);
  checkHash(m, p);
  checkRebuild(p);
  return 0;
}
