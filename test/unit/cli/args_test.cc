#include "cli/args.h"

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "loom/v1/topology.pb.h"

namespace loom::cli {
namespace {

using nlohmann::json;

std::optional<std::string> noEnv(const char*) { return std::nullopt; }
std::optional<std::string> someEnv(const char* name) {
  if (std::string(name) == "LOOM_API") return "http://api.example:9000/";
  if (std::string(name) == "LOOM_TOKEN") return "env-token";
  return std::nullopt;
}

json fields(const std::vector<std::string>& args, const google::protobuf::Descriptor* d) {
  auto f = parseFlags(args, {}, d);
  EXPECT_TRUE(f.ok()) << f.status().toString();
  return f.ok() ? f->fields : json();
}

std::string errorOf(const std::vector<std::string>& args, const google::protobuf::Descriptor* d,
                    const std::vector<OptionSpec>& options = {}) {
  auto f = parseFlags(args, options, d);
  EXPECT_FALSE(f.ok());
  return f.ok() ? "" : f.status().message();
}

TEST(GlobalOptionsTest, DefaultsWithoutEnvironment) {
  std::vector<std::string> args = {"bridge", "list"};
  auto g = extractGlobalOptions(args, noEnv);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->api_url, "http://127.0.0.1:8080");
  EXPECT_EQ(g->token, "");
  EXPECT_EQ(g->output, OutputFormat::Table);
  EXPECT_EQ(args, (std::vector<std::string>{"bridge", "list"}));
}

TEST(GlobalOptionsTest, EnvironmentGivesDefaultsAndFlagsAnywhereOverride) {
  std::vector<std::string> args = {"bridge",      "-o", "json", "list", "--token=flag-token",
                                   "--tenant-id", "t"};
  auto g = extractGlobalOptions(args, someEnv);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->api_url, "http://api.example:9000");
  EXPECT_EQ(g->token, "flag-token");
  EXPECT_EQ(g->output, OutputFormat::Json);
  EXPECT_EQ(args, (std::vector<std::string>{"bridge", "list", "--tenant-id", "t"}));
}

TEST(GlobalOptionsTest, TokenFileIsReadAndTrimmed) {
  std::string path = ::testing::TempDir() + "/loomctl-token";
  std::ofstream(path) << "  secret\n";
  std::vector<std::string> args = {"--token-file", path, "--api", "10.0.0.1:80", "host", "list"};
  auto g = extractGlobalOptions(args, someEnv);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->token, "secret");
  EXPECT_EQ(g->api_url, "http://10.0.0.1:80");
  std::remove(path.c_str());
}

TEST(GlobalOptionsTest, BadValuesAreErrors) {
  std::vector<std::string> a = {"-o", "yaml"};
  EXPECT_FALSE(extractGlobalOptions(a, noEnv).ok());
  std::vector<std::string> b = {"--timeout-ms", "soon"};
  EXPECT_FALSE(extractGlobalOptions(b, noEnv).ok());
  std::vector<std::string> c = {"--api"};
  EXPECT_FALSE(extractGlobalOptions(c, noEnv).ok());
}

TEST(FieldFlagsTest, StringAndRepeatedFields) {
  json j = fields({"--name", "vm1", "--tenant_id", "t", "--addresses", "10.0.0.1/24,10.0.0.2/24",
                   "--addresses=10.0.0.3/24"},
                  v1::Port::descriptor());
  EXPECT_EQ(j, json::parse(R"({"name":"vm1","tenant_id":"t",
      "addresses":["10.0.0.1/24","10.0.0.2/24","10.0.0.3/24"]})"));
}

TEST(FieldFlagsTest, EmptyValueClearsARepeatedField) {
  EXPECT_EQ(fields({"--addresses", ""}, v1::Port::descriptor()),
            json::parse(R"({"addresses":[]})"));
}

TEST(FieldFlagsTest, BoolForms) {
  auto d = v1::Bridge::descriptor();
  EXPECT_EQ(fields({"--admin-state-up=false"}, d)["admin_state_up"], false);
  EXPECT_EQ(fields({"--admin-state-up"}, d)["admin_state_up"], true);
  EXPECT_EQ(fields({"--admin-state-up", "no", "--name", "x"}, d)["admin_state_up"], false);
  json j = fields({"--arp-suppression", "--name", "x"}, d);
  EXPECT_EQ(j["arp_suppression"], true);
  EXPECT_EQ(j["name"], "x");
  EXPECT_NE(errorOf({"--admin-state-up=maybe"}, d).find("not true or false"), std::string::npos);
}

TEST(FieldFlagsTest, EnumsByNameInAnyCase) {
  EXPECT_EQ(fields({"--next-hop", "port"}, v1::Route::descriptor())["next_hop"], "PORT");
  EXPECT_EQ(fields({"--action", "ACCEPT"}, v1::Rule::descriptor())["action"], "ACCEPT");
  std::string e = errorOf({"--action", "allow"}, v1::Rule::descriptor());
  EXPECT_NE(e.find("unknown value 'allow'"), std::string::npos) << e;
  EXPECT_NE(e.find("JUMP"), std::string::npos) << e;
}

