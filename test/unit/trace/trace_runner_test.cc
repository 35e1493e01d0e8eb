// trace::runTrace on the example topologies: what it prints, its errors, and state carried from
// one packet to the next. Tests run from the repository root.
#include "trace/trace_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace loom::trace {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr const char* kOneTenant = "examples/topologies/one-tenant.json";
constexpr const char* kTwoTenants = "examples/topologies/two-tenants.json";

struct TraceRun {
  Status status;
  std::string out;

  // The output of packet `n` (1-based): from its "=== packet n" line to the next packet's.
  std::string packet(int n) const {
    std::string head = "=== packet " + std::to_string(n) + ":";
    size_t start = out.find(head);
    if (start == std::string::npos) return "";
    size_t end = out.find("=== packet " + std::to_string(n + 1) + ":", start);
    return out.substr(start, end == std::string::npos ? std::string::npos : end - start);
  }
};

TraceRun run(const std::string& topology, std::vector<TraceRequest> packets,
             std::vector<std::string> arp_seeds = {}, bool follow_generated = true) {
  TraceOptions o;
  o.topology_path = topology;
  o.packets = std::move(packets);
  o.arp_seeds = std::move(arp_seeds);
  o.follow_generated = follow_generated;
  std::ostringstream out;
  TraceRun r;
  r.status = runTrace(o, out);
  r.out = out.str();
  return r;
}

// A file in the test's temporary directory, unique to this process (builds may run concurrently).
std::string tempPath(const std::string& name) {
  return ::testing::TempDir() + "loom_trace_runner_" + std::to_string(::getpid()) + "_" + name;
}

// Every line of `expected` appears in `text`, in this order.
void expectInOrder(const std::string& text, const std::vector<std::string>& expected) {
  size_t at = 0;
  for (const std::string& e : expected) {
    size_t found = text.find(e, at);
    ASSERT_NE(found, std::string::npos) << "missing (in order) '" << e << "' in:\n" << text;
    at = found + e.size();
  }
}

// --- Output ---

