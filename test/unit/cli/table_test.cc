#include "cli/table.h"

#include <gtest/gtest.h>

namespace loom::cli {
namespace {

using nlohmann::json;

TEST(TableTest, ColumnsAreAlignedAndEmptyCellsDashed) {
  std::string t = renderTable({"ID", "NAME", "X"}, {{"1", "long-name", ""}, {"22", "", "z"}});
  EXPECT_EQ(t,
            "ID  NAME       X\n"
            "1   long-name  -\n"
            "22  -          z\n");
}

TEST(TableTest, PortColumnsShowDeviceAndAttachment) {
  json items = json::parse(R"([
    {"id":"p1","name":"vm","bridge_id":"b1","host_id":"h1","interface_name":"tap0",
     "mac":"02:00:00:00:00:01","addresses":["10.0.0.2/24","10.0.0.3/24"]},
    {"id":"p2","name":"up","router_id":"r1","peer_id":"p9"}])");
  std::string t = renderItems(kindInfo(store::Kind::Port), items);
  EXPECT_EQ(t,
            "ID  NAME  DEVICE     ATTACHMENT    MAC                ADDRESSES\n"
            "p1  vm    bridge b1  host h1 tap0  02:00:00:00:00:01  10.0.0.2/24,10.0.0.3/24\n"
            "p2  up    router r1  peer p9       -                  -\n");
}

TEST(TableTest, BridgeStateDefaultsToUp) {
  json items = json::parse(
      R"([{"id":"b1","name":"a","tenant_id":"t"},{"id":"b2","name":"b","admin_state_up":false}])");
  std::string t = renderItems(kindInfo(store::Kind::Bridge), items);
  EXPECT_NE(t.find("b1  a     t       up"), std::string::npos) << t;
  EXPECT_NE(t.find("b2  b     -       down"), std::string::npos) << t;
}

TEST(TableTest, ObjectIsFlattenedWithIdFirst) {
  json rule = json::parse(R"({"name":"ssh","id":"r1","action":"ACCEPT",
      "condition":{"nw_src":"10.0.0.0/24","tp_dst":{"start":22}}})");
  std::string s = renderObject(rule);
  EXPECT_EQ(s.rfind("id:", 0), 0u) << s;
  EXPECT_NE(s.find("\nname:"), std::string::npos) << s;
  EXPECT_NE(s.find("condition.tp_dst.start: 22"), std::string::npos) << s;
}

TEST(TableTest, ArraysOfObjectsAreIndexed) {
  json zone = json::parse(R"({"id":"z","members":[{"host_id":"h1","address":"1.1.1.1"}]})");
  std::string s = renderObject(zone);
  EXPECT_NE(s.find("members[0].host_id: h1"), std::string::npos) << s;
}

TEST(KindsTest, BothSpellingsAndPluralsAreAccepted) {
  EXPECT_EQ(findKind("port-group")->kind, store::Kind::PortGroup);
  EXPECT_EQ(findKind("ip_addr_groups")->kind, store::Kind::IpAddrGroup);
  EXPECT_EQ(findKind("tunnel-zone")->collection, "tunnel_zones");
  EXPECT_EQ(findKind("bridge")->descriptor->name(), "Bridge");
  EXPECT_EQ(findKind("portal"), nullptr);
}

TEST(KindsTest, TableIsInStoreKindOrder) {
  for (size_t i = 0; i < allKinds().size(); ++i) {
    EXPECT_EQ(static_cast<size_t>(allKinds()[i].kind), i);
  }
  EXPECT_EQ(allKinds().size(), store::kKindCount);
}

}  // namespace
}  // namespace loom::cli
