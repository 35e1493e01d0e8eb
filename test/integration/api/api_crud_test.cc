// The REST API's object routes over real HTTP: create / get / replace / delete of every kind,
// list filters and pagination, rule order, referrers and port bindings.
#include <gmock/gmock.h>

#include <set>

#include "api_test_util.h"

namespace loom::testing {
namespace {

using ::testing::ElementsAre;

class ApiCrudTest : public ApiTestBase {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(startAll()); }
};

struct KindCase {
  std::string coll;
  Json object;
  Json change;  // Merged into the object for the PUT.
};

TEST_F(ApiCrudTest, EveryKindCreatesReadsReplacesAndDeletes) {
  // In dependency order; ids of earlier objects are filled into later ones.
  std::vector<KindCase> cases = {
      {"hosts", {{"name", "h1"}}, {{"name", "h1-renamed"}}},
      {"tunnel_zones",
       {{"name", "z"},
        {"type", "VXLAN"},
        {"members", Json::array({{{"host_id", "$hosts"}, {"address", "192.168.1.1"}}})}},
       {{"name", "z2"}}},
      {"chains", {{"name", "c"}}, {{"name", "c2"}}},
      {"rules",
       {{"chain_id", "$chains"}, {"action", "ACCEPT"}, {"name", "r"}},
       {{"action", "DROP"}}},
      {"port_groups",
       {{"name", "pg"}, {"tenant_id", "7e000000-0000-4000-8000-000000000009"}},
       {{"stateful", true}}},
      {"ip_addr_groups",
       {{"name", "ig"}, {"addresses", Json::array({"10.0.0.0/8"})}},
       {{"addresses", Json::array({"10.0.0.0/8", "192.168.0.1"})}}},
      {"bridges", {{"name", "b"}}, {{"arp_suppression", false}}},
      {"routers", {{"name", "r"}}, {{"admin_state_up", false}}},
      {"ports", {{"name", "p"}, {"bridge_id", "$bridges"}}, {{"mac", "02:00:00:00:00:01"}}},
      {"routes",
       {{"router_id", "$routers"}, {"dst_prefix", "10.9.0.0/16"}, {"next_hop", "BLACKHOLE"}},
       {{"weight", 5}}},
  };
  std::map<std::string, std::string> ids;
  auto fill = [&](Json j) {
    std::string text = j.dump();
    for (const auto& [coll, id] : ids) {
      std::string ph = "\"$" + coll + "\"";
      for (size_t p; (p = text.find(ph)) != std::string::npos;)
        text.replace(p, ph.size(), "\"" + id + "\"");
    }
    return Json::parse(text);
  };
  for (KindCase& c : cases) {
    SCOPED_TRACE(c.coll);
    Json object = fill(c.object);
    HttpResult created = post("/api/v1/" + c.coll, object);
    ASSERT_EQ(created.status, 201) << created.describe();
    std::string id = created.json["item"]["id"];
    ASSERT_EQ(id.size(), 36U);
    ids[c.coll] = id;
    EXPECT_EQ(created.header("Location"), "/api/v1/" + c.coll + "/" + id);
    EXPECT_EQ(created.header("X-Loom-Revision"),
              std::to_string(created.json["revision"].get<int64_t>()));
    EXPECT_FALSE(created.header("ETag").empty());

    HttpResult got = get("/api/v1/" + c.coll + "/" + id);
    ASSERT_EQ(got.status, 200) << got.describe();
    for (const auto& [k, v] : object.items()) EXPECT_EQ(got.json["item"][k], v) << k;
    EXPECT_EQ(got.header("ETag"),
              "\"" + std::to_string(got.json["mod_revision"].get<int64_t>()) + "\"");
    EXPECT_GT(got.json["create_revision"].get<int64_t>(), 0);

    Json replaced = object;
    replaced.merge_patch(c.change);
    HttpResult updated = put("/api/v1/" + c.coll + "/" + id, replaced);
    ASSERT_EQ(updated.status, 200) << updated.describe();
    EXPECT_EQ(updated.json["item"]["id"], id);
    HttpResult after = get("/api/v1/" + c.coll + "/" + id);
    for (const auto& [k, v] : c.change.items()) {
      if (v == false) {
        EXPECT_EQ(after.json["item"].value(k, Json(false)), v) << k;
      } else {
        EXPECT_EQ(after.json["item"][k], v) << k;
      }
    }
    EXPECT_GT(after.json["mod_revision"].get<int64_t>(), got.json["mod_revision"].get<int64_t>());
  }
  for (auto it = cases.rbegin(); it != cases.rend(); ++it) {
    SCOPED_TRACE(it->coll);
    std::string path = "/api/v1/" + it->coll + "/" + ids[it->coll];
    HttpResult deleted = del(path);
    ASSERT_EQ(deleted.status, 200) << deleted.describe();
    ASSERT_FALSE(deleted.json["deleted"].empty());
    EXPECT_EQ(deleted.json["deleted"].back()["id"], ids[it->coll]);
    EXPECT_EQ(get(path).status, 404);
  }
}

TEST_F(ApiCrudTest, BodyIsJsonWhateverTheContentType) {
  // curl -d sends application/x-www-form-urlencoded; the body is still the object, and its
  // text is not taken for query parameters.
  HttpResult r =
      call("POST", "/api/v1/bridges", R"({"name": "b"})", {}, "application/x-www-form-urlencoded");
  ASSERT_EQ(r.status, 201) << r.describe();
  EXPECT_EQ(r.json["item"]["name"], "b");
}

TEST_F(ApiCrudTest, ListFiltersByTenantAndParent) {
  const std::string ta = "7e000000-0000-4000-8000-00000000000a";
  const std::string tb = "7e000000-0000-4000-8000-00000000000b";
  std::string b1 = create("bridges", {{"name", "b1"}, {"tenant_id", ta}})["id"];
  std::string b2 = create("bridges", {{"name", "b2"}, {"tenant_id", tb}})["id"];
  create("ports", {{"name", "p1"}, {"bridge_id", b1}, {"tenant_id", ta}});
  create("ports", {{"name", "p2"}, {"bridge_id", b1}, {"tenant_id", ta}});
  create("ports", {{"name", "p3"}, {"bridge_id", b2}, {"tenant_id", tb}});

  HttpResult by_tenant = get("/api/v1/bridges?tenant_id=" + ta);
  ASSERT_EQ(by_tenant.status, 200) << by_tenant.describe();
  ASSERT_EQ(by_tenant.json["items"].size(), 1U);
  EXPECT_EQ(by_tenant.json["items"][0]["name"], "b1");
  EXPECT_GT(by_tenant.json["revision"].get<int64_t>(), 0);

  HttpResult by_parent = get("/api/v1/ports?parent_id=" + b1);
  ASSERT_EQ(by_parent.status, 200) << by_parent.describe();
  std::set<std::string> names;
  for (const Json& p : by_parent.json["items"]) names.insert(p["name"]);
  EXPECT_EQ(names, (std::set<std::string>{"p1", "p2"}));
  EXPECT_EQ(get("/api/v1/ports").json["items"].size(), 3U);
}

TEST_F(ApiCrudTest, ListPaginatesAtOneRevision) {
  for (int i = 0; i < 5; ++i) create("bridges", {{"name", "b" + std::to_string(i)}});
  std::set<std::string> seen;
  HttpResult page = get("/api/v1/bridges?limit=2");
  ASSERT_EQ(page.status, 200) << page.describe();
  const int64_t revision = page.json["revision"];
  int pages = 1;
  while (true) {
    ASSERT_LE(page.json["items"].size(), 2U);
    for (const Json& b : page.json["items"]) seen.insert(b["id"]);
    std::string token = page.json.value("next_page_token", "");
    if (token.empty()) break;
    // A write between pages does not show up: later pages read at the first one's revision.
    if (pages == 1) create("bridges", {{"name", "late"}});
    page = get("/api/v1/bridges?limit=2&revision=" + std::to_string(revision) +
               "&page_token=" + httplib::detail::encode_query_param(token));
    ASSERT_EQ(page.status, 200) << page.describe();
    ASSERT_LT(++pages, 10);
  }
  EXPECT_EQ(seen.size(), 5U);
  EXPECT_EQ(pages, 3);
}

TEST_F(ApiCrudTest, RulesListInChainOrderAndPositionInserts) {
  std::string chain = create("chains", {{"name", "c"}})["id"];
  create("rules", {{"chain_id", chain}, {"name", "r1"}, {"action", "ACCEPT"}});
  create("rules", {{"chain_id", chain}, {"name", "r2"}, {"action", "ACCEPT"}});
  HttpResult first =
      post("/api/v1/rules?position=0", {{"chain_id", chain}, {"name", "r0"}, {"action", "DROP"}});
  ASSERT_EQ(first.status, 201) << first.describe();
  HttpResult rules = get("/api/v1/rules?parent_id=" + chain);
  ASSERT_EQ(rules.status, 200) << rules.describe();
  std::vector<std::string> names;
  for (const Json& r : rules.json["items"]) names.push_back(r["name"]);
  EXPECT_THAT(names, ElementsAre("r0", "r1", "r2"));
  EXPECT_EQ(get("/api/v1/chains/" + chain).json["item"]["rule_ids"].size(), 3U);
}

TEST_F(ApiCrudTest, ReferrersNameTheReferringFields) {
  std::string bridge = create("bridges", {{"name", "b"}})["id"];
  std::string port = create("ports", {{"name", "p"}, {"bridge_id", bridge}})["id"];
  HttpResult r = get("/api/v1/bridges/" + bridge + "/referrers");
  ASSERT_EQ(r.status, 200) << r.describe();
  ASSERT_EQ(r.json["referrers"].size(), 1U);
  EXPECT_EQ(r.json["referrers"][0]["kind"], "port");
  EXPECT_EQ(r.json["referrers"][0]["id"], port);
  EXPECT_EQ(r.json["referrers"][0]["fields"], Json::array({"bridge_id"}));
}

TEST_F(ApiCrudTest, BindingSetsAndClearsTheHostInterface) {
  std::string host = create("hosts", {{"name", "h"}})["id"];
  std::string bridge = create("bridges", {{"name", "b"}})["id"];
  std::string port = create("ports", {{"name", "p"}, {"bridge_id", bridge}})["id"];

  HttpResult bound =
      put("/api/v1/ports/" + port + "/binding", {{"host_id", host}, {"interface_name", "tap0"}});
  ASSERT_EQ(bound.status, 200) << bound.describe();
  EXPECT_EQ(bound.json["item"]["host_id"], host);
  EXPECT_FALSE(bound.header("X-Loom-Revision").empty());

  HttpResult list = get("/api/v1/bindings?host_id=" + host);
  ASSERT_EQ(list.status, 200) << list.describe();
  ASSERT_EQ(list.json["items"].size(), 1U);
  EXPECT_EQ(list.json["items"][0]["port_id"], port);
  EXPECT_EQ(list.json["items"][0]["interface_name"], "tap0");
  EXPECT_EQ(list.json["items"][0]["active"], false);

  HttpResult status = get("/api/v1/ports/" + port + "/status");
  ASSERT_EQ(status.status, 200) << status.describe();
  EXPECT_EQ(status.json["bound"], true);
  EXPECT_EQ(status.json["host_id"], host);
  EXPECT_EQ(status.json["active"], false);

  HttpResult unbound = del("/api/v1/ports/" + port + "/binding");
  ASSERT_EQ(unbound.status, 200) << unbound.describe();
  EXPECT_FALSE(unbound.json["item"].contains("host_id"));
  EXPECT_EQ(get("/api/v1/ports/" + port + "/status").json["bound"], false);
  EXPECT_TRUE(get("/api/v1/bindings").json["items"].empty());
}

}  // namespace
}  // namespace loom::testing