TEST(RunTrace, PrintsTheTopologySummary) {
  TraceRun r = run(kOneTenant, {});
  ASSERT_TRUE(r.status.ok()) << r.status.toString();
  EXPECT_THAT(r.out, StartsWith("topology examples/topologies/one-tenant.json: 2 bridges, "
                                "1 routers, 9 ports, 1 chains\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("problem:")));
  EXPECT_THAT(r.out, Not(HasSubstr("=== packet")));
}

TEST(RunTrace, RoutedTcpPacketShowsEveryDevicesDecision) {
  TraceRun r = run(kOneTenant, {{"vm-a1", "tcp dst=10.0.1.11 dport=22"}});
  ASSERT_TRUE(r.status.ok()) << r.status.toString();
  expectInOrder(r.out,
                {
                    "=== packet 1: tcp dst=10.0.1.11 dport=22 (on port vm-a1)",
                    "flow: eth_src=02:00:00:00:0a:0b,eth_dst=02:00:00:00:01:01,ipv4,"
                    "nw_src=10.0.0.11,nw_dst=10.0.1.11,nw_proto=6",
                    "  port vm-a1: ingress",
                    "  bridge net-a: 02:00:00:00:01:01 -> port net-a-r1",
                    "  port net-a-r1: egress to peer port r1-a",
                    "  port r1-a: ingress",
                    "  router r1: route 10.0.1.0/24 via port r1-b",
                    "  router r1: next hop 10.0.1.11 is-at 02:00:00:00:0b:0b via port r1-b",
                    "  port r1-b: egress to peer port net-b-r1",
                    "  bridge net-b: 02:00:00:00:0b:0b -> port vm-b1",
                    "  chain vm-b1-in: rule 2 'accept-ssh-from-net-a' matched: accept",
                    "  port vm-b1: egress on host host-2 interface tap-vm-b1",
                    "outcome: forward\n",
                    "egress: port vm-b1 on host host-2",
                    "  actions: set(eth_src=02:00:00:00:01:02) set(eth_dst=02:00:00:00:0b:0b)"
                    " set(nw_ttl=63) output(vm-b1)",
                    "megaflow: in_port,",
                    "tags: [port vm-a1] [bridge net-a]",
                    "state: conntrack forward 10.0.0.11:40000 -> 10.0.1.11:22 proto 6 in "
                    "bridge net-a",
                    "state: conntrack return 10.0.1.11:22 -> 10.0.0.11:40000 proto 6 in "
                    "bridge net-b",
                });
}

TEST(RunTrace, AcceptsThePortById) {
  TraceRun r = run(kOneTenant, {{"b2000000-0001-4000-8000-000000000002", "tcp dst=10.0.0.12"}});
  ASSERT_TRUE(r.status.ok()) << r.status.toString();
  EXPECT_THAT(r.out, HasSubstr("(on port vm-a1)"));
  EXPECT_THAT(r.out, HasSubstr("egress: port vm-a2 on host host-2"));
}

TEST(RunTrace, ArpMissIsNotReadyAndSendsAnArpRequest) {
  TraceRun r = run(kOneTenant, {{"vm-a1", "tcp dst=203.0.113.9"}});
  ASSERT_TRUE(r.status.ok()) << r.status.toString();
  expectInOrder(r.out, {
                           "  router r1: route 0.0.0.0/0 via port r1-up gw 192.0.2.1",
                           "  port r1-up: ARP request: who-has 192.0.2.1 tell 192.0.2.2",
                           "outcome: not_ready (waiting for ARP of 192.0.2.1 on router r1)\n",
                           "tags:",
                           "[arp(router r1, 192.0.2.1)]",
                           "generated arp_request out of port r1-up: eth_src=02:00:00:00:01:03,"
                           "eth_dst=ff:ff:ff:ff:ff:ff,arp,arp_op=1",
                       });
  EXPECT_THAT(r.out, Not(HasSubstr("egress:")));
  EXPECT_THAT(r.out, Not(HasSubstr("megaflow:")));
  EXPECT_THAT(r.out, Not(HasSubstr("--- following")));  // r1-up is exterior.
}

TEST(RunTrace, SeededArpEntryResolvesTheNextHop) {
  for (const char* router : {"r1", "a1000000-0001-4000-8000-000000000001"}) {
    TraceRun r = run(kOneTenant, {{"vm-a1", "tcp dst=203.0.113.9"}},
                     {std::string(router) + ",192.0.2.1,02:00:00:00:99:01"});
    ASSERT_TRUE(r.status.ok()) << router << ": " << r.status.toString();
    expectInOrder(r.out, {
                             "  router r1: next hop 192.0.2.1 is-at 02:00:00:00:99:01 via port "
                             "r1-up",
                             "outcome: forward\n",
                             "egress: port r1-up on host host-1",
                             "set(eth_dst=02:00:00:00:99:01)",
                         });
  }
}

TEST(RunTrace, ArpSuppressionAnswersFromTheBridge) {
  TraceRun r = run(kOneTenant, {{"vm-a1", "arp tpa=10.0.0.12"}});
  ASSERT_TRUE(r.status.ok()) << r.status.toString();
  expectInOrder(r.out, {
                           "  bridge net-a: ARP suppression: 10.0.0.12 is-at 02:00:00:00:0a:0c",
                           "outcome: consumed\n",
                           "(not cached: answers this packet)",
                           "generated arp_reply out of port vm-a1: eth_src=02:00:00:00:0a:0c,"
                           "eth_dst=02:00:00:00:0a:0b,arp,arp_op=2",
                       });
  EXPECT_THAT(r.out, Not(HasSubstr("egress:")));
}

TEST(RunTrace, FollowsPacketsGeneratedOutOfInteriorPorts) {
  TraceRun r = run(kOneTenant, {{"vm-a1", "icmp dst=10.0.0.1"}});
  ASSERT_TRUE(r.status.ok()) << r.status.toString();
  expectInOrder(r.out, {
                           "  router r1: ICMP echo request to 10.0.0.1: reply",
                           "outcome: consumed\n",
                           "generated icmp_echo_reply out of port r1-a",
                           "  --- following icmp_echo_reply out of port r1-a\n",
                           "    port r1-a: egress to peer port net-a-r1",
                           "    bridge net-a: 02:00:00:00:0a:0b -> port vm-a1",
                           "  outcome: forward\n",
                           "  egress: port vm-a1 on host host-1",
                       });
}

TEST(RunTrace, DoesNotFollowGeneratedPacketsWhenAskedNotTo) {
  TraceRun r = run(kOneTenant, {{"vm-a1", "icmp dst=10.0.0.1"}}, {}, /*follow_generated=*/false);
  ASSERT_TRUE(r.status.ok()) << r.status.toString();
  EXPECT_THAT(r.out, HasSubstr("generated icmp_echo_reply out of port r1-a"));
  EXPECT_THAT(r.out, Not(HasSubstr("--- following")));
  EXPECT_THAT(r.out, Not(HasSubstr("egress:")));
}

TEST(RunTrace, FilterDropShowsTheRuleAndReason) {
  TraceRun r = run(kOneTenant, {{"vm-a1", "udp dst=10.0.1.11 dport=53"}});
  ASSERT_TRUE(r.status.ok()) << r.status.toString();
  expectInOrder(r.out, {
                           "  chain vm-b1-in: rule 5 'drop-all-but-arp' matched: drop",
                           "outcome: drop (filter_drop)\n",
                       });
  EXPECT_THAT(r.out, Not(HasSubstr("egress:")));
}

TEST(RunTrace, TenantsWithOverlappingAddressesStaySeparate) {
  TraceRun r = run(kTwoTenants, {{"t1-vm1", "tcp dst=10.0.0.12"}, {"t2-vm1", "tcp dst=10.0.0.12"}});
  ASSERT_TRUE(r.status.ok()) << r.status.toString();
  EXPECT_THAT(r.packet(1), HasSubstr("egress: port t1-vm2 "));
  EXPECT_THAT(r.packet(2), HasSubstr("egress: port t2-vm2 "));
  EXPECT_THAT(r.packet(1), Not(HasSubstr("t2-")));
  EXPECT_THAT(r.packet(2), Not(HasSubstr("t1-")));
}

TEST(RunTrace, PrintsTheTopologysProblems) {
  std::string path = tempPath("problem.json");
  {
    std::ofstream f(path);
    f << R"({"bridges": [{"id": "b1000000-0001-4000-8000-000000000001", "name": "b",
             "inbound_filter_id": "c1000000-0001-4000-8000-000000000009"}]})";
  }
  TraceRun r = run(path, {});
  ASSERT_TRUE(r.status.ok()) << r.status.toString();
  EXPECT_THAT(r.out, HasSubstr("1 bridges, 0 routers, 0 ports, 0 chains\n"));
  EXPECT_THAT(r.out, HasSubstr("problem: "));
  EXPECT_THAT(r.out, HasSubstr("c1000000-0001-4000-8000-000000000009"));
  std::remove(path.c_str());
}

