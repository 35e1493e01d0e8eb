// The REST API's live routes over real HTTP: wait-for-sync against (fake) live hosts, host
// status, and traces against the server's replica, including examples/topologies/one-tenant.json
// built object by object through the API.
#include <gmock/gmock.h>

#include <thread>

#include "api/reply.h"
#include "api_test_util.h"
#include "model/json.h"
#include "replica/liveness.h"

namespace loom::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class ApiLiveTest : public ApiTestBase {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(startAll()); }

  std::unique_ptr<replica::HostRegistration> registerHost(const std::string& id) {
    v1::HostLiveness info;
    info.set_host_id(id);
    info.set_tunnel_address("192.168.100.9");
    replica::RegistrationOptions o;
    o.root = root_;
    auto reg = replica::HostRegistration::start(*client_, info, o);
    EXPECT_TRUE(reg.ok()) << reg.status().toString();
    return reg.ok() ? std::move(*reg) : nullptr;
  }
};

TEST_F(ApiLiveTest, SyncWaitsForLiveHostsAndReportsTheLaggingOnes) {
  const std::string host_id = "d1000000-0000-4000-8000-0000000000a1";
  auto host = registerHost(host_id);
  ASSERT_NE(host, nullptr);
  HttpResult first = post("/api/v1/bridges", {{"name", "b1"}});
  ASSERT_EQ(first.status, 201);
  const int64_t r1 = first.json["revision"];
  host->reportApplied(r1);

  HttpResult synced = post("/api/v1/sync", {{"timeout_ms", 5000}});
  ASSERT_EQ(synced.status, 200) << synced.describe();
  ASSERT_EQ(synced.json["hosts"].size(), 1U);
  EXPECT_EQ(synced.json["hosts"][0]["host_id"], host_id);
  EXPECT_GE(synced.json["hosts"][0]["applied_revision"].get<int64_t>(), r1);

  // Host status shows the live host (it has no configuration object).
  HttpResult status = get("/api/v1/hosts/" + host_id + "/status");
  ASSERT_EQ(status.status, 200) << status.describe();
  EXPECT_EQ(status.json["alive"], true);
  EXPECT_EQ(status.json["tunnel_address"], "192.168.100.9");

  // A newer topology change the host has not applied: 504 naming it.
  ASSERT_EQ(post("/api/v1/bridges", {{"name", "b2"}}).status, 201);
  HttpResult lagging = post("/api/v1/sync", {{"timeout_ms", 300}});
  EXPECT_EQ(lagging.status, 504) << lagging.describe();
  EXPECT_EQ(lagging.errorCode(), "DEADLINE_EXCEEDED");
  ASSERT_EQ(lagging.json["lagging"].size(), 1U);
  EXPECT_EQ(lagging.json["lagging"][0]["host_id"], host_id);
  EXPECT_LT(lagging.seconds, 3.0);

  // An explicit revision the host has applied is synced.
  HttpResult old = post("/api/v1/sync", {{"revision", r1}, {"timeout_ms", 5000}});
  EXPECT_EQ(old.status, 200) << old.describe();
}

