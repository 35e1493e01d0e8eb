// Key layout and the StoredObject envelope codec (keys.h).
#include "store/keys.h"

#include "etcd/client.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <array>
#include <limits>

namespace loom::store {
namespace {

constexpr std::array<std::string_view, kKindCount> kKindNames = {
    "bridge", "router",     "port",          "route", "chain",
    "rule",   "port_group", "ip_addr_group", "host",  "tunnel_zone",
};

// Splits `rest` at the first '/': returns the head and leaves the tail in `rest`; nullopt when
// there is no '/' (then `rest` is unchanged).
std::optional<std::string_view> takeSegment(std::string_view& rest) {
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view head = rest.substr(0, slash);
  rest.remove_prefix(slash + 1);
  return head;
}

bool consumePrefix(std::string_view& s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix) return false;
  s.remove_prefix(prefix.size());
  return true;
}

bool validIdSegment(std::string_view id) {
  return !id.empty() && id.find('/') == std::string_view::npos;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr std::string_view kHexDigits = "0123456789abcdef";

// The 12 lower-case hex digits of a MAC in any form canonicalMac() accepts.
std::optional<std::string> macHex(std::string_view mac) {
  std::string hex;
  if (mac.size() == 12) {
    hex.assign(mac);
  } else if (mac.size() == 17) {
    const char sep = mac[2];
    if (sep != ':' && sep != '-') return std::nullopt;
    for (size_t i = 0; i < 17; ++i) {
      if (i % 3 == 2) {
        if (mac[i] != sep) return std::nullopt;
      } else {
        hex += mac[i];
      }
    }
  } else {
    return std::nullopt;
  }
  for (char& c : hex) {
    const int v = hexValue(c);
    if (v < 0) return std::nullopt;
    c = kHexDigits[static_cast<size_t>(v)];
  }
  return hex;
}

// A canonical decimal uint32 (no sign, no leading zeros).
std::optional<uint32_t> parseDecimal(std::string_view s) {
  if (s.empty() || s.size() > 10 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  uint64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value > std::numeric_limits<uint32_t>::max()) return std::nullopt;
  return static_cast<uint32_t>(value);
}

}  // namespace

std::string_view kindName(Kind kind) { return kKindNames[static_cast<size_t>(kind)]; }

std::optional<Kind> kindFromName(std::string_view name) {
  for (size_t i = 0; i < kKindCount; ++i) {
    if (kKindNames[i] == name) return static_cast<Kind>(i);
  }
  return std::nullopt;
}

std::optional<Kind> kindOf(const v1::StoredObject& object) {
  switch (object.object_case()) {
    case v1::StoredObject::kBridge: return Kind::Bridge;
    case v1::StoredObject::kRouter: return Kind::Router;
    case v1::StoredObject::kPort: return Kind::Port;
    case v1::StoredObject::kRoute: return Kind::Route;
    case v1::StoredObject::kChain: return Kind::Chain;
    case v1::StoredObject::kRule: return Kind::Rule;
    case v1::StoredObject::kPortGroup: return Kind::PortGroup;
    case v1::StoredObject::kIpAddrGroup: return Kind::IpAddrGroup;
    case v1::StoredObject::kHost: return Kind::Host;
    case v1::StoredObject::kTunnelZone: return Kind::TunnelZone;
    case v1::StoredObject::OBJECT_NOT_SET: break;
  }
  return std::nullopt;
}

const google::protobuf::Message* payload(const v1::StoredObject& object) {
  switch (object.object_case()) {
    case v1::StoredObject::kBridge: return &object.bridge();
    case v1::StoredObject::kRouter: return &object.router();
    case v1::StoredObject::kPort: return &object.port();
    case v1::StoredObject::kRoute: return &object.route();
    case v1::StoredObject::kChain: return &object.chain();
    case v1::StoredObject::kRule: return &object.rule();
    case v1::StoredObject::kPortGroup: return &object.port_group();
    case v1::StoredObject::kIpAddrGroup: return &object.ip_addr_group();
    case v1::StoredObject::kHost: return &object.host();
    case v1::StoredObject::kTunnelZone: return &object.tunnel_zone();
    case v1::StoredObject::OBJECT_NOT_SET: break;
  }
  return nullptr;
}

google::protobuf::Message* mutablePayload(v1::StoredObject& object, Kind kind) {
  switch (kind) {
    case Kind::Bridge: return object.mutable_bridge();
    case Kind::Router: return object.mutable_router();
    case Kind::Port: return object.mutable_port();
    case Kind::Route: return object.mutable_route();
    case Kind::Chain: return object.mutable_chain();
    case Kind::Rule: return object.mutable_rule();
    case Kind::PortGroup: return object.mutable_port_group();
    case Kind::IpAddrGroup: return object.mutable_ip_addr_group();
    case Kind::Host: return object.mutable_host();
    case Kind::TunnelZone: return object.mutable_tunnel_zone();
  }
  return nullptr;
}

std::string objectId(const v1::StoredObject& object) {
  switch (object.object_case()) {
    case v1::StoredObject::kBridge: return object.bridge().id();
    case v1::StoredObject::kRouter: return object.router().id();
    case v1::StoredObject::kPort: return object.port().id();
    case v1::StoredObject::kRoute: return object.route().id();
    case v1::StoredObject::kChain: return object.chain().id();
    case v1::StoredObject::kRule: return object.rule().id();
    case v1::StoredObject::kPortGroup: return object.port_group().id();
    case v1::StoredObject::kIpAddrGroup: return object.ip_addr_group().id();
    case v1::StoredObject::kHost: return object.host().id();
    case v1::StoredObject::kTunnelZone: return object.tunnel_zone().id();
    case v1::StoredObject::OBJECT_NOT_SET: break;
  }
  return {};
}

std::string tenantId(const v1::StoredObject& object) {
  switch (object.object_case()) {
    case v1::StoredObject::kBridge: return object.bridge().tenant_id();
    case v1::StoredObject::kRouter: return object.router().tenant_id();
    case v1::StoredObject::kPort: return object.port().tenant_id();
    case v1::StoredObject::kChain: return object.chain().tenant_id();
    case v1::StoredObject::kPortGroup: return object.port_group().tenant_id();
    case v1::StoredObject::kIpAddrGroup: return object.ip_addr_group().tenant_id();
    // Routes and rules have no tenant of their own.
    case v1::StoredObject::kRoute:
    case v1::StoredObject::kRule:
    case v1::StoredObject::kHost:
    case v1::StoredObject::kTunnelZone:
    case v1::StoredObject::OBJECT_NOT_SET: break;
  }
  return {};
}

std::optional<std::string> canonicalMac(std::string_view mac) {
  auto hex = macHex(mac);
  if (!hex) return std::nullopt;
  std::string out;
  out.reserve(17);
  for (size_t i = 0; i < 12; i += 2) {
    if (i > 0) out += ':';
    out.append(*hex, i, 2);
  }
  return out;
}

std::string objectName(Kind kind, std::string_view id) {
  std::string s(kindName(kind));
  s += ' ';
  s += id;
  return s;
}

// ------------------------------------------------------------------------------------------------
// Keys

Keys::Keys(std::string root) : root_(std::move(root)) {
  while (!root_.empty() && root_.back() == '/') root_.pop_back();
}

std::string Keys::all() const { return root_ + "/v1/"; }
std::string Keys::objects() const { return root_ + "/v1/obj/"; }
std::string Keys::objects(Kind kind) const { return objects() + std::string(kindName(kind)) + "/"; }
std::string Keys::object(Kind kind, std::string_view id) const {
  return objects(kind) + std::string(id);
}
std::string Keys::refs(Kind target, std::string_view target_id) const {
  return root_ + "/v1/ref/" + std::string(kindName(target)) + "/" + std::string(target_id) + "/";
}
std::string Keys::ref(Kind target, std::string_view target_id, Kind src,
                      std::string_view src_id) const {
  return refs(target, target_id) + std::string(kindName(src)) + "/" + std::string(src_id);
}
std::string Keys::liveHosts() const { return root_ + "/v1/live/host/"; }
std::string Keys::liveHost(std::string_view host_id) const {
  return liveHosts() + std::string(host_id);
}
std::string Keys::progressAll() const { return root_ + "/v1/progress/"; }
std::string Keys::progress(std::string_view host_id) const {
  return progressAll() + std::string(host_id);
}
Keys::Range Keys::replicaRange(bool with_progress) const {
  return {root_ + "/v1/live/", etcd::prefixEnd(with_progress ? progressAll() : objects())};
}
std::string Keys::livePorts() const { return root_ + "/v1/live/port/"; }
std::string Keys::livePort(std::string_view port_id) const {
  return livePorts() + std::string(port_id);
}

std::string Keys::liveMacs() const { return root_ + "/v1/live/mac/"; }
std::string Keys::liveMacs(std::string_view bridge_id) const {
  return liveMacs() + std::string(bridge_id) + "/";
}
std::string Keys::liveMac(std::string_view bridge_id, uint32_t vlan, std::string_view mac) const {
  auto hex = macHex(mac);
  if (!hex) return {};
  return liveMacs(bridge_id) + std::to_string(vlan) + "/" + *hex;
}

std::optional<Keys::ObjectKey> Keys::parseObject(std::string_view key) const {
  if (!consumePrefix(key, objects())) return std::nullopt;
  auto kind_name = takeSegment(key);
  if (!kind_name) return std::nullopt;
  auto kind = kindFromName(*kind_name);
  if (!kind || !validIdSegment(key)) return std::nullopt;
  return ObjectKey{*kind, std::string(key)};
}

std::optional<Keys::ObjectKey> Keys::parseRefSource(std::string_view key) const {
  if (!consumePrefix(key, root_ + "/v1/ref/")) return std::nullopt;
  auto target_kind = takeSegment(key);
  if (!target_kind || !kindFromName(*target_kind)) return std::nullopt;
  auto target_id = takeSegment(key);
  if (!target_id || target_id->empty()) return std::nullopt;
  auto src_kind_name = takeSegment(key);
  if (!src_kind_name) return std::nullopt;
  auto src_kind = kindFromName(*src_kind_name);
  if (!src_kind || !validIdSegment(key)) return std::nullopt;
  return ObjectKey{*src_kind, std::string(key)};
}

std::optional<std::string> Keys::parseLiveHost(std::string_view key) const {
  if (!consumePrefix(key, liveHosts()) || !validIdSegment(key)) return std::nullopt;
  return std::string(key);
}

std::optional<std::string> Keys::parseLivePort(std::string_view key) const {
  if (!consumePrefix(key, livePorts()) || !validIdSegment(key)) return std::nullopt;
  return std::string(key);
}

std::optional<std::string> Keys::parseProgress(std::string_view key) const {
  if (!consumePrefix(key, progressAll()) || !validIdSegment(key)) return std::nullopt;
  return std::string(key);
}

std::optional<Keys::MacKey> Keys::parseLiveMac(std::string_view key) const {
  if (!consumePrefix(key, liveMacs())) return std::nullopt;
  auto bridge_id = takeSegment(key);
  if (!bridge_id || bridge_id->empty()) return std::nullopt;
  auto vlan_text = takeSegment(key);
  if (!vlan_text) return std::nullopt;
  auto vlan = parseDecimal(*vlan_text);
  // The MAC segment: exactly the 12 lower-case hex digits liveMac() writes.
  if (!vlan || key.size() != 12 || key.find_first_not_of(kHexDigits) != std::string_view::npos) {
    return std::nullopt;
  }
  auto mac = canonicalMac(key);
  if (!mac) return std::nullopt;
  return MacKey{std::string(*bridge_id), *vlan, std::move(*mac)};
}

// ------------------------------------------------------------------------------------------------
// Envelope codec

std::string encodeObject(const v1::StoredObject& object) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    object.SerializeToCodedStream(&coded);
  }  // The coded stream trims `out` to the bytes written when it goes.
  return out;
}

bool decodeObject(std::string_view bytes, v1::StoredObject& out) {
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) return false;
  if (!out.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return false;
  return out.format() == kStoredFormat && out.object_case() != v1::StoredObject::OBJECT_NOT_SET;
}

}  // namespace loom::store