// --- Errors ---

TEST(RunTrace, MissingTopologyFileIsNotFound) {
  TraceRun r = run("examples/topologies/no-such-file.json", {{"vm-a1", "tcp dst=10.0.0.12"}});
  EXPECT_EQ(r.status.code(), StatusCode::NotFound) << r.status.toString();
  EXPECT_THAT(r.status.message(), HasSubstr("no-such-file.json"));
  EXPECT_EQ(r.out, "");
}

TEST(RunTrace, MalformedTopologyIsInvalidArgument) {
  std::string path = tempPath("bad.json");
  {
    std::ofstream f(path);
    f << R"({"bridges": [{"id": "b1000000-0001-4000-8000-000000000001", "colour": "red"}]})";
  }
  TraceRun r = run(path, {{"vm-a1", "tcp dst=10.0.0.12"}});
  EXPECT_EQ(r.status.code(), StatusCode::InvalidArgument) << r.status.toString();
  EXPECT_THAT(r.status.message(), HasSubstr("colour"));
  EXPECT_EQ(r.out, "");
  std::remove(path.c_str());
}

TEST(RunTrace, UnknownPortIsNotFound) {
  TraceRun r = run(kOneTenant, {{"vm-a1", "tcp dst=10.0.0.12"}, {"vm-zz", "tcp dst=10.0.0.12"}});
  EXPECT_EQ(r.status.code(), StatusCode::NotFound) << r.status.toString();
  EXPECT_THAT(r.status.message(), HasSubstr("'vm-zz'"));
  EXPECT_THAT(r.out, HasSubstr("=== packet 1:"));  // What ran before stays printed.
  EXPECT_THAT(r.out, Not(HasSubstr("=== packet 2:")));
}

