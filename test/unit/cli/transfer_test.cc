#include "cli/transfer.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include <google/protobuf/util/json_util.h>

#include "loom/v1/store.pb.h"
#include "model/json.h"

namespace loom::cli {
namespace {

using google::protobuf::util::MessageDifferencer;

v1::Topology example(const std::string& name) {
  auto t = model::loadTopologyFile(std::string(LOOM_SOURCE_DIR) + "/examples/topologies/" + name);
  EXPECT_TRUE(t.ok()) << t.status().toString();
  return t.ok() ? *t : v1::Topology();
}

IdGenerator counter() {
  auto n = std::make_shared<int>(0);
  return [n] {
    char buf[40];
    std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", ++*n);
    return std::string(buf);
  };
}

std::set<std::string> definedIds(const v1::Topology& t) {
  std::set<std::string> out;
  for (const auto& [id, name] : objectNames(t)) out.insert(id);
  return out;
}

std::vector<std::string> allReferences(const v1::Topology& t) {
  std::vector<std::string> out;
  auto add = [&](const google::protobuf::Message& m) {
    for (auto& r : referencedIds(m)) out.push_back(r);
  };
  for (const auto& o : t.bridges()) add(o);
  for (const auto& o : t.routers()) add(o);
  for (const auto& o : t.ports()) add(o);
  for (const auto& o : t.routes()) add(o);
  for (const auto& o : t.chains()) add(o);
  for (const auto& o : t.rules()) add(o);
  for (const auto& o : t.port_groups()) add(o);
  for (const auto& o : t.ip_addr_groups()) add(o);
  for (const auto& o : t.hosts()) add(o);
  for (const auto& o : t.tunnel_zones()) add(o);
  return out;
}

google::protobuf::Message* envelopeSlot(v1::StoredObject& o, store::Kind kind) {
  switch (kind) {
    case store::Kind::Bridge: return o.mutable_bridge();
    case store::Kind::Router: return o.mutable_router();
    case store::Kind::Port: return o.mutable_port();
    case store::Kind::Route: return o.mutable_route();
    case store::Kind::Chain: return o.mutable_chain();
    case store::Kind::Rule: return o.mutable_rule();
    case store::Kind::PortGroup: return o.mutable_port_group();
    case store::Kind::IpAddrGroup: return o.mutable_ip_addr_group();
    case store::Kind::Host: return o.mutable_host();
    case store::Kind::TunnelZone: return o.mutable_tunnel_zone();
  }
  return nullptr;
}

// The tenant's part of a document: what an export of that tenant can contain.
v1::Topology tenantOnly(v1::Topology t) {
  t.clear_hosts();
  t.clear_tunnel_zones();
  return t;
}

class TransferTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TransferTest, FreshIdsAreRemappedConsistently) {
  v1::Topology in = example(GetParam());
  auto ids = planIds(in, false, counter());
  v1::Topology out = remapIds(in, ids);
  std::set<std::string> defined = definedIds(out);
  EXPECT_EQ(defined.size(), definedIds(in).size());
  for (const auto& ref : allReferences(out)) {
    EXPECT_TRUE(defined.count(ref)) << "dangling reference " << ref;
  }
  for (const auto& [old_id, name] : objectNames(in)) {
    // Physical objects (hosts, tunnel zones) keep their ids; everything else is fresh.
    const bool physical = name.kind == store::Kind::Host || name.kind == store::Kind::TunnelZone;
    EXPECT_EQ(defined.count(old_id) > 0, physical) << "id " << old_id;
  }
  EXPECT_EQ(allReferences(out).size(), allReferences(in).size());
}

TEST_P(TransferTest, KeepIdsChangesNothing) {
  v1::Topology in = example(GetParam());
  v1::Topology out = remapIds(in, planIds(in, true, counter()));
  EXPECT_TRUE(MessageDifferencer::Equals(in, out));
}

TEST_P(TransferTest, PlanCreatesEveryObjectAfterWhatItReferences) {
  v1::Topology t = remapIds(example(GetParam()), planIds(example(GetParam()), false, counter()));
  std::set<std::string> created;
  size_t creates = 0;
  for (const auto& step : planImport(t)) {
    v1::StoredObject envelope;
    google::protobuf::Message* m = envelopeSlot(envelope, step.kind);
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(step.body, m).ok()) << step.body;
    for (const auto& ref : referencedIds(*m)) {
      EXPECT_TRUE(created.count(ref)) << step.label << " references " << ref << " before it exists";
    }
    if (step.op == ImportStep::Op::Create || step.op == ImportStep::Op::Ensure) {
      EXPECT_TRUE(created.insert(step.id).second) << "created twice: " << step.id;
      ++creates;
    } else {
      EXPECT_TRUE(created.count(step.id)) << "update before create: " << step.id;
    }
  }
  EXPECT_EQ(creates, definedIds(t).size());
}

