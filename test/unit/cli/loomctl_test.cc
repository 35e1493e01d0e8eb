#include "cli/loomctl.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "cli/transfer.h"
#include "fake_api.h"
#include "model/json.h"

namespace loom::cli {
namespace {

using nlohmann::json;
using testing::FakeApi;

std::optional<std::string> noEnv(const char*) { return std::nullopt; }

class LoomctlTest : public ::testing::Test {
 protected:
  struct Run {
    int code;
    std::string out, err;
  };

  Run run(std::vector<std::string> args) {
    std::ostringstream out, err;
    std::istringstream in(stdin_);
    Environment env;
    env.transport = [this](const std::string&, int) {
      struct Borrowed : Transport {
        FakeApi* api;
        explicit Borrowed(FakeApi* a) : api(a) {}
        HttpResponse send(const HttpRequest& r) override { return api->send(r); }
        std::string describe() const override { return api->describe(); }
      };
      return std::make_unique<Borrowed>(&api_);
    };
    env.env = noEnv;
    env.out = &out;
    env.err = &err;
    env.in = &in;
    int code = runLoomctl(std::move(args), env);
    return {code, out.str(), err.str()};
  }

  std::string create(const std::string& kind, std::vector<std::string> args) {
    args.insert(args.begin(), {"-o", "json", kind, "create"});
    Run r = run(args);
    EXPECT_EQ(r.code, 0) << r.err;
    return json::parse(r.out)["item"]["id"];
  }

  const HttpRequest& last() { return api_.requests.back(); }