TEST(RunTrace, UnknownPortIdIsNotFound) {
  TraceRun r = run(kOneTenant, {{"b2000000-0001-4000-8000-0000000000ff", "tcp dst=10.0.0.12"}});
  EXPECT_EQ(r.status.code(), StatusCode::NotFound) << r.status.toString();
  EXPECT_THAT(r.status.message(), HasSubstr("b2000000-0001-4000-8000-0000000000ff"));
}

TEST(RunTrace, BadPacketSpecIsInvalidArgumentNamingThePacket) {
  TraceRun r = run(kOneTenant, {{"vm-a1", "tcp dst=10.0.0.12"},
                                {"vm-a1", "tcp dst=10.0.0.12"},
                                {"vm-a1", "tcp dst=10.0.0.12 dport=70000"},
                                {"vm-a1", "tcp dst=10.0.0.12"}});
  EXPECT_EQ(r.status.code(), StatusCode::InvalidArgument) << r.status.toString();
  EXPECT_THAT(r.status.message(), StartsWith("packet 3: dport: "));
  EXPECT_THAT(r.out, HasSubstr("=== packet 2:"));
  EXPECT_THAT(r.out, Not(HasSubstr("=== packet 3:")));
}

TEST(RunTrace, BadArpSeedsAreRejectedBeforeAnyPacket) {
  struct Case {
    const char* seed;
    StatusCode code;
  };
  const Case cases[] = {
      {"r1", StatusCode::InvalidArgument},
      {"r1,192.0.2.1", StatusCode::InvalidArgument},
      {"r1,192.0.2.x,02:00:00:00:99:01", StatusCode::InvalidArgument},
      {"r1,192.0.2.1,02:00:00:00:99", StatusCode::InvalidArgument},
      {"r1,192.0.2.1,02:00:00:00:99:01,extra", StatusCode::InvalidArgument},
      {"r9,192.0.2.1,02:00:00:00:99:01", StatusCode::NotFound},
      {"a1000000-0001-4000-8000-0000000000ff,192.0.2.1,02:00:00:00:99:01", StatusCode::NotFound},
  };
  for (const Case& c : cases) {
    TraceRun r = run(kOneTenant, {{"vm-a1", "tcp dst=203.0.113.9"}}, {c.seed});
    EXPECT_EQ(r.status.code(), c.code) << c.seed << ": " << r.status.toString();
    EXPECT_THAT(r.status.message(), HasSubstr(std::string("'") + c.seed + "'")) << c.seed;
    EXPECT_THAT(r.out, Not(HasSubstr("=== packet"))) << c.seed;
  }
}

// --- State carried from packet to packet ---

