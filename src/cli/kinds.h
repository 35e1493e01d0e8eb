#pragma once
// The resources loomctl manages: one entry per store::Kind with the words an operator types
// ("port-group", "port_group"), the REST collection ("port_groups"), the protobuf descriptor the
// field flags are derived from, the list filters and the table columns.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <nlohmann/json.hpp>

#include "store/keys.h"

namespace loom::cli {

struct Column {
  std::string_view header;
  std::function<std::string(const nlohmann::json& item)> value;
};

struct KindInfo {
  store::Kind kind;
  std::string_view name;        // "port_group": store::kindName(kind).
  std::string_view collection;  // "port_groups".
  const google::protobuf::Descriptor* descriptor;
  bool tenant_scoped;
  // Fields whose value can be passed to list as ?parent_id= ("bridge_id", "router_id").
  std::vector<std::string_view> parent_fields;
  std::vector<Column> columns;
};

// Every kind, in store::Kind order.
const std::vector<KindInfo>& allKinds();
const KindInfo& kindInfo(store::Kind kind);
// "port-group", "port_group", "port-groups", "port_groups", "portgroup" -> PortGroup.
const KindInfo* findKind(std::string_view word);

// A string field of a JSON object, "" when absent.
std::string jsonString(const nlohmann::json& item, std::string_view field);
// "a,b,c" of a string array field.
std::string jsonJoined(const nlohmann::json& item, std::string_view field);

}  // namespace loom::cli
