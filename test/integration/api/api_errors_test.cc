// Every error class of the REST API over real HTTP: 400 naming the field, 401, 404, 405, 409,
// 413, and 503 within a bounded time when etcd is down.
#include <gmock/gmock.h>

#include "api_test_util.h"

namespace loom::testing {
namespace {

using ::testing::HasSubstr;

class ApiErrorsTest : public ApiTestBase {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(startAll()); }

  void expect400(const HttpResult& r, const std::string& field) {
    EXPECT_EQ(r.status, 400) << r.describe();
    EXPECT_EQ(r.errorCode(), "INVALID_ARGUMENT") << r.describe();
    EXPECT_EQ(r.errorField(), field) << r.describe();
  }
};

TEST_F(ApiErrorsTest, BadCidrIs400NamingTheAddress) {
  std::string bridge = create("bridges", {{"name", "b"}})["id"];
  expect400(post("/api/v1/ports", {{"bridge_id", bridge},
                                   {"addresses", Json::array({"10.0.0.1/24", "10.0.0.300/24"})}}),
            "addresses[1]");
}

TEST_F(ApiErrorsTest, BadMacIs400NamingTheMac) {
  std::string bridge = create("bridges", {{"name", "b"}})["id"];
  expect400(post("/api/v1/ports", {{"bridge_id", bridge}, {"mac", "02:00:00:00:00:zz"}}), "mac");
}

TEST_F(ApiErrorsTest, OutOfRangeIs400NamingTheField) {
  std::string chain = create("chains", {{"name", "c"}})["id"];
  HttpResult r = post(
      "/api/v1/rules",
      {{"chain_id", chain}, {"action", "ACCEPT"}, {"condition", {{"tp_dst", {{"start", 70000}}}}}});
  EXPECT_EQ(r.status, 400) << r.describe();
  EXPECT_THAT(r.errorField(), HasSubstr("tp_dst")) << r.describe();
  expect400(post("/api/v1/ports", {{"mtu", -1}}), "mtu");
}

TEST_F(ApiErrorsTest, UnknownFieldIs400WithItsPath) {
  HttpResult r = post("/api/v1/rules", {{"condition", {{"nw_srcc", "10.0.0.0/8"}}}});
  expect400(r, "condition.nw_srcc");
  EXPECT_THAT(r.json["error"]["message"].get<std::string>(), HasSubstr("unknown field"));
}

TEST_F(ApiErrorsTest, WrongTypeIs400WithItsPath) {
  HttpResult r = post("/api/v1/rules", {{"condition", {{"tp_dst", {{"start", "ssh"}}}}}});
  expect400(r, "condition.tp_dst.start");
  EXPECT_THAT(r.json["error"]["message"].get<std::string>(), HasSubstr("expected a number"));
}

TEST_F(ApiErrorsTest, DanglingReferenceIs400NamingTheReference) {
  expect400(post("/api/v1/ports", {{"bridge_id", "b1000000-0001-4000-8000-0000000000ff"}}),
            "bridge_id");
}

TEST_F(ApiErrorsTest, MalformedJsonIs400WithTheOffset) {
  HttpResult r = call("POST", "/api/v1/bridges", "{\"name\": \"b\",}");
  expect400(r, "");
  EXPECT_THAT(r.json["error"]["message"].get<std::string>(), HasSubstr("(offset 13)"));
}

TEST_F(ApiErrorsTest, BadQueryParameterIs400NamingIt) {
  expect400(get("/api/v1/bridges?limit=0"), "limit");
  expect400(get("/api/v1/bridges?limit=abc"), "limit");
  expect400(get("/api/v1/bridges?revision=-3"), "revision");
  expect400(get("/api/v1/bridges?colour=red"), "colour");
  std::string bridge = create("bridges", {{"name", "b"}})["id"];
  expect400(del("/api/v1/bridges/" + bridge + "?cascade=maybe"), "cascade");
  expect400(post("/api/v1/bridges?position=1", {{"name", "x"}}), "position");
}

TEST_F(ApiErrorsTest, PutWithADifferentIdIs400) {
  std::string bridge = create("bridges", {{"name", "b"}})["id"];
  expect400(put("/api/v1/bridges/" + bridge,
                {{"id", "b1000000-0001-4000-8000-0000000000aa"}, {"name", "x"}}),
            "id");
}

TEST_F(ApiErrorsTest, UnknownIdCollectionOrPathIs404) {
  HttpResult r = get("/api/v1/bridges/b1000000-0001-4000-8000-0000000000ff");
  EXPECT_EQ(r.status, 404) << r.describe();
  EXPECT_EQ(r.errorCode(), "NOT_FOUND");
  EXPECT_EQ(get("/api/v1/widgets").status, 404);
  EXPECT_EQ(get("/api/v2/bridges").status, 404);
  EXPECT_EQ(get("/api/v1/bridges/x/y/z").status, 404);
  EXPECT_EQ(get("/api/v1/bridges/x/status").status, 404);
  EXPECT_EQ(get("/").status, 404);
}

TEST_F(ApiErrorsTest, WrongMethodIs405WithAllow) {
  HttpResult r = del("/api/v1/bridges");
  EXPECT_EQ(r.status, 405) << r.describe();
  EXPECT_EQ(r.header("Allow"), "GET, POST");
  HttpResult patch = call("PATCH", "/api/v1/bridges/b1000000-0001-4000-8000-0000000000ff", "{}");
  EXPECT_EQ(patch.status, 405) << patch.describe();
  EXPECT_EQ(patch.header("Allow"), "DELETE, GET, PUT");
  EXPECT_EQ(get("/api/v1/sync").status, 405);
}

TEST_F(ApiErrorsTest, DeletingAReferencedObjectIs409UnlessCascading) {
  std::string bridge = create("bridges", {{"name", "b"}})["id"];
  std::string port = create("ports", {{"name", "p"}, {"bridge_id", bridge}})["id"];
  HttpResult r = del("/api/v1/bridges/" + bridge);
  EXPECT_EQ(r.status, 409) << r.describe();
  EXPECT_EQ(r.errorCode(), "FAILED_PRECONDITION");
  HttpResult cascade = del("/api/v1/bridges/" + bridge + "?cascade=true");
  ASSERT_EQ(cascade.status, 200) << cascade.describe();
  EXPECT_EQ(cascade.json["deleted"].size(), 2U);
  EXPECT_EQ(get("/api/v1/ports/" + port).status, 404);
}

TEST_F(ApiErrorsTest, IfMatchMismatchIs409Aborted) {
  HttpResult created = post("/api/v1/bridges", {{"name", "b"}});
  ASSERT_EQ(created.status, 201);
  std::string id = created.json["item"]["id"];
  std::string etag = created.header("ETag");
  ASSERT_EQ(put("/api/v1/bridges/" + id, {{"name", "b2"}}).status, 200);
  HttpResult stale =
      call("PUT", "/api/v1/bridges/" + id, Json{{"name", "b3"}}.dump(), {{"If-Match", etag}});
  EXPECT_EQ(stale.status, 409) << stale.describe();
  EXPECT_EQ(stale.errorCode(), "ABORTED");
  HttpResult stale_delete = call("DELETE", "/api/v1/bridges/" + id, "", {{"If-Match", etag}});
  EXPECT_EQ(stale_delete.status, 409) << stale_delete.describe();
  std::string fresh = get("/api/v1/bridges/" + id).header("ETag");
  HttpResult ok =
      call("PUT", "/api/v1/bridges/" + id, Json{{"name", "b3"}}.dump(), {{"If-Match", fresh}});
  EXPECT_EQ(ok.status, 200) << ok.describe();
}

TEST_F(ApiErrorsTest, TakenIdIs409AlreadyExists) {
  Json bridge = {{"id", "b1000000-0001-4000-8000-0000000000bb"}, {"name", "b"}};
  ASSERT_EQ(post("/api/v1/bridges", bridge).status, 201);
  HttpResult again = post("/api/v1/bridges", bridge);
  EXPECT_EQ(again.status, 409) << again.describe();
  EXPECT_EQ(again.errorCode(), "ALREADY_EXISTS");
}

TEST_F(ApiErrorsTest, OversizeBodyIs413) {
  std::string big = "{\"name\": \"" + std::string((1 << 20) + 1, 'x') + "\"}";
  HttpResult r = call("POST", "/api/v1/bridges", big);
  EXPECT_EQ(r.status, 413) << r.status;
  EXPECT_EQ(r.errorCode(), "RESOURCE_EXHAUSTED") << r.body;
}

TEST_F(ApiErrorsTest, OpenApiDocumentParsesAndListsEveryPath) {
  HttpResult r = get("/api/v1/openapi.json");
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(r.json.is_object()) << r.body.substr(0, 200);
  for (const char* coll : {"bridges", "routers", "ports", "routes", "chains", "rules",
                           "port_groups", "ip_addr_groups", "hosts", "tunnel_zones"}) {
    std::string base = std::string("/api/v1/") + coll;
    EXPECT_TRUE(r.json["paths"].contains(base)) << base;
    EXPECT_TRUE(r.json["paths"].contains(base + "/{id}")) << base;
    EXPECT_TRUE(r.json["paths"].contains(base + "/{id}/referrers")) << base;
  }
  for (const char* p :
       {"/api/v1/ports/{id}/binding", "/api/v1/bindings", "/api/v1/ports/{id}/status",
        "/api/v1/host_status", "/api/v1/hosts/{id}/status", "/api/v1/sync", "/api/v1/trace",
        "/api/v1/openapi.json", "/healthz"}) {
    EXPECT_TRUE(r.json["paths"].contains(p)) << p;
  }
}

TEST_F(ApiErrorsTest, HealthzAndMetricsAnswer) {
  HttpResult h = get("/healthz");
  ASSERT_EQ(h.status, 200) << h.describe();
  EXPECT_EQ(h.json["status"], "ok");
  EXPECT_EQ(h.json["etcd"], "ok");
  get("/api/v1/widgets");
  HttpResult m = get("/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_THAT(m.body, HasSubstr("loom_api_requests_total{method=\"GET\",status=\"404\"} 1"));
  EXPECT_THAT(m.body, HasSubstr("loom_api_request_duration_seconds_count"));
}

class ApiAuthTest : public ApiTestBase {
 protected:
  void SetUp() override {
    api::ApiServerOptions o;
    o.token = "s3cret-token";
    ASSERT_NO_FATAL_FAILURE(startAll(o));
  }
};

TEST_F(ApiAuthTest, MissingOrWrongTokenIs401AndTheRightOneWorks) {
  HttpResult none = call("GET", "/api/v1/bridges", "", {{"Authorization", ""}});
  EXPECT_EQ(none.status, 401) << none.describe();
  EXPECT_EQ(none.header("WWW-Authenticate"), "Bearer");
  HttpResult wrong = call("GET", "/api/v1/bridges", "", {{"Authorization", "Bearer s3cret-tokeN"}});
  EXPECT_EQ(wrong.status, 401) << wrong.describe();
  HttpResult prefix = call("GET", "/api/v1/bridges", "", {{"Authorization", "Bearer s3cret"}});
  EXPECT_EQ(prefix.status, 401);
  HttpResult post_wrong = call("POST", "/api/v1/bridges", "{}", {{"Authorization", "Basic x"}});
  EXPECT_EQ(post_wrong.status, 401);
  EXPECT_EQ(get("/api/v1/bridges").status, 200);
  EXPECT_EQ(call("GET", "/healthz", "", {{"Authorization", ""}}).status, 200);
}

class ApiEtcdDownTest : public ApiTestBase {
 protected:
  void SetUp() override {
    cluster_ = EtcdCluster::start(1);
    ASSERT_NE(cluster_, nullptr);
    etcd::ClientOptions co = cluster_->clientOptions();
    co.call_timeout = std::chrono::milliseconds(1000);
    co.channel_tag = "api-etcd-down";
    api::ApiServerOptions o;
    o.call_timeout = co.call_timeout;
    ASSERT_NO_FATAL_FAILURE(startAll(o, &co));
  }
  std::unique_ptr<EtcdCluster> cluster_;
};

TEST_F(ApiEtcdDownTest, RequestsAre503WithinTheCallTimeout) {
  std::string bridge = create("bridges", {{"name", "b"}})["id"];
  cluster_->member(0).kill();
  const double bound = 1.0 + 1.0;  // The call timeout + 1 s.
  for (int i = 0; i < 2; ++i) {
    HttpResult list = get("/api/v1/bridges");
    EXPECT_EQ(list.status, 503) << list.describe();
    EXPECT_THAT(list.errorCode(), ::testing::AnyOf("UNAVAILABLE", "DEADLINE_EXCEEDED"));
    EXPECT_EQ(list.header("Retry-After"), "1");
    EXPECT_LT(list.seconds, bound);
  }
  HttpResult write = post("/api/v1/bridges", {{"name", "b2"}});
  EXPECT_EQ(write.status, 503) << write.describe();
  EXPECT_LT(write.seconds, bound);
  HttpResult one = get("/api/v1/bridges/" + bridge);
  EXPECT_EQ(one.status, 503) << one.describe();
  EXPECT_LT(one.seconds, bound);
  HttpResult health = get("/healthz");
  EXPECT_EQ(health.status, 503) << health.describe();
  EXPECT_LT(health.seconds, bound);
}

TEST_F(ApiEtcdDownTest, RequestsToAHungEtcdAre503WithinTheCallTimeout) {
  ASSERT_EQ(create("bridges", {{"name", "b"}}).value("name", ""), "b");
  cluster_->member(0).stop();  // SIGSTOP: connections stay open, nothing answers.
  const double bound = 1.0 + 1.0;
  HttpResult list = get("/api/v1/bridges");
  EXPECT_EQ(list.status, 503) << list.describe();
  EXPECT_THAT(list.errorCode(), ::testing::AnyOf("UNAVAILABLE", "DEADLINE_EXCEEDED"));
  EXPECT_LT(list.seconds, bound);
  HttpResult write = post("/api/v1/bridges", {{"name", "b2"}});
  EXPECT_EQ(write.status, 503) << write.describe();
  EXPECT_LT(write.seconds, bound);
}

}  // namespace
}  // namespace loom::testing