TEST(RunTrace, LearnedMacTurnsALaterFloodIntoUnicast) {
  const TraceRequest to_unknown{"vm-a1", "ip dst=10.0.0.99 eth_dst=02:00:00:00:0a:99"};
  const TraceRequest from_unknown{"vm-a2",
                                  "ip src=10.0.0.99 dst=10.0.0.11 eth_src=02:00:00:00:0a:99"};

  TraceRun without = run(kOneTenant, {to_unknown, to_unknown});
  ASSERT_TRUE(without.status.ok()) << without.status.toString();
  EXPECT_THAT(without.packet(2), HasSubstr("bridge net-a: unknown destination 02:00:00:00:0a:99"));
  EXPECT_THAT(without.packet(2), HasSubstr("bridge net-a: flood to 2 other port(s)"));

  TraceRun with = run(kOneTenant, {to_unknown, from_unknown, to_unknown});
  ASSERT_TRUE(with.status.ok()) << with.status.toString();
  EXPECT_THAT(with.packet(1), HasSubstr("flood to 2 other port(s)"));
  EXPECT_THAT(with.packet(2), HasSubstr("bridge net-a: learned 02:00:00:00:0a:99 on port vm-a2"));
  EXPECT_THAT(with.packet(2), HasSubstr("state: learn 02:00:00:00:0a:99 on vm-a2"));
  EXPECT_THAT(with.packet(3), HasSubstr("bridge net-a: 02:00:00:00:0a:99 -> port vm-a2"));
  EXPECT_THAT(with.packet(3), Not(HasSubstr("flood")));
  EXPECT_THAT(with.packet(3), Not(HasSubstr("net-a-r1")));
}

TEST(RunTrace, ConntrackEntryLetsTheReplyThrough) {
  // vm-b1's outbound filter only admits ports 22 and 80 from net-a, and return flows.
  const TraceRequest request{"vm-b1", "tcp dst=10.0.0.11 dport=5555"};
  const TraceRequest reply{"vm-a1", "tcp dst=10.0.1.11 sport=5555 dport=40000 flags=SA"};

  TraceRun alone = run(kOneTenant, {reply});
  ASSERT_TRUE(alone.status.ok()) << alone.status.toString();
  EXPECT_THAT(alone.packet(1), HasSubstr("rule 5 'drop-all-but-arp' matched: drop"));
  EXPECT_THAT(alone.packet(1), HasSubstr("outcome: drop (filter_drop)"));

  TraceRun after = run(kOneTenant, {request, reply});
  ASSERT_TRUE(after.status.ok()) << after.status.toString();
  EXPECT_THAT(after.packet(1), HasSubstr("outcome: forward"));
  EXPECT_THAT(after.packet(1), HasSubstr("state: conntrack return 10.0.0.11:5555 -> "
                                         "10.0.1.11:40000 proto 6 in bridge net-a"));
  EXPECT_THAT(after.packet(2), HasSubstr("conntrack: known connection, return direction"));
  EXPECT_THAT(after.packet(2), HasSubstr("rule 1 'accept-return-flows' matched: accept"));
  EXPECT_THAT(after.packet(2), HasSubstr("outcome: forward"));
  EXPECT_THAT(after.packet(2), HasSubstr("egress: port vm-b1 on host host-2"));
}

TEST(RunTrace, SeededArpIsUsedByEveryLaterPacket) {
  TraceRun r =
      run(kOneTenant, {{"vm-a1", "tcp dst=203.0.113.9"}, {"vm-b2", "udp dst=198.51.100.1"}},
          {"r1,192.0.2.1,02:00:00:00:99:01"});
  ASSERT_TRUE(r.status.ok()) << r.status.toString();
  EXPECT_THAT(r.packet(1), HasSubstr("egress: port r1-up"));
  EXPECT_THAT(r.packet(2), HasSubstr("egress: port r1-up"));
  EXPECT_THAT(r.out, Not(HasSubstr("not_ready")));
}

}  // namespace
}  // namespace loom::trace
