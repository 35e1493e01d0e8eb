#include "cli/kinds.h"

#include <algorithm>
#include <cctype>

#include "loom/v1/topology.pb.h"

namespace loom::cli {
namespace {

using nlohmann::json;

Column field(std::string_view header, std::string_view name) {
  std::string key(name);
  return {header, [key](const json& item) { return jsonString(item, key); }};
}

Column joined(std::string_view header, std::string_view name) {
  std::string key(name);
  return {header, [key](const json& item) { return jsonJoined(item, key); }};
}

Column adminState() {
  return {"STATE", [](const json& item) {
            auto it = item.find("admin_state_up");
            return (it != item.end() && it->is_boolean() && !it->get<bool>()) ? "down" : "up";
          }};
}

Column filters() {
  return {"FILTERS", [](const json& item) {
            std::string in = jsonString(item, "inbound_filter_id");
            std::string out = jsonString(item, "outbound_filter_id");
            if (in.empty() && out.empty()) return std::string();
            return "in=" + (in.empty() ? "-" : in) + " out=" + (out.empty() ? "-" : out);
          }};
}

Column portDevice() {
  return {"DEVICE", [](const json& item) {
            std::string b = jsonString(item, "bridge_id");
            if (!b.empty()) return "bridge " + b;
            std::string r = jsonString(item, "router_id");
            return r.empty() ? std::string() : "router " + r;
          }};
}

Column portAttachment() {
  return {"ATTACHMENT", [](const json& item) {
            std::string peer = jsonString(item, "peer_id");
            if (!peer.empty()) return "peer " + peer;
            std::string host = jsonString(item, "host_id");
            if (host.empty()) return std::string();
            return "host " + host + " " + jsonString(item, "interface_name");
          }};
}

Column count(std::string_view header, std::string_view name) {
  std::string key(name);
  return {header, [key](const json& item) {
            auto it = item.find(key);
            return std::to_string(it != item.end() && it->is_array() ? it->size() : 0);
          }};
}

Column ruleCondition() {
  return {"CONDITION", [](const json& item) {
            auto it = item.find("condition");
            if (it == item.end() || !it->is_object() || it->empty()) return std::string("any");
            std::string s = it->dump();
            return s.size() > 60 ? s.substr(0, 57) + "..." : s;
          }};
}

Column members() {
  return {"MEMBERS", [](const json& item) {
            std::string out;
            auto it = item.find("members");
            if (it == item.end() || !it->is_array()) return out;
            for (const json& m : *it) {
              if (!out.empty()) out += ",";
              out += jsonString(m, "host_id") + "=" + jsonString(m, "address");
            }
            return out;
          }};
}

std::vector<KindInfo> buildKinds() {
  using store::Kind;
  namespace pb = loom::v1;
  std::vector<KindInfo> k;
  k.push_back({Kind::Bridge,
               "bridge",
               "bridges",
               pb::Bridge::descriptor(),
               true,
               {},
               {field("ID", "id"), field("NAME", "name"), field("TENANT", "tenant_id"),
                adminState(), filters()}});
  k.push_back({Kind::Router,
               "router",
               "routers",
               pb::Router::descriptor(),
               true,
               {},
               {field("ID", "id"), field("NAME", "name"), field("TENANT", "tenant_id"),
                adminState(), filters()}});
  k.push_back({Kind::Port,
               "port",
               "ports",
               pb::Port::descriptor(),
               true,
               {"bridge_id", "router_id"},
               {field("ID", "id"), field("NAME", "name"), portDevice(), portAttachment(),
                field("MAC", "mac"), joined("ADDRESSES", "addresses")}});
  k.push_back({Kind::Route,
               "route",
               "routes",
               pb::Route::descriptor(),
               false,
               {"router_id"},
               {field("ID", "id"),
                field("ROUTER", "router_id"),
                field("SRC", "src_prefix"),
                field("DST", "dst_prefix"),
                field("NEXT_HOP", "next_hop"),
                field("PORT", "next_hop_port_id"),
                field("GATEWAY", "next_hop_gateway"),
                {"WEIGHT", [](const json& item) {
                   auto it = item.find("weight");
                   return it == item.end() ? std::string("0") : it->dump();
                 }}}});
  k.push_back({Kind::Chain,
               "chain",
               "chains",
               pb::Chain::descriptor(),
               true,
               {},
               {field("ID", "id"), field("NAME", "name"), field("TENANT", "tenant_id"),
                count("RULES", "rule_ids")}});
  k.push_back({Kind::Rule,
               "rule",
               "rules",
               pb::Rule::descriptor(),
               false,
               {"chain_id"},
               {field("ID", "id"), field("NAME", "name"), field("CHAIN", "chain_id"),
                field("ACTION", "action"), field("JUMP", "jump_chain_id"), ruleCondition()}});
  k.push_back({Kind::PortGroup,
               "port_group",
               "port_groups",
               pb::PortGroup::descriptor(),
               true,
               {},
               {field("ID", "id"),
                field("NAME", "name"),
                field("TENANT", "tenant_id"),
                {"STATEFUL", [](const json& item) {
                   auto it = item.find("stateful");
                   return (it != item.end() && it->is_boolean() && it->get<bool>()) ? "yes" : "no";
                 }}}});
  k.push_back({Kind::IpAddrGroup,
               "ip_addr_group",
               "ip_addr_groups",
               pb::IpAddrGroup::descriptor(),
               true,
               {},
               {field("ID", "id"), field("NAME", "name"), field("TENANT", "tenant_id"),
                joined("ADDRESSES", "addresses")}});
  k.push_back(
      {Kind::Host,
       "host",
       "hosts",
       pb::Host::descriptor(),
       false,
       {},
       {field("ID", "id"), field("NAME", "name"), joined("TUNNEL_ZONES", "tunnel_zone_ids")}});
  k.push_back({Kind::TunnelZone,
               "tunnel_zone",
               "tunnel_zones",
               pb::TunnelZone::descriptor(),
               false,
               {},
               {field("ID", "id"), field("NAME", "name"), field("TYPE", "type"), members()}});
  return k;
}

std::string normalizeWord(std::string_view word) {
  std::string out;
  for (char c : word) {
    if (c == '-' || c == '_') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

const std::vector<KindInfo>& allKinds() {
  static const std::vector<KindInfo> kinds = buildKinds();
  return kinds;
}

const KindInfo& kindInfo(store::Kind kind) { return allKinds()[static_cast<size_t>(kind)]; }

const KindInfo* findKind(std::string_view word) {
  std::string w = normalizeWord(word);
  for (const KindInfo& k : allKinds()) {
    std::string n = normalizeWord(k.name);
    if (w == n || w == normalizeWord(k.collection)) return &k;
  }
  return nullptr;
}

std::string jsonString(const nlohmann::json& item, std::string_view field) {
  auto it = item.find(field);
  if (it == item.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

std::string jsonJoined(const nlohmann::json& item, std::string_view field) {
  auto it = item.find(field);
  if (it == item.end() || !it->is_array()) return jsonString(item, field);
  std::string out;
  for (const auto& v : *it) {
    if (!out.empty()) out += ",";
    out += v.is_string() ? v.get<std::string>() : v.dump();
  }
  return out;
}

}  // namespace loom::cli
