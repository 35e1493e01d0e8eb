#pragma once
// The NSDB key layout (docs/nsdb.md). Everything lives under one root (default "/loom"):
//
//   <root>/v1/obj/<kind>/<id>                          StoredObject (binary protobuf)
//   <root>/v1/ref/<kind>/<id>/<src_kind>/<src_id>      "field[,field]": src refers to kind/id
//   <root>/v1/live/host/<host_id>                      HostLiveness, lease-bound
//   <root>/v1/live/port/<port_id>                      PortActive, lease-bound
//   <root>/v1/live/mac/<bridge_id>/<vlan>/<mac hex>    LearnedMac, lease-bound (learner's lease)
//   <root>/v1/progress/<host_id>                       HostProgress, lease-bound
//
// The names are chosen so that what a replica watches is one contiguous range: an agent's
// replica watches [live/, end of obj/) — objects and liveness, but neither the reference index
// nor the other hosts' progress reports (N hosts each reporting every applied revision would
// otherwise cost every host N events per change, N² in all: OVN moved nb_cfg out of the
// Chassis table for the same reason). The API's replica also needs progress (for sync) and
// watches [live/, end of progress/). keys_test checks the order ("live" < "obj" < "progress" <
// "ref").
//
// Reference keys are the store's back-reference index: one per (referenced, referrer) pair,
// written in the same transaction as the referrer. They let a delete find (and a transaction
// compare) everything that points at an object without scanning, and they are never written by
// anyone but ObjectStore.

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "loom/v1/store.pb.h"

namespace loom::store {

enum class Kind : uint8_t {
  Bridge,
  Router,
  Port,
  Route,
  Chain,
  Rule,
  PortGroup,
  IpAddrGroup,
  Host,
  TunnelZone,
};
inline constexpr size_t kKindCount = 10;

// "bridge", "router", "port", "route", "chain", "rule", "port_group", "ip_addr_group", "host",
// "tunnel_zone": used in keys, API paths (plural with "s") and messages.
std::string_view kindName(Kind kind);
std::optional<Kind> kindFromName(std::string_view name);
// The kind held by an envelope; nullopt if none is set.
std::optional<Kind> kindOf(const v1::StoredObject& object);
// The envelope's object as a message (nullptr if unset) and its id / tenant_id fields.
const google::protobuf::Message* payload(const v1::StoredObject& object);
google::protobuf::Message* mutablePayload(v1::StoredObject& object, Kind kind);
std::string objectId(const v1::StoredObject& object);
std::string tenantId(const v1::StoredObject& object);  // Empty for hosts and tunnel zones.
// "port 0a2b...-..." (the full id): how messages name an object.
std::string objectName(Kind kind, std::string_view id);

inline constexpr uint32_t kStoredFormat = 1;

// A MAC address in its canonical form, "02:00:00:00:00:01" (lower case), from six hex pairs
// separated by ':' or '-' (either case) or from 12 bare hex digits; nullopt otherwise.
std::optional<std::string> canonicalMac(std::string_view mac);

class Keys {
 public:
  explicit Keys(std::string root = "/loom");

  const std::string& root() const { return root_; }
  // <root>/v1/ : everything a replica watches.
  std::string all() const;
  // The range a replica lists and watches: [first, end). With progress: also the hosts'
  // progress reports.
  struct Range {
    std::string key, end;
  };
  Range replicaRange(bool with_progress) const;
  std::string objects() const;  // <root>/v1/obj/
  std::string objects(Kind kind) const;
  std::string object(Kind kind, std::string_view id) const;
  std::string refs(Kind target, std::string_view target_id) const;  // ".../ref/<kind>/<id>/"
  std::string ref(Kind target, std::string_view target_id, Kind src, std::string_view src_id) const;
  std::string liveHosts() const;
  std::string liveHost(std::string_view host_id) const;
  std::string livePorts() const;
  std::string livePort(std::string_view port_id) const;
  // Learned MACs: <root>/v1/live/mac/, .../mac/<bridge_id>/ and one MAC's key,
  // .../mac/<bridge_id>/<vlan>/<12 lower-case hex digits of the mac>. liveMac() takes the MAC
  // in any form canonicalMac() accepts and returns "" when it does not parse (callers
  // validate first).
  std::string liveMacs() const;
  std::string liveMacs(std::string_view bridge_id) const;
  std::string liveMac(std::string_view bridge_id, uint32_t vlan, std::string_view mac) const;
  std::string progressAll() const;
  std::string progress(std::string_view host_id) const;

  struct ObjectKey {
    Kind kind;
    std::string id;
  };
  std::optional<ObjectKey> parseObject(std::string_view key) const;
  // Referrer named by a ref key.
  std::optional<ObjectKey> parseRefSource(std::string_view key) const;
  // The id at the end of a live/host or live/port key.
  std::optional<std::string> parseLiveHost(std::string_view key) const;
  std::optional<std::string> parseLivePort(std::string_view key) const;
  std::optional<std::string> parseProgress(std::string_view key) const;
  // What a live/mac key names; `mac` in canonical form. Only the form liveMac() writes parses
  // (the vlan in decimal without leading zeros, the MAC as 12 lower-case hex digits), so each
  // (bridge, vlan, mac) has exactly one key.
  struct MacKey {
    std::string bridge_id;
    uint32_t vlan = 0;
    std::string mac;
    auto operator<=>(const MacKey&) const = default;
  };
  std::optional<MacKey> parseLiveMac(std::string_view key) const;

 private:
  std::string root_;
};

// Binary envelope encoding. decode() refuses unknown formats and empty envelopes.
std::string encodeObject(const v1::StoredObject& object);
bool decodeObject(std::string_view bytes, v1::StoredObject& out);

}  // namespace loom::store
