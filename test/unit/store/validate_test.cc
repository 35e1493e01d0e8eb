#include <gtest/gtest.h>

#include <chrono>
#include <functional>

#include "store/object_store.h"

namespace loom::store {
namespace {

constexpr const char* kId = "6f1c0000-0000-4000-8000-000000000001";
constexpr const char* kRef = "6f1c0000-0000-4000-8000-000000000002";
constexpr const char* kRef2 = "6f1c0000-0000-4000-8000-000000000003";

v1::StoredObject bridgePort() {
  v1::StoredObject o;
  o.mutable_port()->set_id(kId);
  o.mutable_port()->set_bridge_id(kRef);
  return o;
}

v1::StoredObject rule(v1::Rule::Action action) {
  v1::StoredObject o;
  o.mutable_rule()->set_id(kId);
  o.mutable_rule()->set_chain_id(kRef);
  o.mutable_rule()->set_action(action);
  return o;
}

v1::StoredObject route() {
  v1::StoredObject o;
  o.mutable_route()->set_id(kId);
  o.mutable_route()->set_router_id(kRef);
  o.mutable_route()->set_dst_prefix("10.0.0.0/8");
  o.mutable_route()->set_next_hop(v1::Route::BLACKHOLE);
  return o;
}

struct Case {
  const char* name;
  std::function<v1::StoredObject()> make;
  const char* field;  // Empty: valid.
};

class ValidateTest : public ::testing::TestWithParam<Case> {};

TEST_P(ValidateTest, ReportsTheFieldAtFault) {
  Status s = validateObject(GetParam().make());
  if (std::string(GetParam().field).empty()) {
    EXPECT_TRUE(s.ok()) << s.toString();
  } else {
    EXPECT_EQ(s.code(), StatusCode::InvalidArgument);
    EXPECT_EQ(s.field(), GetParam().field) << s.toString();
  }
}

const Case kCases[] = {
    {"ValidBridgePort", bridgePort, ""},
    {"NoObject", [] { return v1::StoredObject(); }, "object"},
    {"MissingId",
     [] {
       v1::StoredObject o;
       o.mutable_bridge();
       return o;
     },
     "id"},
    {"BadId",
     [] {
       v1::StoredObject o;
       o.mutable_bridge()->set_id("b1");
       return o;
     },
     "id"},
    {"BadTenant",
     [] {
       v1::StoredObject o;
       o.mutable_bridge()->set_id(kId);
       o.mutable_bridge()->set_tenant_id("acme");
       return o;
     },
     "tenant_id"},
    {"BadFilterRef",
     [] {
       v1::StoredObject o;
       o.mutable_router()->set_id(kId);
       o.mutable_router()->set_outbound_filter_id("x");
       return o;
     },
     "outbound_filter_id"},
    {"PortWithoutDevice",
     [] {
       v1::StoredObject o;
       o.mutable_port()->set_id(kId);
       return o;
     },
     "bridge_id"},
    {"PortWithTwoDevices",
     [] {
       v1::StoredObject o = bridgePort();
       o.mutable_port()->set_router_id(kRef2);
       return o;
     },
     "router_id"},
    {"RouterPortWithoutMac",
     [] {
       v1::StoredObject o;
       o.mutable_port()->set_id(kId);
       o.mutable_port()->set_router_id(kRef);
       return o;
     },
     "mac"},
    {"PortBadAddress",
     [] {
       v1::StoredObject o = bridgePort();
       o.mutable_port()->add_addresses("10.0.0.1/24");
       o.mutable_port()->add_addresses("10.0.0.300/24");
       return o;
     },
     "addresses[1]"},
    {"PortNilGroup",
     [] {
       v1::StoredObject o = bridgePort();
       o.mutable_port()->add_port_group_ids("00000000-0000-0000-0000-000000000000");
       return o;
     },
     "port_group_ids[0]"},
    {"PortExteriorAndInterior",
     [] {
       v1::StoredObject o = bridgePort();
       o.mutable_port()->set_host_id(kRef2);
       o.mutable_port()->set_peer_id("6f1c0000-0000-4000-8000-000000000009");
       return o;
     },
     "peer_id"},
    {"PortLinkedToItself",
     [] {
       v1::StoredObject o = bridgePort();
       o.mutable_port()->set_peer_id(kId);
       return o;
     },
     "peer_id"},
    {"InterfaceWithoutHost",
     [] {
       v1::StoredObject o = bridgePort();
       o.mutable_port()->set_interface_name("tap0");
       return o;
     },
     "interface_name"},
    {"ValidRoute", route, ""},
    {"RouteWithoutRouter",
     [] {
       v1::StoredObject o = route();
       o.mutable_route()->clear_router_id();
       return o;
     },
     "router_id"},
    {"RoutePortNextHopWithoutPort",
     [] {
       v1::StoredObject o = route();
       o.mutable_route()->set_next_hop(v1::Route::PORT);
       return o;
     },
     "next_hop_port_id"},
    {"RouteGatewayFamily",
     [] {
       v1::StoredObject o = route();
       o.mutable_route()->set_next_hop_gateway("fd00::1");
       return o;
     },
     "next_hop_gateway"},
    {"ValidRule", [] { return rule(v1::Rule::ACCEPT); }, ""},
    {"RuleWithoutAction", [] { return rule(v1::Rule::ACTION_UNSPECIFIED); }, "action"},
    {"RuleWithoutChain",
     [] {
       v1::StoredObject o = rule(v1::Rule::ACCEPT);
       o.mutable_rule()->clear_chain_id();
       return o;
     },
     "chain_id"},
    {"JumpWithoutTarget", [] { return rule(v1::Rule::JUMP); }, "jump_chain_id"},
    {"JumpTargetOnAccept",
     [] {
       v1::StoredObject o = rule(v1::Rule::ACCEPT);
       o.mutable_rule()->set_jump_chain_id(kRef2);
       return o;
     },
     "jump_chain_id"},
    {"JumpToOwnChain",
     [] {
       v1::StoredObject o = rule(v1::Rule::JUMP);
       o.mutable_rule()->set_jump_chain_id(kRef);
       return o;
     },
     "jump_chain_id"},
    {"RuleBadPortRange",
     [] {
       v1::StoredObject o = rule(v1::Rule::DROP);
       o.mutable_rule()->mutable_condition()->mutable_tp_dst()->set_start(70000);
       return o;
     },
     "condition.tp_dst.start"},
    {"RuleBadInPort",
     [] {
       v1::StoredObject o = rule(v1::Rule::DROP);
       o.mutable_rule()->mutable_condition()->add_in_port_ids(kRef2);
       o.mutable_rule()->mutable_condition()->add_in_port_ids("nope");
       return o;
     },
     "condition.in_port_ids[1]"},
    {"RuleBadNwSrc",
     [] {
       v1::StoredObject o = rule(v1::Rule::DROP);
       o.mutable_rule()->mutable_condition()->set_nw_src("10.0.0.0/33");
       return o;
     },
     "condition.nw_src"},
    {"IpAddrGroupBadAddress",
     [] {
       v1::StoredObject o;
       o.mutable_ip_addr_group()->set_id(kId);
       o.mutable_ip_addr_group()->add_addresses("banana");
       return o;
     },
     "addresses[0]"},
    {"HostBadZone",
     [] {
       v1::StoredObject o;
       o.mutable_host()->set_id(kId);
       o.mutable_host()->add_tunnel_zone_ids("");
       return o;
     },
     "tunnel_zone_ids[0]"},
    {"TunnelZoneMemberWithoutAddress",
     [] {
       v1::StoredObject o;
       o.mutable_tunnel_zone()->set_id(kId);
       o.mutable_tunnel_zone()->add_members()->set_host_id(kRef);
       return o;
     },
     "members[0].address"},
    {"ChainBadRuleId",
     [] {
       v1::StoredObject o;
       o.mutable_chain()->set_id(kId);
       o.mutable_chain()->add_rule_ids("r1");
       return o;
     },
     "rule_ids[0]"},
};

INSTANTIATE_TEST_SUITE_P(Objects, ValidateTest, ::testing::ValuesIn(kCases),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(ValidateFieldsTest, IgnoresDanglingReferences) {
  // The referenced bridge is not in the single-object topology; that is the store's check.
  EXPECT_TRUE(validateFields(bridgePort()).ok());
}

TEST(ValidateFieldsTest, SingleObjectSnapshotIsCheap) {
  v1::StoredObject o = rule(v1::Rule::DROP);
  o.mutable_rule()->mutable_condition()->set_nw_src("10.0.0.0/8");
  o.mutable_rule()->mutable_condition()->mutable_tp_dst()->set_start(80);
  constexpr int kRounds = 2000;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRounds; ++i) ASSERT_TRUE(validateFields(o).ok());
  auto per_call = (std::chrono::steady_clock::now() - start) / kRounds;
  RecordProperty("ns_per_call", std::to_string(per_call.count()));
  // Generous (sanitizer builds): the point is "microseconds, not milliseconds".
  EXPECT_LT(per_call, std::chrono::milliseconds(1));
}

}  // namespace
}  // namespace loom::store
