#include "cli/transfer.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <set>
#include <tuple>

#include "cli/kinds.h"

namespace loom::cli {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using store::Kind;

bool isRefName(const std::string& name) {
  auto ends = [&](std::string_view suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  // tenant_id names a tenant, not an object.
  return name == "id" || (name != "tenant_id" && (ends("_id") || ends("_ids")));
}

// Calls fn on every id-like string field of `m` (recursively); `top` marks the object's own id.
void forEachIdField(Message& m, bool top,
                    const std::function<void(std::string& value, bool own_id)>& fn) {
  const Reflection* r = m.GetReflection();
  const auto* d = m.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (f->is_repeated()) {
        for (int j = 0; j < r->FieldSize(m, f); ++j) {
          forEachIdField(*r->MutableRepeatedMessage(&m, f, j), false, fn);
        }
      } else if (r->HasField(m, f)) {
        forEachIdField(*r->MutableMessage(&m, f), false, fn);
      }
      continue;
    }
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_STRING || !isRefName(f->name())) continue;
    bool own = top && f->name() == "id";
    if (f->is_repeated()) {
      for (int j = 0; j < r->FieldSize(m, f); ++j) {
        std::string v = r->GetRepeatedString(m, f, j);
        fn(v, own);
        r->SetRepeatedString(&m, f, j, v);
      }
    } else {
      std::string v = r->GetString(m, f);
      fn(v, own);
      r->SetString(&m, f, v);
    }
  }
}

// The Topology's repeated fields are numbered in store::Kind order (bridges = 1 ...).
void forEachObject(v1::Topology& t, const std::function<void(Kind, Message&)>& fn) {
  const Reflection* r = t.GetReflection();
  const auto* d = t.GetDescriptor();
  for (size_t k = 0; k < store::kKindCount; ++k) {
    const FieldDescriptor* f = d->FindFieldByNumber(static_cast<int>(k) + 1);
    for (int j = 0; j < r->FieldSize(t, f); ++j) {
      fn(static_cast<Kind>(k), *r->MutableRepeatedMessage(&t, f, j));
    }
  }
}

std::string stringField(const Message& m, const char* name) {
  const FieldDescriptor* f = m.GetDescriptor()->FindFieldByName(name);
  if (f == nullptr || f->is_repeated() || f->cpp_type() != FieldDescriptor::CPPTYPE_STRING) {
    return "";
  }
  return m.GetReflection()->GetString(m, f);
}

template <typename T, typename Key>
void sortBy(google::protobuf::RepeatedPtrField<T>* field, Key key) {
  std::vector<T> items(field->begin(), field->end());
  std::stable_sort(items.begin(), items.end(),
                   [&](const T& a, const T& b) { return key(a) < key(b); });
  field->Clear();
  for (auto& item : items) *field->Add() = std::move(item);
}

template <typename T>
void sortByName(google::protobuf::RepeatedPtrField<T>* field) {
  sortBy(field, [](const T& o) { return std::tie(o.name(), o.id()); });
}

std::string toJson(const Message& m) {
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(m, &out, opts);
  return out;
}

std::string label(Kind kind, const Message& m) {
  std::string name = stringField(m, "name");
  if (!name.empty()) return name;
  if (kind == Kind::Route) {
    const auto& r = static_cast<const v1::Route&>(m);
    return (r.src_prefix().empty() ? "" : r.src_prefix() + " ") + "to " + r.dst_prefix();
  }
  return "";
}

}  // namespace

void sortTopology(v1::Topology& t) {
  sortByName(t.mutable_bridges());
  sortByName(t.mutable_routers());
  sortByName(t.mutable_ports());
  sortByName(t.mutable_chains());
  sortByName(t.mutable_port_groups());
  sortByName(t.mutable_ip_addr_groups());
  sortByName(t.mutable_hosts());
  sortByName(t.mutable_tunnel_zones());

  std::map<std::string, int> router_index, chain_index;
  for (int i = 0; i < t.routers_size(); ++i) router_index[t.routers(i).id()] = i;
  for (int i = 0; i < t.chains_size(); ++i) chain_index[t.chains(i).id()] = i;
  std::map<std::string, std::string> port_name;
  for (const auto& p : t.ports()) port_name[p.id()] = p.name();
  auto indexOf = [](const std::map<std::string, int>& m, const std::string& id) {
    auto it = m.find(id);
    return it == m.end() ? static_cast<int>(m.size()) : it->second;
  };
  sortBy(t.mutable_routes(), [&](const v1::Route& r) {
    return std::make_tuple(indexOf(router_index, r.router_id()), r.dst_prefix(), r.src_prefix(),
                           static_cast<int>(r.next_hop()), r.next_hop_gateway(), r.weight(),
                           port_name[r.next_hop_port_id()], r.id());
  });

  // Rules: each chain's rule_ids order, then any rule not listed by its chain.
  std::map<std::string, int> rule_position;
  for (const auto& c : t.chains()) {
    for (int i = 0; i < c.rule_ids_size(); ++i) rule_position.emplace(c.rule_ids(i), i);
  }
  sortBy(t.mutable_rules(), [&](const v1::Rule& r) {
    auto it = rule_position.find(r.id());
    int pos = it == rule_position.end() ? 1 << 30 : it->second;
    return std::make_tuple(indexOf(chain_index, r.chain_id()), pos, r.name(), r.id());
  });
}

