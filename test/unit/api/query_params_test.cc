// Query parameters and headers: each bad value is a 400 naming the parameter.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/request_decoder.h"

namespace loom::api {
namespace {

TEST(QueryParamsTest, ListQueryTakesEveryFilter) {
  auto o = decodeListQuery({{"tenant_id", "t"},
                            {"parent_id", "p"},
                            {"limit", "1000"},
                            {"page_token", "tok"},
                            {"revision", "7"}});
  ASSERT_TRUE(o.ok()) << o.status().toString();
  EXPECT_EQ(o->tenant_id, "t");
  EXPECT_EQ(o->parent_id, "p");
  EXPECT_EQ(o->limit, 1000);
  EXPECT_EQ(o->page_token, "tok");
  EXPECT_EQ(o->revision, 7);
}

struct BadParam {
  const char* name;
  const char* value;
};

class ListQueryErrorTest : public ::testing::TestWithParam<BadParam> {};

TEST_P(ListQueryErrorTest, NamesTheParameter) {
  auto o = decodeListQuery({{GetParam().name, GetParam().value}});
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), StatusCode::InvalidArgument);
  EXPECT_EQ(o.status().field(), GetParam().name);
}

INSTANTIATE_TEST_SUITE_P(Table, ListQueryErrorTest,
                         ::testing::Values(BadParam{"limit", "0"}, BadParam{"limit", "1001"},
                                           BadParam{"limit", "ten"}, BadParam{"limit", ""},
                                           BadParam{"limit", "5x"}, BadParam{"limit", "-1"},
                                           BadParam{"revision", "-1"},
                                           BadParam{"revision", "99999999999999999999"},
                                           BadParam{"colour", "red"}));

TEST(QueryParamsTest, RepeatedParameterIsRejected) {
  auto o = decodeListQuery({{"limit", "1"}, {"limit", "2"}});
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().field(), "limit");
}

TEST(QueryParamsTest, CascadeIsTrueOrFalse) {
  auto yes = decodeDeleteQuery({{"cascade", "true"}});
  ASSERT_TRUE(yes.ok());
  EXPECT_TRUE(yes->cascade);
  auto none = decodeDeleteQuery({});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->cascade);
  EXPECT_EQ(decodeDeleteQuery({{"cascade", "yes"}}).status().field(), "cascade");
}

TEST(QueryParamsTest, PositionOnlyForRules) {
  auto rule = decodeCreateQuery(store::Kind::Rule, {{"position", "3"}});
  ASSERT_TRUE(rule.ok());
  EXPECT_EQ(rule->position, 3);
  EXPECT_EQ(decodeCreateQuery(store::Kind::Rule, {}).value().position, -1);
  EXPECT_EQ(decodeCreateQuery(store::Kind::Bridge, {{"position", "3"}}).status().field(),
            "position");
  EXPECT_EQ(decodeCreateQuery(store::Kind::Rule, {{"position", "-2"}}).status().field(),
            "position");
}

TEST(QueryParamsTest, IfMatchTakesQuotedOrBareRevisions) {
  EXPECT_EQ(decodeIfMatch("").value(), 0);
  EXPECT_EQ(decodeIfMatch("*").value(), 0);
  EXPECT_EQ(decodeIfMatch("\"12\"").value(), 12);
  EXPECT_EQ(decodeIfMatch("12").value(), 12);
  EXPECT_EQ(decodeIfMatch("W/\"12\"").value(), 12);
  EXPECT_EQ(decodeIfMatch("\"abc\"").status().field(), "If-Match");
  EXPECT_EQ(decodeIfMatch("\"0\"").status().field(), "If-Match");
}

TEST(QueryParamsTest, EndpointsWithoutParametersRejectAny) {
  EXPECT_TRUE(decodeNoQuery({}).ok());
  EXPECT_EQ(decodeNoQuery({{"x", "1"}}).field(), "x");
  EXPECT_EQ(decodeBindingsQuery({{"host_id", "h"}}).value(), "h");
}

}  // namespace
}  // namespace loom::api
