// Fuzzes applySetFields. Input layout: byte 0 gives the number of actions (0-3), then 3 bytes
// per action (kind in the low 7 bits, bit 7 = IPv6 address; value high; value low), then the
// frame. Whatever applies must leave a frame that parses to the rewritten key, and if every
// checksum verified before, it must still verify after.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "packet/actions.h"
#include "packet/checksum.h"
#include "packet/parser.h"

namespace {

using namespace loom::packet;  // NOLINT(google-build-using-namespace): fuzz target only.

void check(bool cond, const char* what) {
  if (!cond) {
    std::fprintf(stderr, "set_fields invariant broken: %s\n", what);
    std::abort();
  }
}

bool checksumsOk(const ParsedPacket& p) {
  if (!p.ok()) return false;
  if (p.fields.eth_type == kEthTypeIpv4 &&
      !ipv4HeaderChecksumOk(p.frame.subspan(p.l3_offset, p.ipv4_ihl * size_t{4}))) {
    return false;
  }
  return p.l4 == L4Kind::None || l4ChecksumOk(p);
}

SetField decodeAction(const uint8_t* b) {
  SetField a{.kind = static_cast<SetFieldKind>((b[0] & 0x7f) % 11)};
  a.value = static_cast<uint16_t>((b[1] << 8) | b[2]);
  a.mac = MacAddr::fromU64(0x020000000000ULL | a.value);
  if (b[0] & 0x80) {
    uint8_t v6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b[1], b[2]};
    a.ip = IpAddr::v6Bytes(v6);
  } else {
    a.ip = IpAddr::v4(0x0a000000U | a.value);
  }
  if (a.kind == SetFieldKind::NwTos || a.kind == SetFieldKind::NwTtl) a.value &= 0xff;
  return a;
}

// The key `fields` should have after `a`; false when the result is not predictable from the key
// alone (popping one of two tags exposes an inner id the key does not hold).
bool expect(FlowFields& f, const SetField& a, int& tags) {
  switch (a.kind) {
    case SetFieldKind::EthSrc: f.eth_src = a.mac; break;
    case SetFieldKind::EthDst: f.eth_dst = a.mac; break;
    case SetFieldKind::PushVlan:
      f.vlan_present = true;
      f.vlan_id = a.value & 0x0fff;
      ++tags;
      break;
    case SetFieldKind::PopVlan:
      if (--tags > 0) return false;
      f.vlan_present = false;
      f.vlan_id = 0;
      break;
    case SetFieldKind::SetVlan: f.vlan_id = a.value & 0x0fff; break;
    case SetFieldKind::NwSrc: f.nw_src = a.ip; break;
    case SetFieldKind::NwDst: f.nw_dst = a.ip; break;
    case SetFieldKind::NwTos: f.nw_tos = static_cast<uint8_t>(a.value); break;
    case SetFieldKind::NwTtl: f.nw_ttl = static_cast<uint8_t>(a.value); break;
    case SetFieldKind::TpSrc: f.tp_src = a.value; break;
    case SetFieldKind::TpDst: f.tp_dst = a.value; break;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  size_t count = data[0] % 4;
  if (size < 1 + 3 * count) return 0;
  std::vector<SetField> actions;
  for (size_t i = 0; i < count; ++i) actions.push_back(decodeAction(data + 1 + 3 * i));
  std::vector<uint8_t> frame(data + 1 + 3 * count, data + size);

  ParsedPacket before = parsePacket(frame);
  const bool verified = checksumsOk(before);
  FlowFields expected = before.fields;
  int tags = before.vlan_tags;
  bool predictable = true;
  for (const SetField& a : actions) predictable = expect(expected, a, tags) && predictable;
  for (const SetField& a : actions) check(!a.toString().empty(), "action prints");

  if (!applySetFields(frame, actions)) return 0;
  check(before.ok(), "applies only to frames that parse");
  ParsedPacket after = parsePacket(frame);
  check(after.ok(), "result parses");
  if (predictable) check(after.fields == expected, "result has the rewritten key");
  if (verified) check(checksumsOk(after), "checksums still verify");
  return 0;
}
