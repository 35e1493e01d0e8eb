#pragma once
// Internal to src/model: the builder behind buildSnapshot().
//
// Split by concern: snapshot_builder.cc parses the objects and resolves devices, ports, links
// and the physical objects; route_builder.cc builds routes and the bridges' static tables;
// chain_compiler.cc compiles rules and chains. Problems are appended in a fixed phase order and,
// inside a phase, in input order, so the same input always gives the same problem list.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "loom/v1/topology.pb.h"
#include "model/snapshot.h"

namespace loom::model {

// "addresses[1]".
std::string indexedField(std::string_view field, size_t i);

// Collects the InvalidField problems of one object while its fields are parsed. The problems
// are stamped with the object's id (nil when the id itself failed) by finish().
class FieldChecker {
 public:
  explicit FieldChecker(ObjectKind kind) : kind_(kind) {}

  // The object's own id: required, canonical form, not nil.
  Uuid id(const std::string& text);
  // An optional id or reference: empty (or nil) means unset.
  Uuid uuid(std::string_view field, const std::string& text);
  // A required id or reference.
  Uuid requiredUuid(std::string_view field, const std::string& text);
  std::optional<MacAddr> mac(std::string_view field, const std::string& text);
  std::optional<IpPrefix> prefix(std::string_view field, const std::string& text);
  std::optional<IpAddr> addr(std::string_view field, const std::string& text);
  // A numeric field that must not exceed `max`; returns it narrowed on success.
  template <typename T>
  T bounded(std::string_view field, uint32_t value, uint32_t max) {
    if (value > max) {
      fail(field,
           "value " + std::to_string(value) + " is out of range (max " + std::to_string(max) + ")");
      return T{};
    }
    return static_cast<T>(value);
  }

  void fail(std::string_view field, std::string message);
  bool ok() const { return errors_.empty(); }
  const Uuid& objectId() const { return id_; }
  // Appends the collected problems to `out`; returns ok().
  bool finish(std::vector<Problem>& out);

 private:
  ObjectKind kind_;
  Uuid id_;
  std::vector<std::pair<std::string, std::string>> errors_;
};

class SnapshotBuilder {
 public:
  SnapshotBuilder(const v1::Topology& topology, uint64_t version);
  SnapshotPtr build();

 private:
  using IdIndex = TopologySnapshot::IdIndex;

  struct CompiledRule {
    Rule rule;
    Uuid chain_id;
    bool listed = false;
  };

  void report(Problem::Kind kind, ObjectKind object_kind, const Uuid& object_id, std::string field,
              std::string message);
  // Registers `id` at `next` unless it is taken (then reports DuplicateId and returns false).
  bool claimId(IdIndex& index, ObjectKind kind, const Uuid& id, size_t next);
  // Resolves an optional reference; reports DanglingReference on the owner when it dangles.
  Ref resolve(const IdIndex& index, ObjectKind target, const Uuid& id, ObjectKind owner_kind,
              const Uuid& owner, std::string field);

  // snapshot_builder.cc
  void parseHosts();
  void parseTunnelZones();
  void parseBridges();
  void parseRouters();
  void parseChains();
  void parsePortGroups();
  void parseIpAddrGroups();
  void parsePorts();
  void resolvePhysical();
  void resolveDeviceFilters();
  void resolvePorts();
  void checkLinks();

  // route_builder.cc
  void buildExplicitRoutes();
  void buildImplicitRoutes();
  void finalizeRouteTables();
  void buildStaticTables();

  // chain_compiler.cc
  void compileRules();
  bool parseCondition(const v1::Condition& in, Condition& out, FieldChecker& fc);
  void resolveRule(Rule& rule);
  void fillChains();
  void detectJumpCycles();
  void markConnectionTracking();

  const v1::Topology& in_;
  std::shared_ptr<TopologySnapshot> snap_;
  TopologySnapshot& s_;

  // Parsed references waiting for resolution, parallel to the snapshot's vectors.
  std::vector<std::vector<Uuid>> host_zone_ids_;
  std::vector<std::vector<Uuid>> chain_rule_ids_;
  std::vector<std::vector<Uuid>> port_group_ids_;
  IdIndex route_index_;
  std::vector<CompiledRule> rules_;
  IdIndex rule_index_;
};

}  // namespace loom::model