INSTANTIATE_TEST_SUITE_P(Examples, TransferTest,
                         ::testing::Values("one-tenant.json", "two-tenants.json"));

TEST(ImportPlanTest, ChainsWithoutRulesPortsWithoutPeersAndOneLinkPerPair) {
  v1::Topology t = example("one-tenant.json");
  auto steps = planImport(t);
  size_t links = 0;
  std::vector<std::string> rule_order;
  for (const auto& s : steps) {
    if (s.op == ImportStep::Op::Create && s.kind == store::Kind::Chain) {
      EXPECT_EQ(s.body.find("rule_ids"), std::string::npos);
    }
    if (s.op == ImportStep::Op::Create && s.kind == store::Kind::Port) {
      EXPECT_EQ(s.body.find("peer_id"), std::string::npos);
    }
    if (s.op == ImportStep::Op::Update && s.kind == store::Kind::Port) ++links;
    if (s.kind == store::Kind::Rule) rule_order.push_back(s.id);
  }
  EXPECT_EQ(links, 2u);
  const auto& chain_order = t.chains(0).rule_ids();
  EXPECT_EQ(rule_order, std::vector<std::string>(chain_order.begin(), chain_order.end()));
}

TEST(ImportPlanTest, TunnelZoneMembersAreAddedAfterTheHosts) {
  auto steps = planImport(example("one-tenant.json"));
  ASSERT_GE(steps.size(), 4u);
  EXPECT_EQ(steps[0].kind, store::Kind::TunnelZone);
  EXPECT_EQ(steps[0].op, ImportStep::Op::Ensure);
  EXPECT_EQ(steps[0].body.find("members"), std::string::npos);
  EXPECT_EQ(steps[1].kind, store::Kind::Host);
  EXPECT_EQ(steps[1].op, ImportStep::Op::Ensure);
  EXPECT_EQ(steps[2].kind, store::Kind::Host);
  EXPECT_EQ(steps[3].kind, store::Kind::TunnelZone);
  EXPECT_EQ(steps[3].op, ImportStep::Op::UpdateIfCreated);
  EXPECT_NE(steps[3].body.find("members"), std::string::npos);
}

TEST(ImportPlanTest, ReferencesOutsideTheDocumentAreKept) {
  v1::Topology t;
  auto* p = t.add_ports();
  p->set_id("p");
  p->set_bridge_id("existing-bridge");
  v1::Topology out = remapIds(t, planIds(t, false, counter()));
  EXPECT_EQ(out.ports(0).bridge_id(), "existing-bridge");
  EXPECT_NE(out.ports(0).id(), "p");
}

TEST(ImportPlanTest, SetTenantTouchesOnlyTenantScopedObjects) {
  v1::Topology t = example("two-tenants.json");
  setTenant(t, "new");
  for (const auto& b : t.bridges()) EXPECT_EQ(b.tenant_id(), "new");
  for (const auto& p : t.ports()) EXPECT_EQ(p.tenant_id(), "new");
  EXPECT_EQ(t.hosts(0).name(), "host-1");
}

TEST(ExportTest, OrderDoesNotDependOnInputOrder) {
  v1::Topology t = tenantOnly(example("one-tenant.json"));
  v1::Topology shuffled = t;
  std::mt19937 rng(7);
  std::shuffle(shuffled.mutable_ports()->begin(), shuffled.mutable_ports()->end(), rng);
  std::shuffle(shuffled.mutable_rules()->begin(), shuffled.mutable_rules()->end(), rng);
  std::reverse(shuffled.mutable_bridges()->begin(), shuffled.mutable_bridges()->end());
  EXPECT_EQ(model::topologyToJson(assembleExport(t, {})),
            model::topologyToJson(assembleExport(shuffled, {})));
}

