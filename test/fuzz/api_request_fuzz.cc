// Fuzz target: untrusted API request bytes -> the request decoder (src/api/request_decoder.h).
// Byte 0 picks what the rest is: a JSON body for one of the ten kinds, a sync / trace /
// binding body, or query parameters ("name=value&..."). Must never crash, whatever the bytes;
// an object the decoder accepts must survive a protobuf round trip and decode again.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/reply.h"
#include "api/request_decoder.h"
#include "store/keys.h"

namespace {

using loom::api::QueryParams;

QueryParams splitQuery(std::string_view s) {
  QueryParams out;
  while (!s.empty()) {
    size_t amp = s.find('&');
    std::string_view part = s.substr(0, amp);
    size_t eq = part.find('=');
    out.emplace_back(std::string(part.substr(0, eq)),
                     eq == std::string_view::npos ? "" : std::string(part.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    s.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const unsigned mode = selector % 16;
  if (mode < loom::store::kKindCount) {
    auto kind = static_cast<loom::store::Kind>(mode);
    auto object = loom::api::decodeObject(kind, rest);
    if (!object.ok()) {
      (void)loom::api::errorReply(object.status());
      return 0;
    }
    // Accepted: it prints as JSON the decoder accepts again, with the same content.
    std::string printed = loom::api::objectJson(*object).dump();
    auto again = loom::api::decodeObject(kind, printed);
    if (!again.ok() || again->SerializeAsString() != object->SerializeAsString()) {
      __builtin_trap();
    }
    return 0;
  }
  switch (mode) {
    case 10: (void)loom::api::decodeSyncRequest(rest); break;
    case 11: (void)loom::api::decodeTraceRequest(rest); break;
    case 12: (void)loom::api::decodeBindingRequest(rest); break;
    case 13: {
      auto list = loom::api::decodeListQuery(splitQuery(rest));
      if (!list.ok()) (void)loom::api::errorReply(list.status());
      break;
    }
    case 14:
      (void)loom::api::decodeDeleteQuery(splitQuery(rest));
      (void)loom::api::decodeCreateQuery(loom::store::Kind::Rule, splitQuery(rest));
      break;
    default: (void)loom::api::decodeIfMatch(rest); break;
  }
  return 0;
}