v1::Topology assembleExport(v1::Topology raw, const ExportOptions& options) {
  std::set<std::string> chains, routers;
  for (const auto& c : raw.chains()) chains.insert(c.id());
  for (const auto& r : raw.routers()) routers.insert(r.id());
  auto* rules = raw.mutable_rules();
  rules->erase(std::remove_if(rules->begin(), rules->end(),
                              [&](const v1::Rule& r) { return !chains.count(r.chain_id()); }),
               rules->end());
  auto* routes = raw.mutable_routes();
  routes->erase(std::remove_if(routes->begin(), routes->end(),
                               [&](const v1::Route& r) { return !routers.count(r.router_id()); }),
                routes->end());
  if (!options.include_bindings) {
    for (auto& p : *raw.mutable_ports()) {
      p.clear_host_id();
      p.clear_interface_name();
    }
  }
  sortTopology(raw);
  return raw;
}

std::map<std::string, std::string> planIds(const v1::Topology& topology, bool keep_ids,
                                           const IdGenerator& generate) {
  std::map<std::string, std::string> ids;
  v1::Topology copy = topology;
  forEachObject(copy, [&](Kind kind, Message& m) {
    std::string id = stringField(m, "id");
    const bool physical = kind == Kind::Host || kind == Kind::TunnelZone;
    if (!id.empty() && !ids.count(id)) ids[id] = keep_ids || physical ? id : generate();
  });
  return ids;
}

v1::Topology remapIds(const v1::Topology& topology, const std::map<std::string, std::string>& ids) {
  v1::Topology out = topology;
  forEachObject(out, [&](Kind, Message& m) {
    forEachIdField(m, true, [&](std::string& v, bool) {
      auto it = ids.find(v);
      if (it != ids.end()) v = it->second;
    });
  });
  return out;
}

void setTenant(v1::Topology& topology, const std::string& tenant_id) {
  forEachObject(topology, [&](Kind, Message& m) {
    const FieldDescriptor* f = m.GetDescriptor()->FindFieldByName("tenant_id");
    if (f != nullptr) m.GetReflection()->SetString(&m, f, tenant_id);
  });
}

v1::Topology canonicalIds(const v1::Topology& topology) {
  v1::Topology sorted = topology;
  sortTopology(sorted);
  std::map<std::string, std::string> ids;
  std::vector<int> counter(store::kKindCount, 0);
  forEachObject(sorted, [&](Kind k, Message& m) {
    std::string id = stringField(m, "id");
    if (!id.empty() && !ids.count(id)) {
      ids[id] =
          std::string(kindInfo(k).name) + "-" + std::to_string(++counter[static_cast<size_t>(k)]);
    }
  });
  return remapIds(sorted, ids);
}

std::vector<std::string> referencedIds(const Message& message) {
  std::unique_ptr<Message> copy(message.New());
  copy->CopyFrom(message);
  std::vector<std::string> out;
  forEachIdField(*copy, true, [&](std::string& v, bool own) {
    if (!own && !v.empty()) out.push_back(v);
  });
  return out;
}

std::vector<ImportStep> planImport(const v1::Topology& topology) {
  std::vector<ImportStep> steps;
  auto add = [&](ImportStep::Op op, Kind kind, const Message& m) {
    steps.push_back({op, kind, stringField(m, "id"), label(kind, m), toJson(m)});
  };
  using Op = ImportStep::Op;
  for (v1::TunnelZone z : topology.tunnel_zones()) {
    z.clear_members();
    add(Op::Ensure, Kind::TunnelZone, z);
  }
  for (const auto& h : topology.hosts()) add(Op::Ensure, Kind::Host, h);
  for (const auto& z : topology.tunnel_zones()) {
    if (z.members_size() > 0) add(Op::UpdateIfCreated, Kind::TunnelZone, z);
  }
  for (v1::Chain c : topology.chains()) {
    c.clear_rule_ids();
    add(Op::Create, Kind::Chain, c);
  }
  for (const auto& g : topology.ip_addr_groups()) add(Op::Create, Kind::IpAddrGroup, g);
  for (const auto& g : topology.port_groups()) add(Op::Create, Kind::PortGroup, g);
  for (const auto& b : topology.bridges()) add(Op::Create, Kind::Bridge, b);
  for (const auto& r : topology.routers()) add(Op::Create, Kind::Router, r);
  for (v1::Port p : topology.ports()) {
    p.clear_peer_id();
    add(Op::Create, Kind::Port, p);
  }
  std::set<std::string> linked;
  for (const auto& p : topology.ports()) {
    if (p.peer_id().empty() || linked.count(p.id()) || linked.count(p.peer_id())) continue;
    linked.insert(p.id());
    linked.insert(p.peer_id());
    add(Op::Update, Kind::Port, p);
  }
  // Rules in each chain's order (appending reproduces it), then any the chains do not list.
  std::map<std::string, const v1::Rule*> rules;
  for (const auto& r : topology.rules()) rules.emplace(r.id(), &r);
  std::set<std::string> done;
  for (const auto& c : topology.chains()) {
    for (const auto& id : c.rule_ids()) {
      auto it = rules.find(id);
      if (it == rules.end() || it->second->chain_id() != c.id() || done.count(id)) continue;
      done.insert(id);
      add(Op::Create, Kind::Rule, *it->second);
    }
  }
  for (const auto& r : topology.rules()) {
    if (!done.count(r.id())) add(Op::Create, Kind::Rule, r);
  }
  for (const auto& r : topology.routes()) add(Op::Create, Kind::Route, r);
  return steps;
}

std::map<std::string, ObjectName> objectNames(const v1::Topology& topology) {
  std::map<std::string, ObjectName> out;
  v1::Topology copy = topology;
  forEachObject(copy, [&](Kind k, Message& m) {
    out.emplace(stringField(m, "id"), ObjectName{k, label(k, m)});
  });
  return out;
}

}  // namespace loom::cli