TEST(ExportTest, BindingsAreStrippedUnlessAsked) {
  v1::Topology t = tenantOnly(example("one-tenant.json"));
  v1::Topology stripped = assembleExport(t, {});
  for (const auto& p : stripped.ports()) {
    EXPECT_TRUE(p.host_id().empty());
    EXPECT_TRUE(p.interface_name().empty());
  }
  ExportOptions keep;
  keep.include_bindings = true;
  size_t bound = 0;
  v1::Topology kept = assembleExport(t, keep);
  for (const auto& p : kept.ports()) bound += !p.host_id().empty();
  EXPECT_EQ(bound, 5u);
}

TEST(ExportTest, RulesFollowTheirChainOrder) {
  v1::Topology t = tenantOnly(example("one-tenant.json"));
  std::reverse(t.mutable_rules()->begin(), t.mutable_rules()->end());
  v1::Topology e = assembleExport(t, {});
  for (int i = 0; i < e.rules_size(); ++i) EXPECT_EQ(e.rules(i).id(), e.chains(0).rule_ids(i));
}

// Applies an import plan the way the server does (rule_ids appended, links made symmetric).
v1::Topology applyPlan(const std::vector<ImportStep>& steps) {
  std::map<std::string, v1::StoredObject> db;
  std::vector<std::string> order;
  for (const auto& s : steps) {
    v1::StoredObject o;
    auto* m = envelopeSlot(o, s.kind);
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(s.body, m).ok());
    if (s.op == ImportStep::Op::Create || s.op == ImportStep::Op::Ensure) order.push_back(s.id);
    if (s.kind == store::Kind::Rule && s.op == ImportStep::Op::Create) {
      db[o.rule().chain_id()].mutable_chain()->add_rule_ids(s.id);
    }
    if (s.kind == store::Kind::Port && !o.port().peer_id().empty()) {
      db[o.port().peer_id()].mutable_port()->set_peer_id(s.id);
    }
    db[s.id] = o;
  }
  v1::Topology out;
  for (const auto& id : order) {
    const auto& o = db[id];
    if (o.has_bridge()) *out.add_bridges() = o.bridge();
    if (o.has_router()) *out.add_routers() = o.router();
    if (o.has_port()) *out.add_ports() = o.port();
    if (o.has_route()) *out.add_routes() = o.route();
    if (o.has_chain()) *out.add_chains() = o.chain();
    if (o.has_rule()) *out.add_rules() = o.rule();
    if (o.has_port_group()) *out.add_port_groups() = o.port_group();
    if (o.has_ip_addr_group()) *out.add_ip_addr_groups() = o.ip_addr_group();
    if (o.has_host()) *out.add_hosts() = o.host();
    if (o.has_tunnel_zone()) *out.add_tunnel_zones() = o.tunnel_zone();
  }
  return out;
}

TEST(RoundTripTest, ExportOfImportEqualsTheInputModuloIds) {
  ExportOptions keep;
  keep.include_bindings = true;
  for (const char* name : {"one-tenant.json", "two-tenants.json"}) {
    v1::Topology in = tenantOnly(example(name));
    v1::Topology imported = applyPlan(planImport(remapIds(in, planIds(in, false, counter()))));
    v1::Topology exported = assembleExport(imported, keep);
    EXPECT_FALSE(MessageDifferencer::Equals(exported, assembleExport(in, keep)));  // New ids.
    EXPECT_EQ(model::topologyToJson(canonicalIds(exported)),
              model::topologyToJson(canonicalIds(assembleExport(in, keep))))
        << name;
  }
}

TEST(RoundTripTest, CanonicalIdsAreKindAndPosition) {
  v1::Topology c = canonicalIds(tenantOnly(example("one-tenant.json")));
  EXPECT_EQ(c.bridges(0).id(), "bridge-1");
  EXPECT_EQ(c.bridges(0).name(), "net-a");
  EXPECT_EQ(c.rules(0).chain_id(), "chain-1");
}

}  // namespace
}  // namespace loom::cli
