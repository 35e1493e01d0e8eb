#pragma once
// Export and import of topologies (the pure parts; the commands do the HTTP).
//
// Export: the objects of one tenant, as the schema's Topology message, in a deterministic order
// that does not depend on ids (by name, rules in chain order, routes by router), so two exports
// of equal networks are equal modulo ids (canonicalIds()).
//
// Import: every id of the document is mapped to a fresh one (or kept), except the physical
// objects' (hosts and tunnel zones name machines, not a tenant's design: they keep their ids and
// an import reuses them when they already exist), every reference to a mapped id is rewritten
// consistently (references to ids outside the document are kept: they
// name objects that must already exist), and the objects are ordered so that each is created
// after everything it references:
//   tunnel zones (without members), hosts, tunnel zone members, chains (without rule_ids; the
//   server maintains them), ip addr groups, port groups, bridges, routers, ports (without
//   peer_id), port links (one side; the server sets the other), rules in each chain's order
//   (appended), routes.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "loom/v1/topology.pb.h"
#include "store/keys.h"

namespace loom::cli {

struct ExportOptions {
  bool include_bindings = false;  // Keep ports' host_id / interface_name.
};

// Sorts `raw` (whatever the API listed for a tenant) into the export order, drops bindings
// unless asked, and keeps only rules and routes whose chain / router is in the export.
v1::Topology assembleExport(v1::Topology raw, const ExportOptions& options);

// The export order (assembleExport without the filtering).
void sortTopology(v1::Topology& topology);

// Every id the document defines, old -> new. keep_ids maps each id to itself; hosts and tunnel
// zones always keep theirs.
using IdGenerator = std::function<std::string()>;
std::map<std::string, std::string> planIds(const v1::Topology& topology, bool keep_ids,
                                           const IdGenerator& generate);

// Rewrites every id and reference field (any string field named "id", "*_id" or "*_ids" except
// tenant_id, at any depth) whose value is a key of `ids`.
v1::Topology remapIds(const v1::Topology& topology, const std::map<std::string, std::string>& ids);

// Sets the tenant_id of every tenant-scoped object.
void setTenant(v1::Topology& topology, const std::string& tenant_id);

// Sorts and replaces every id by "<kind>-<n>" in document order: equal networks with different
// ids give equal results.
v1::Topology canonicalIds(const v1::Topology& topology);

// Every non-empty reference (not the object's own id) held by `message`, at any depth.
std::vector<std::string> referencedIds(const google::protobuf::Message& message);

struct ImportStep {
  // Ensure: create unless an object with this id exists (hosts, tunnel zones); UpdateIfCreated:
  // an update that only applies if this import created the object (tunnel zone members).
  enum class Op { Create, Update, Ensure, UpdateIfCreated };
  Op op = Op::Create;
  store::Kind kind = store::Kind::Bridge;
  std::string id;
  std::string label;  // The object's name (or a description for unnamed ones).
  std::string body;   // The whole object, proto3 JSON (lower_snake_case names).
};

// The ordered steps that create `topology` (already remapped) through the API.
std::vector<ImportStep> planImport(const v1::Topology& topology);

// Objects of the document with their kind and label, for the id mapping printout.
struct ObjectName {
  store::Kind kind;
  std::string name;
};
std::map<std::string, ObjectName> objectNames(const v1::Topology& topology);

}  // namespace loom::cli