  FakeApi api_;
  std::string stdin_;
};

TEST_F(LoomctlTest, CreateSendsTheFieldFlagsAsTheBody) {
  Run r =
      run({"bridge", "create", "--name", "net-a", "--tenant-id", "t1", "--admin-state-up=false"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(last().method, "POST");
  EXPECT_EQ(last().path, "/api/v1/bridges");
  EXPECT_EQ(json::parse(last().body),
            json::parse(R"({"name":"net-a","tenant_id":"t1","admin_state_up":false})"));
  EXPECT_NE(r.out.find("created bridge "), std::string::npos);
  EXPECT_NE(r.out.find("(net-a) at revision 2"), std::string::npos) << r.out;
}

TEST_F(LoomctlTest, RuleCreateWithPositionAndJsonBody) {
  std::string chain = create("chain", {"--name", "c"});
  create("rule", {"--chain-id", chain, "--action", "drop"});
  Run r = run({"rule", "create", "--json", R"({"chain_id":")" + chain + R"("})", "--action",
               "accept", "--position", "0", "--condition.tp-dst.start", "22"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(last().path, "/api/v1/rules?position=0");
  json body = json::parse(last().body);
  EXPECT_EQ(body["action"], "ACCEPT");
  EXPECT_EQ(body["condition"]["tp_dst"]["start"], 22);
  auto rules = api_.objects["chains"][chain]["rule_ids"];
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(api_.objects["rules"][rules[0].get<std::string>()]["action"], "ACCEPT");
}

TEST_F(LoomctlTest, UnknownFlagIsAUsageErrorWithSuggestions) {
  Run r = run({"bridge", "create", "--nmae", "x"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown flag --nmae"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--name"), std::string::npos) << r.err;
  EXPECT_TRUE(api_.requests.empty());
}

TEST_F(LoomctlTest, UnknownCommandAndVerbSuggest) {
  Run r = run({"bridgee", "list"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("did you mean 'bridge'"), std::string::npos) << r.err;
  r = run({"port-group", "lst"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("did you mean 'list'"), std::string::npos) << r.err;
}

TEST_F(LoomctlTest, ListFollowsPagesAndRendersATable) {
  for (int i = 0; i < 5; ++i)
    create("bridge", {"--name", "b" + std::to_string(i), "--tenant-id", "t"});
  create("bridge", {"--name", "other", "--tenant-id", "u"});
  Run r = run({"bridge", "list", "--tenant-id", "t"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 6);  // Header + 5.
  EXPECT_EQ(r.out.rfind("ID", 0), 0u);
  EXPECT_EQ(r.out.find("other"), std::string::npos);
  r = run({"bridge", "list", "-o", "json"});
  EXPECT_EQ(json::parse(r.out)["items"].size(), 6u);
}

TEST_F(LoomctlTest, ShowAcceptsANameAndPrintsFields) {
  std::string id = create("router", {"--name", "r1", "--tenant-id", "t"});
  Run r = run({"router", "show", "r1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("id:"), std::string::npos);
  EXPECT_NE(r.out.find(id), std::string::npos);
  EXPECT_NE(r.out.find("mod_revision: "), std::string::npos);
  r = run({"router", "show", "nope"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no router with id or name 'nope'"), std::string::npos) << r.err;
}

TEST_F(LoomctlTest, UpdateMergesFieldsAndSendsIfMatch) {
  std::string id =
      create("port", {"--name", "p", "--tenant-id", "t", "--mac", "02:00:00:00:00:01"});
  int64_t mod = api_.mod_revision[id];
  Run r = run({"port", "update", id, "--addresses", "10.0.0.2/24", "--unset", "mac"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(last().method, "PUT");
  bool if_match = false;
  for (const auto& [k, v] : last().headers)
    if_match |= k == "If-Match" && v == "\"" + std::to_string(mod) + "\"";
  EXPECT_TRUE(if_match);
  EXPECT_EQ(json::parse(last().body),
            json::parse(R"({"id":")" + id +
                        R"(","name":"p","tenant_id":"t","addresses":["10.0.0.2/24"]})"));
}

TEST_F(LoomctlTest, ReferenceFlagsAcceptNames) {
  std::string bridge = create("bridge", {"--name", "net-a"});
  std::string chain = create("chain", {"--name", "in"});
  Run r = run({"port", "create", "--name", "p", "--bridge-id", "net-a", "--inbound-filter-id", "in",
               "--outbound-filter-id", ""});
  ASSERT_EQ(r.code, 0) << r.err;
  json body = json::parse(last().body);
  EXPECT_EQ(body["bridge_id"], bridge);
  EXPECT_EQ(body["inbound_filter_id"], chain);
  EXPECT_EQ(body["outbound_filter_id"], "");
  r = run({"port", "create", "--bridge-id", "net-z"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no bridge with id or name 'net-z'"), std::string::npos) << r.err;
}

TEST_F(LoomctlTest, ConcurrentModificationIsAClear409) {
  std::string id = create("bridge", {"--name", "b"});
  // Another writer changes the bridge between loomctl's GET and PUT.
  api_.mod_revision[id] = 999;
  api_.next_response = testing::jsonResponse(
      200, json{{"item", api_.objects["bridges"][id]}, {"mod_revision", 998}});
  Run r = run({"bridge", "update", id, "--name", "c"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("error: 409 ABORTED: concurrent modification"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("hint: the object changed since it was read"), std::string::npos) << r.err;
}

TEST_F(LoomctlTest, DeleteOfAReferencedObjectNamesTheReferrersAndCascade) {
  std::string bridge = create("bridge", {"--name", "b"});
  std::string port = create("port", {"--name", "p", "--bridge-id", bridge});
  Run r = run({"bridge", "delete", bridge});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("error: 409 FAILED_PRECONDITION: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("referenced by: port " + port), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--cascade"), std::string::npos) << r.err;
  r = run({"bridge", "delete", "b", "--cascade"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("also deleted: port " + port), std::string::npos) << r.out;
}

TEST_F(LoomctlTest, FieldErrorsArePrintedWithTheField) {
  api_.next_response = testing::errorResponse(
      400, "INVALID_ARGUMENT", "addresses[0]: bad prefix '10.0.0.300/24'", "addresses[0]");
  Run r = run({"port", "create", "--addresses", "10.0.0.300/24"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "error: 400 INVALID_ARGUMENT: addresses[0]: bad prefix '10.0.0.300/24'\n"
            "  field: addresses[0]\n");
}

TEST_F(LoomctlTest, MissingTokenGivesA401Hint) {
  api_.token = "s3cret";
  Run r = run({"host", "list"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("error: 401"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--token"), std::string::npos) << r.err;
  EXPECT_EQ(run({"host", "list", "--token", "s3cret"}).code, 0);
}

TEST_F(LoomctlTest, UnreachableApiIsExitCode3NamingTheUrl) {
  api_.unreachable = true;
  Run r = run({"--api", "http://10.9.9.9:1234", "bridge", "list"});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("cannot reach loom-api at http://10.9.9.9:1234"), std::string::npos)
      << r.err;
}

TEST_F(LoomctlTest, EtcdDown503Hint) {
  api_.next_response = testing::errorResponse(503, "UNAVAILABLE", "etcd: connection refused");
  Run r = run({"bridge", "list"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("hint: etcd unreachable; retry"), std::string::npos) << r.err;
}

TEST_F(LoomctlTest, TraceSendsPortSpecsAndArp) {
  Run r = run({"trace", "vm-a1", "tcp dst=10.0.1.11 dport=22", "icmp dst=10.0.0.1", "--arp",
               "r1,10.0.0.9,02:00:00:00:00:09", "--no-follow"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(last().body), json::parse(R"({"port":"vm-a1",
      "packets":["tcp dst=10.0.1.11 dport=22","icmp dst=10.0.0.1"],
      "arp":["r1,10.0.0.9,02:00:00:00:00:09"],"follow":false})"));
  EXPECT_EQ(r.out,
            "trace from vm-a1: [tcp dst=10.0.1.11 dport=22] [icmp dst=10.0.0.1] no-follow\n");
}

TEST_F(LoomctlTest, TraceFromSwitchesTheIngressPortOfTheSpecsAfterIt) {
  Run r = run({"trace", "vm-a1", "tcp dst=10.0.1.11 dport=22", "--from", "vm-b1",
               "tcp dst=10.0.0.11 sport=22 flags=SA", "--from=vm-a1", "icmp dst=10.0.0.1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(last().body), json::parse(R"({"port":"vm-a1",
      "packets":["tcp dst=10.0.1.11 dport=22",
                 {"port":"vm-b1","spec":"tcp dst=10.0.0.11 sport=22 flags=SA"},
                 "icmp dst=10.0.0.1"],
      "follow":true})"));
  EXPECT_EQ(run({"trace", "vm-a1", "--bogus", "x"}).code, 2);
  EXPECT_EQ(run({"trace", "vm-a1"}).code, 2);
}

TEST_F(LoomctlTest, WaitSyncReportsLaggingHosts) {
  Run r = run({"wait-sync", "--revision", "7", "--timeout", "2s"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(last().body), json::parse(R"({"revision":7,"timeout_ms":2000})"));
  api_.sync_lagging = true;
  r = run({"wait-sync"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("lagging: host h1 at revision 3"), std::string::npos) << r.err;
}

TEST_F(LoomctlTest, ImportThenExportRoundTripsModuloIds) {
  std::string file = std::string(LOOM_SOURCE_DIR) + "/examples/topologies/one-tenant.json";
  Run r = run({"import", file});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("imported 23 objects"), std::string::npos) << r.out;
  EXPECT_EQ(api_.objects["bridges"].count("b1000000-0001-4000-8000-000000000001"), 0u);
  r = run({"export", "--tenant", "7e000000-0000-4000-8000-000000000001", "--include-bindings"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto exported = model::topologyFromJson(r.out);
  ASSERT_TRUE(exported.ok()) << exported.status().toString();
  auto original = model::loadTopologyFile(file);
  ASSERT_TRUE(original.ok());
  v1::Topology tenant = *original;
  ExportOptions keep;
  keep.include_bindings = true;
  // Hosts keep their ids, so the bindings still name them.
  EXPECT_EQ(api_.objects["hosts"].count("d1000000-0000-4000-8000-000000000001"), 1u);
  tenant.clear_hosts();
  tenant.clear_tunnel_zones();
  EXPECT_EQ(model::topologyToJson(canonicalIds(*exported)),
            model::topologyToJson(canonicalIds(assembleExport(tenant, keep))));
  // A second import of the same document reuses the hosts and the tunnel zone.
  r = run({"import", file});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("imported 20 objects (3 hosts/tunnel zones existed)"), std::string::npos)
      << r.out;
  EXPECT_EQ(api_.objects["hosts"].size(), 2u);
}

TEST_F(LoomctlTest, ImportKeepIdsIntoAnotherTenantAndDryRun) {
  std::string file = std::string(LOOM_SOURCE_DIR) + "/examples/topologies/two-tenants.json";
  Run r = run({"import", file, "--dry-run"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(api_.requests.empty());
  EXPECT_NE(r.out.find("dry run:"), std::string::npos);
  r = run({"import", file, "--keep-ids", "--tenant", "t9"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(api_.objects["bridges"]["b1000000-0001-4000-8000-000000000001"]["tenant_id"], "t9");
  // The second side of each link was set by the server.
  EXPECT_EQ(api_.objects["ports"]["a2000000-0001-4000-8000-000000000001"]["peer_id"],
            "b2000000-0001-4000-8000-000000000001");
  r = run({"import", file, "--keep-ids"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("ALREADY_EXISTS"), std::string::npos) << r.err;
  // Hosts and the tunnel zone are reused; the first tenant object already exists.
  EXPECT_NE(r.err.find("while: step 5 of"), std::string::npos) << r.err;
}

TEST_F(LoomctlTest, ImportOfABadFileIsAUsageError) {
  stdin_ = R"({"bridges":[{"nmae":"x"}]})";
  Run r = run({"import", "-"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("nmae"), std::string::npos) << r.err;
}

TEST_F(LoomctlTest, BindingSetResolvesNamesAndSendsHostAndInterface) {
  std::string host = create("host", {"--name", "h1"});
  std::string port = create("port", {"--name", "vm"});
  run({"binding", "set", "vm", "--host", "h1", "--interface", "tap0"});
  EXPECT_EQ(last().method, "PUT");
  EXPECT_EQ(last().path, "/api/v1/ports/" + port + "/binding");
  EXPECT_EQ(json::parse(last().body), json({{"host_id", host}, {"interface_name", "tap0"}}));
}

}  // namespace
}  // namespace loom::cli
