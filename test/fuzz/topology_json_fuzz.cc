// Fuzz target: untrusted topology JSON -> schema -> snapshot -> route lookups.
// Must never crash, leak or trip a sanitizer, whatever the bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "model/json.h"
#include "model/snapshot.h"

namespace {

using loom::model::IpAddr;

// A few destinations and sources of both families, some derived from the input so lookups hit
// the configured prefixes.
std::vector<IpAddr> probeAddresses(const loom::model::TopologySnapshot& s) {
  std::vector<IpAddr> out = {
      IpAddr::v4(0),           IpAddr::v4(0x0a000001U),   IpAddr::v4(0xc0000201U),
      IpAddr::v4(0xffffffffU), *IpAddr::parse("fd00::1"), *IpAddr::parse("::"),
  };
  for (const auto& router : s.routers()) {
    for (const auto& r : router.routes) {
      if (out.size() >= 32) break;
      out.push_back(r.dst.addr);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto topology = loom::model::topologyFromJson(text);
  if (!topology.ok()) return 0;
  loom::model::SnapshotPtr snap = loom::model::buildSnapshot(*topology, 1);
  for (const auto& p : snap->problems()) (void)p.toString();

  std::vector<IpAddr> probes = probeAddresses(*snap);
  std::vector<const loom::model::Route*> out;
  for (const auto& router : snap->routers()) {
    for (const IpAddr& dst : probes) {
      for (size_t k = 0; k < 3 && k < probes.size(); ++k) {
        if (router.table(dst).lookup(dst, probes[k], out)) {
          for (const auto* r : out) (void)r->toString();
        }
      }
    }
  }
  // Whatever was accepted must print as JSON that parses back.
  if (!loom::model::topologyFromJson(loom::model::topologyToJson(*topology)).ok()) {
    __builtin_trap();
  }
  return 0;
}