TEST_F(ApiLiveTest, HostStatusListsConfiguredHostsWithLiveness) {
  std::string configured = create("hosts", {{"name", "h-config"}})["id"];
  auto live = registerHost(configured);
  ASSERT_NE(live, nullptr);
  bool alive = false;
  for (int i = 0; i < 100 && !alive; ++i) {
    HttpResult r = get("/api/v1/host_status");
    ASSERT_EQ(r.status, 200) << r.describe();
    ASSERT_EQ(r.json["items"].size(), 1U);
    EXPECT_EQ(r.json["items"][0]["name"], "h-config");
    alive = r.json["items"][0]["alive"] == true;
    if (!alive) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(alive);
  EXPECT_EQ(get("/api/v1/hosts/d1000000-0000-4000-8000-0000000000ff/status").status, 404);
}

TEST_F(ApiLiveTest, TraceOfTwoVmsOnABridgeForwards) {
  std::string host = create("hosts", {{"name", "h1"}})["id"];
  std::string bridge = create("bridges", {{"name", "net"}})["id"];
  for (int i = 1; i <= 2; ++i) {
    create("ports", {{"name", "vm" + std::to_string(i)},
                     {"bridge_id", bridge},
                     {"host_id", host},
                     {"interface_name", "tap" + std::to_string(i)},
                     {"mac", "02:00:00:00:00:0" + std::to_string(i)},
                     {"addresses", Json::array({"10.0.0." + std::to_string(i) + "/24"})}});
  }
  // Read-your-writes: the trace runs right after the writes.
  HttpResult r = post("/api/v1/trace", {{"port", "vm1"}, {"packets", {"tcp dst=10.0.0.2"}}});
  ASSERT_EQ(r.status, 200) << r.describe();
  std::string text = r.json["text"];
  EXPECT_THAT(text, HasSubstr("outcome: forward"));
  EXPECT_THAT(text, HasSubstr("egress: port vm2 on host h1"));
  EXPECT_GT(r.json["revision"].get<int64_t>(), 0);

  HttpResult bad_port = post("/api/v1/trace", {{"port", "nope"}, {"packets", {"tcp"}}});
  EXPECT_EQ(bad_port.status, 400) << bad_port.describe();
  EXPECT_EQ(bad_port.errorField(), "port");
  HttpResult bad_spec =
      post("/api/v1/trace", {{"port", "vm1"}, {"packets", {"tcp dst=10.0.0.2", "tcp dport=x"}}});
  EXPECT_EQ(bad_spec.status, 400) << bad_spec.describe();
  EXPECT_EQ(bad_spec.errorField(), "packets[1]");
}

// examples/topologies/one-tenant.json, object by object in dependency order.
class OneTenantTest : public ApiLiveTest {
 protected:
  Json toJson(const google::protobuf::Message& m) { return api::messageJson(m); }
  void createAll(const std::string& coll, const Json& items, const std::vector<std::string>& drop) {
    for (Json item : items) {
      for (const std::string& field : drop) item.erase(field);
      HttpResult r = post("/api/v1/" + coll, item);
      ASSERT_EQ(r.status, 201) << coll << " " << item.dump() << ": " << r.describe();
    }
  }
  void putAll(const std::string& coll, const Json& items) {
    for (const Json& item : items) {
      HttpResult r = put("/api/v1/" + coll + "/" + item["id"].get<std::string>(), item);
      ASSERT_EQ(r.status, 200) << coll << " " << item.dump() << ": " << r.describe();
    }
  }
};

TEST_F(OneTenantTest, BuiltThroughTheApiTracesTheForward) {
  auto topology = model::loadTopologyFile("examples/topologies/one-tenant.json");
  ASSERT_TRUE(topology.ok()) << topology.status().toString();
  Json t = toJson(*topology);
  // Hosts and tunnel zones refer to each other: hosts first without their zones.
  ASSERT_NO_FATAL_FAILURE(createAll("hosts", t["hosts"], {"tunnel_zone_ids"}));
  ASSERT_NO_FATAL_FAILURE(createAll("tunnel_zones", t["tunnel_zones"], {}));
  ASSERT_NO_FATAL_FAILURE(putAll("hosts", t["hosts"]));
  // Chains get their rule order from the rules, appended as they are created.
  ASSERT_NO_FATAL_FAILURE(createAll("chains", t["chains"], {"rule_ids"}));
  ASSERT_NO_FATAL_FAILURE(createAll("port_groups", t["port_groups"], {}));
  ASSERT_NO_FATAL_FAILURE(createAll("bridges", t["bridges"], {}));
  ASSERT_NO_FATAL_FAILURE(createAll("routers", t["routers"], {}));
  // Ports without peers, then the links (the store sets the other side).
  ASSERT_NO_FATAL_FAILURE(createAll("ports", t["ports"], {"peer_id"}));
  for (const Json& p : t["ports"]) {
    if (!p.contains("peer_id") || p["id"] > p["peer_id"]) continue;
    HttpResult r = put("/api/v1/ports/" + p["id"].get<std::string>(), p);
    ASSERT_EQ(r.status, 200) << r.describe();
  }
  ASSERT_NO_FATAL_FAILURE(createAll("rules", t["rules"], {}));
  ASSERT_NO_FATAL_FAILURE(createAll("routes", t["routes"], {}));

  // Everything as in the file.
  for (const Json& p : t["ports"]) {
    HttpResult r = get("/api/v1/ports/" + p["id"].get<std::string>());
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.json["item"], p);
  }
  EXPECT_EQ(get("/api/v1/chains/" + t["chains"][0]["id"].get<std::string>()).json["item"],
            t["chains"][0]);

  HttpResult r =
      post("/api/v1/trace", {{"port", "vm-a1"}, {"packets", {"tcp dst=10.0.1.11 dport=22"}}});
  ASSERT_EQ(r.status, 200) << r.describe();
  std::string text = r.json["text"];
  EXPECT_THAT(text, Not(HasSubstr("problem:")));
  EXPECT_THAT(text, HasSubstr("chain vm-b1-in: rule 2 'accept-ssh-from-net-a' matched: accept"));
  EXPECT_THAT(text, HasSubstr("outcome: forward\n"));
  EXPECT_THAT(text, HasSubstr("egress: port vm-b1 on host host-2"));
}

}  // namespace
}  // namespace loom::testing