TEST(FieldFlagsTest, NestedFieldsWithDots) {
  json j = fields({"--condition.nw-src", "10.0.0.0/24", "--condition.tp-dst.start", "22",
                   "--condition.inv_nw_src", "--action", "drop", "--chain-id", "c"},
                  v1::Rule::descriptor());
  EXPECT_EQ(j, json::parse(R"({"condition":{"nw_src":"10.0.0.0/24","tp_dst":{"start":22},
      "inv_nw_src":true},"action":"DROP","chain_id":"c"})"));
}

TEST(FieldFlagsTest, MappedJsonParsesAsTheMessage) {
  json j =
      fields({"--name", "r", "--condition.nw-proto", "6", "--condition.in-port-ids", "a,b",
              "--condition.fragment-policy", "header", "--action", "jump", "--jump-chain-id", "c2"},
             v1::Rule::descriptor());
  v1::Rule rule;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(j.dump(), &rule).ok()) << j.dump();
  EXPECT_EQ(rule.condition().nw_proto(), 6u);
  EXPECT_EQ(rule.condition().in_port_ids_size(), 2);
  EXPECT_EQ(rule.action(), v1::Rule::JUMP);
}

TEST(FieldFlagsTest, IntegersAreRangeChecked) {
  auto d = v1::Port::descriptor();
  EXPECT_EQ(fields({"--mtu", "9000"}, d)["mtu"], 9000);
  EXPECT_NE(errorOf({"--mtu", "-1"}, d).find("--mtu"), std::string::npos);
  EXPECT_NE(errorOf({"--mtu", "99999999999"}, d).find("in range"), std::string::npos);
  EXPECT_NE(errorOf({"--condition.tp-dst.start", "ssh"}, v1::Rule::descriptor()).find("'ssh'"),
            std::string::npos);
}

TEST(FieldFlagsTest, MessageFieldsTakeJson) {
  json j = fields({"--members", R"([{"host_id":"h1","address":"192.168.0.1"}])", "--members",
                   R"({"host_id":"h2","address":"192.168.0.2"})"},
                  v1::TunnelZone::descriptor());
  EXPECT_EQ(j["members"].size(), 2u);
  EXPECT_EQ(j["members"][1]["host_id"], "h2");
  EXPECT_NE(errorOf({"--condition", "nw_src"}, v1::Rule::descriptor()).find("JSON"),
            std::string::npos);
}

TEST(FieldFlagsTest, UnknownFlagIsNamedWithCloseMatches) {
  std::string e = errorOf({"--nmae", "x"}, v1::Bridge::descriptor());
  EXPECT_NE(e.find("unknown flag --nmae for Bridge"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean --name"), std::string::npos) << e;
  e = errorOf({"--condition.nw-srcc", "x"}, v1::Rule::descriptor());
  EXPECT_NE(e.find("--condition.nw-src"), std::string::npos) << e;
  e = errorOf({"--cascde"}, nullptr, {{"cascade", false}});
  EXPECT_NE(e.find("did you mean --cascade"), std::string::npos) << e;
}

TEST(FieldFlagsTest, MissingValueIsAnError) {
  EXPECT_NE(errorOf({"--name"}, v1::Bridge::descriptor()).find("needs a value"), std::string::npos);
}

TEST(CommandOptionsTest, OptionsPositionalsAndShortFile) {
  auto f = parseFlags({"ID", "--position", "2", "-f", "x.json", "--cascade", "--", "--odd"},
                      {{"position"}, {"file"}, {"cascade", false}}, nullptr);
  ASSERT_TRUE(f.ok()) << f.status().toString();
  EXPECT_EQ(f->positional, (std::vector<std::string>{"ID", "--odd"}));
  EXPECT_EQ(f->value("position"), "2");
  EXPECT_EQ(f->value("file"), "x.json");
  EXPECT_TRUE(f->has("cascade"));
  EXPECT_FALSE(f->has("json"));
}

TEST(CommandOptionsTest, RepeatedOptionsAccumulate) {
  auto f = parseFlags({"--arp", "r1,10.0.0.1,02:00:00:00:00:01", "--arp", "r2,1.2.3.4,x"},
                      {{"arp", true, true}}, nullptr);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->options["arp"].size(), 2u);
}

TEST(DurationTest, Units) {
  EXPECT_EQ(*parseDurationMs("10s"), 10000);
  EXPECT_EQ(*parseDurationMs("500ms"), 500);
  EXPECT_EQ(*parseDurationMs("2m"), 120000);
  EXPECT_EQ(*parseDurationMs("3"), 3000);
  EXPECT_FALSE(parseDurationMs("soon").ok());
  EXPECT_FALSE(parseDurationMs("5h").ok());
}

TEST(CloseMatchesTest, BestFirstAndBounded) {
  auto m = closeMatches("tenant", {"tenant-id", "name", "mac", "tenant"});
  ASSERT_FALSE(m.empty());
  EXPECT_EQ(m[0], "tenant");
  EXPECT_TRUE(closeMatches("zzzzzz", {"name", "mac"}).empty());
}

}  // namespace
}  // namespace loom::cli
