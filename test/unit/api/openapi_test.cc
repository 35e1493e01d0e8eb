// The generated OpenAPI document: valid JSON, every route, schemas from the descriptors.
#include "api/openapi.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "store/keys.h"

namespace loom::api {
namespace {

using Json = nlohmann::json;

class OpenApiTest : public ::testing::Test {
 protected:
  Json doc_ = Json::parse(buildOpenApiDocument());
};

TEST_F(OpenApiTest, IsOpenApi3WithBearerSecurity) {
  EXPECT_EQ(doc_["openapi"].get<std::string>().substr(0, 2), "3.");
  EXPECT_EQ(doc_["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
}

TEST_F(OpenApiTest, ListsEveryCollectionAndItsItemRoutes) {
  for (size_t k = 0; k < store::kKindCount; ++k) {
    std::string coll = "/api/v1/" + std::string(store::kindName(static_cast<store::Kind>(k))) + "s";
    ASSERT_TRUE(doc_["paths"].contains(coll)) << coll;
    EXPECT_TRUE(doc_["paths"][coll].contains("get")) << coll;
    EXPECT_TRUE(doc_["paths"][coll].contains("post")) << coll;
    for (const char* m : {"get", "put", "delete"}) {
      EXPECT_TRUE(doc_["paths"][coll + "/{id}"].contains(m)) << coll << " " << m;
    }
    EXPECT_TRUE(doc_["paths"].contains(coll + "/{id}/referrers")) << coll;
  }
}

TEST_F(OpenApiTest, ListsTheOtherRoutes) {
  for (const char* p :
       {"/api/v1/ports/{id}/binding", "/api/v1/bindings", "/api/v1/ports/{id}/status",
        "/api/v1/host_status", "/api/v1/hosts/{id}/status", "/api/v1/sync", "/api/v1/trace",
        "/api/v1/openapi.json", "/healthz"}) {
    EXPECT_TRUE(doc_["paths"].contains(p)) << p;
  }
}

TEST_F(OpenApiTest, SchemasFollowTheDescriptors) {
  const Json& s = doc_["components"]["schemas"];
  EXPECT_EQ(s["Port"]["properties"]["addresses"]["type"], "array");
  EXPECT_EQ(s["Port"]["properties"]["addresses"]["items"]["type"], "string");
  EXPECT_EQ(s["Port"]["properties"]["admin_state_up"]["type"], "boolean");
  EXPECT_EQ(s["Rule"]["properties"]["condition"]["$ref"], "#/components/schemas/Condition");
  EXPECT_EQ(s["Condition"]["properties"]["tp_dst"]["$ref"], "#/components/schemas/PortRange");
  EXPECT_EQ(s["Rule"]["properties"]["action"]["$ref"], "#/components/schemas/Rule.Action");
  EXPECT_THAT(s["Rule.Action"]["enum"].get<std::vector<std::string>>(),
              ::testing::Contains("ACCEPT"));
  EXPECT_EQ(s["TunnelZone"]["properties"]["members"]["items"]["$ref"],
            "#/components/schemas/TunnelZone.Member");
  EXPECT_EQ(s["PortRange"]["properties"]["start"]["type"], "integer");
  EXPECT_FALSE(s["Condition"]["properties"].contains("nat_target"));
}

TEST_F(OpenApiTest, EveryReferenceResolves) {
  std::vector<const Json*> stack = {&doc_};
  int refs = 0;
  while (!stack.empty()) {
    const Json* j = stack.back();
    stack.pop_back();
    if (j->is_object()) {
      if (auto it = j->find("$ref"); it != j->end()) {
        std::string name =
            it->get<std::string>().substr(std::string("#/components/schemas/").size());
        EXPECT_TRUE(doc_["components"]["schemas"].contains(name)) << name;
        ++refs;
      }
      for (const auto& [k, v] : j->items()) stack.push_back(&v);
    } else if (j->is_array()) {
      for (const auto& v : *j) stack.push_back(&v);
    }
  }
  EXPECT_GT(refs, 20);
}

}  // namespace
}  // namespace loom::api
