// The schema's JSON form: round trip, field names, and precise errors.
#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "unit/model/model_test_util.h"

namespace loom::model {
namespace {

using ::testing::HasSubstr;

TEST(TopologyJson, RoundTripPreservesEveryField) {
  testing::TopologyBuilder tb;
  v1::Bridge& b = tb.bridge(1, "net");
  b.set_admin_state_up(false);
  b.set_arp_suppression(true);
  v1::Port& p = tb.bridgePort(2, 1);
  p.set_mac("02:00:00:00:00:02");
  p.add_addresses("10.0.0.2/24");
  p.set_mtu(1400);
  tb.chain(3, {4});
  v1::Rule& r = tb.rule(4, 3, v1::Rule::JUMP);
  r.set_jump_chain_id(testing::id(3));
  r.mutable_condition()->set_ethertype(0);
  r.mutable_condition()->mutable_tp_dst()->set_start(80);
  r.mutable_condition()->set_conntrack(v1::Condition::RETURN_FLOW);
  std::string json = topologyToJson(tb.t);
  auto back = topologyFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status().toString();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(tb.t, *back)) << json;
}

TEST(TopologyJson, OutputUsesSchemaFieldNamesAndEnumNames) {
  testing::TopologyBuilder tb;
  tb.bridge(1).set_inbound_filter_id(testing::id(2));
  tb.rule(3, 2, v1::Rule::ACCEPT);
  std::string json = topologyToJson(tb.t);
  EXPECT_THAT(json, HasSubstr("\"inbound_filter_id\""));
  EXPECT_THAT(json, HasSubstr("\"chain_id\""));
  EXPECT_THAT(json, HasSubstr("\"ACCEPT\""));
  EXPECT_THAT(json, ::testing::Not(HasSubstr("inboundFilterId")));
}

TEST(TopologyJson, EnumsAndOptionalFieldsParse) {
  auto t = topologyFromJson(R"({
    "routes": [{"id": "x", "next_hop": "BLACKHOLE"}],
    "rules": [{"condition": {"nw_proto": 0, "fragment_policy": "NONHEADER"}}]
  })");
  ASSERT_TRUE(t.ok()) << t.status().toString();
  EXPECT_EQ(t->routes(0).next_hop(), v1::Route::BLACKHOLE);
  EXPECT_TRUE(t->rules(0).condition().has_nw_proto());
  EXPECT_EQ(t->rules(0).condition().fragment_policy(), v1::Condition::NONHEADER);
}

TEST(TopologyJson, UnknownFieldIsAnErrorNamingTheField) {
  auto t = topologyFromJson(R"({"bridges": [{"id": "x", "nmae": "typo"}]})");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::InvalidArgument);
  EXPECT_THAT(t.status().message(), HasSubstr("nmae"));
}

TEST(TopologyJson, WrongTypeIsAnErrorNamingTheField) {
  auto t = topologyFromJson(R"({"ports": [{"id": "x", "mtu": "large"}]})");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::InvalidArgument);
  EXPECT_THAT(t.status().message(), HasSubstr("mtu"));
}

TEST(TopologyJson, UnknownEnumNameIsAnError) {
  auto t = topologyFromJson(R"({"rules": [{"action": "ALLOW"}]})");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::InvalidArgument);
}

TEST(TopologyJson, MalformedJsonIsInvalidArgument) {
  auto t = topologyFromJson(R"({"bridges": [)");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::InvalidArgument);
  EXPECT_FALSE(t.status().message().empty());
}

TEST(TopologyJson, EmptyObjectIsAnEmptyTopology) {
  auto t = topologyFromJson("{}");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->ByteSizeLong(), 0u);
}

TEST(TopologyJson, MissingFileIsNotFound) {
  auto t = loadTopologyFile("/nonexistent/loom/topology.json");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::NotFound);
}

TEST(TopologyJson, DirectoryIsNotFound) {
  auto t = loadTopologyFile("/");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::NotFound);
}

}  // namespace
}  // namespace loom::model
