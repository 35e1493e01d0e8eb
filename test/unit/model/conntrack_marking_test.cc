// Connection-tracking marks: Chain::uses_conntrack (direct, through jumps, through jump cycles)
// and tracks_connections on the ports, bridges and routers that use such a chain as a filter.
#include <gtest/gtest.h>

#include "unit/model/model_test_util.h"

namespace loom::model {
namespace {

using testing::id;
using testing::TopologyBuilder;
using testing::uuid;

// Adds rule `rule_n` to chain `chain_n` testing conntrack `match`.
v1::Rule& conntrackRule(TopologyBuilder& tb, int rule_n, int chain_n,
                        v1::Condition::Conntrack match = v1::Condition::RETURN_FLOW,
                        v1::Rule::Action action = v1::Rule::ACCEPT) {
  v1::Rule& r = tb.rule(rule_n, chain_n, action);
  r.mutable_condition()->set_conntrack(match);
  return r;
}

// Adds rule `rule_n` to chain `chain_n` jumping to chain `target_n`.
void jumpRule(TopologyBuilder& tb, int rule_n, int chain_n, int target_n) {
  tb.rule(rule_n, chain_n, v1::Rule::JUMP).set_jump_chain_id(id(target_n));
}

const Chain& chainOf(const SnapshotPtr& s, int n) {
  Index i = s->findChain(uuid(n));
  EXPECT_NE(i, kNoIndex) << "chain " << n << "\n" << testing::problemsText(*s);
  return s->chain(i == kNoIndex ? 0 : i);
}
const Port& portOf(const SnapshotPtr& s, int n) { return s->port(s->findPort(uuid(n))); }

TEST(ConntrackMarking, ChainTestingConntrackUsesIt) {
  struct Case {
    const char* what;
    v1::Condition::Conntrack match;
    bool inverted;
    v1::Rule::Action action;
  };
  const Case cases[] = {
      {"return flow", v1::Condition::RETURN_FLOW, false, v1::Rule::ACCEPT},
      {"forward flow", v1::Condition::FORWARD_FLOW, false, v1::Rule::ACCEPT},
      {"inverted", v1::Condition::FORWARD_FLOW, true, v1::Rule::ACCEPT},
      {"drop rule", v1::Condition::RETURN_FLOW, false, v1::Rule::DROP},
  };
  for (const Case& c : cases) {
    TopologyBuilder tb;
    tb.chain(1, {10, 11});
    tb.rule(10, 1).mutable_condition()->set_nw_proto(6);
    conntrackRule(tb, 11, 1, c.match, c.action).mutable_condition()->set_inv_conntrack(c.inverted);
    SnapshotPtr s = tb.build();
    EXPECT_NO_PROBLEMS(s);
    EXPECT_TRUE(chainOf(s, 1).uses_conntrack) << c.what;
  }
}

TEST(ConntrackMarking, ChainWithoutConntrackConditionDoesNotUseIt) {
  TopologyBuilder tb;
  tb.chain(1, {10, 11, 12});
  tb.rule(10, 1).mutable_condition()->set_nw_proto(6);
  tb.rule(11, 1, v1::Rule::DROP).mutable_condition()->set_nw_src("10.0.0.0/8");
  tb.rule(12, 1, v1::Rule::RETURN);
  tb.chain(2);  // Empty.
  SnapshotPtr s = tb.build();
  EXPECT_NO_PROBLEMS(s);
  EXPECT_FALSE(chainOf(s, 1).uses_conntrack);
  EXPECT_FALSE(chainOf(s, 2).uses_conntrack);
}

TEST(ConntrackMarking, UnspecifiedConntrackIsNoConntrackCondition) {
  TopologyBuilder tb;
  tb.chain(1, {10});
  tb.rule(10, 1).mutable_condition()->set_conntrack(v1::Condition::CONNTRACK_UNSPECIFIED);
  SnapshotPtr s = tb.build();
  EXPECT_NO_PROBLEMS(s);
  EXPECT_FALSE(chainOf(s, 1).uses_conntrack);
}

TEST(ConntrackMarking, JumpToAChainUsingConntrackMarksTheJumper) {
  TopologyBuilder tb;
  tb.chain(1, {10});
  jumpRule(tb, 10, 1, 2);
  tb.chain(2, {20});
  conntrackRule(tb, 20, 2);
  tb.chain(3, {30});  // Unrelated.
  tb.rule(30, 3);
  SnapshotPtr s = tb.build();
  EXPECT_NO_PROBLEMS(s);
  EXPECT_TRUE(chainOf(s, 1).uses_conntrack);
  EXPECT_TRUE(chainOf(s, 2).uses_conntrack);
  EXPECT_FALSE(chainOf(s, 3).uses_conntrack);
}

TEST(ConntrackMarking, MarkDoesNotFlowToTheJumpTarget) {
  TopologyBuilder tb;
  tb.chain(1, {10, 11});
  conntrackRule(tb, 10, 1);
  jumpRule(tb, 11, 1, 2);
  tb.chain(2, {20});
  tb.rule(20, 2);
  SnapshotPtr s = tb.build();
  EXPECT_NO_PROBLEMS(s);
  EXPECT_TRUE(chainOf(s, 1).uses_conntrack);
  EXPECT_FALSE(chainOf(s, 2).uses_conntrack);
}

TEST(ConntrackMarking, MarkSpreadsBackAlongAJumpPathOfAnyLength) {
  // Chains listed first-to-last along the path, so each pass learns only one more link.
  TopologyBuilder tb;
  const int kLength = 6;
  for (int c = 1; c < kLength; ++c) {
    tb.chain(c, {100 + c});
    jumpRule(tb, 100 + c, c, c + 1);
  }
  tb.chain(kLength, {100 + kLength});
  conntrackRule(tb, 100 + kLength, kLength);
  SnapshotPtr s = tb.build();
  EXPECT_NO_PROBLEMS(s);
  for (int c = 1; c <= kLength; ++c) EXPECT_TRUE(chainOf(s, c).uses_conntrack) << c;
}

TEST(ConntrackMarking, MarkSpreadsThroughAJumpCycle) {
  // 1 -> 2 -> 3 -> 2, and 3 tests conntrack; 4 jumps into the cycle.
  TopologyBuilder tb;
  tb.chain(1, {10});
  jumpRule(tb, 10, 1, 2);
  tb.chain(2, {20});
  jumpRule(tb, 20, 2, 3);
  tb.chain(3, {30, 31});
  jumpRule(tb, 30, 3, 2);
  conntrackRule(tb, 31, 3);
  tb.chain(4, {40});
  jumpRule(tb, 40, 4, 2);
  SnapshotPtr s = tb.build();
  EXPECT_PROBLEM(s, JumpCycle, Chain, uuid(3), "rule_ids");
  for (int c = 1; c <= 4; ++c) EXPECT_TRUE(chainOf(s, c).uses_conntrack) << c;
}

TEST(ConntrackMarking, JumpCycleWithoutConntrackMarksNothing) {
  TopologyBuilder tb;
  tb.chain(1, {10});
  jumpRule(tb, 10, 1, 2);
  tb.chain(2, {20});
  jumpRule(tb, 20, 2, 1);
  SnapshotPtr s = tb.build();
  EXPECT_PROBLEM(s, JumpCycle, Chain, uuid(2), "rule_ids");
  EXPECT_FALSE(chainOf(s, 1).uses_conntrack);
  EXPECT_FALSE(chainOf(s, 2).uses_conntrack);
}

TEST(ConntrackMarking, DanglingJumpDoesNotMark) {
  TopologyBuilder tb;
  tb.chain(1, {10});
  jumpRule(tb, 10, 1, 99);
  SnapshotPtr s = tb.build();
  EXPECT_PROBLEM(s, DanglingReference, Rule, uuid(10), "jump_chain_id");
  EXPECT_FALSE(chainOf(s, 1).uses_conntrack);
}

TEST(ConntrackMarking, RuleListedByNoChainDoesNotMark) {
  TopologyBuilder tb;
  tb.chain(1, {10});
  tb.rule(10, 1);
  conntrackRule(tb, 11, 1);  // Names chain 1, which does not list it.
  SnapshotPtr s = tb.build();
  EXPECT_PROBLEM(s, Inconsistent, Rule, uuid(11), "chain_id");
  EXPECT_FALSE(chainOf(s, 1).uses_conntrack);
}

// A bridge (1) with ports 2 and 3, a router (4) with port 5; chain 10 tests conntrack (rule
// 100) and chain 11 does not (rule 110).
TopologyBuilder devicesWithChains() {
  TopologyBuilder tb;
  tb.bridge(1, "b");
  tb.bridgePort(2, 1);
  tb.bridgePort(3, 1);
  tb.router(4, "r");
  tb.routerPort(5, 4, "02:00:00:00:00:05", {"10.0.0.1/24"});
  tb.chain(10, {100});
  conntrackRule(tb, 100, 10);
  tb.chain(11, {110});
  tb.rule(110, 11).mutable_condition()->set_nw_proto(6);
  return tb;
}

void expectNothingTracks(const SnapshotPtr& s) {
  for (const Port& p : s->ports()) EXPECT_FALSE(p.tracks_connections) << p.id.toString();
  for (const Bridge& b : s->bridges()) EXPECT_FALSE(b.tracks_connections) << b.name;
  for (const Router& r : s->routers()) EXPECT_FALSE(r.tracks_connections) << r.name;
}

TEST(ConntrackMarking, NothingTracksWithoutFilters) {
  SnapshotPtr s = devicesWithChains().build();
  EXPECT_NO_PROBLEMS(s);
  EXPECT_TRUE(chainOf(s, 10).uses_conntrack);  // Used by no device.
  expectNothingTracks(s);
}

TEST(ConntrackMarking, NothingTracksWithFiltersThatDoNotTestConntrack) {
  TopologyBuilder tb = devicesWithChains();
  tb.t.mutable_bridges(0)->set_inbound_filter_id(id(11));
  tb.t.mutable_routers(0)->set_outbound_filter_id(id(11));
  tb.t.mutable_ports(0)->set_inbound_filter_id(id(11));
  tb.t.mutable_ports(2)->set_outbound_filter_id(id(11));
  SnapshotPtr s = tb.build();
  EXPECT_NO_PROBLEMS(s);
  expectNothingTracks(s);
}

TEST(ConntrackMarking, PortTracksWhenEitherFilterUsesConntrack) {
  struct Case {
    const char* what;
    bool inbound;
  };
  for (const Case& c : {Case{"inbound", true}, Case{"outbound", false}}) {
    TopologyBuilder tb = devicesWithChains();
    v1::Port& p2 = *tb.t.mutable_ports(0);
    if (c.inbound) {
      p2.set_inbound_filter_id(id(10));
      p2.set_outbound_filter_id(id(11));
    } else {
      p2.set_inbound_filter_id(id(11));
      p2.set_outbound_filter_id(id(10));
    }
    SnapshotPtr s = tb.build();
    EXPECT_NO_PROBLEMS(s);
    EXPECT_TRUE(portOf(s, 2).tracks_connections) << c.what;
    EXPECT_FALSE(portOf(s, 3).tracks_connections) << c.what;
    EXPECT_FALSE(portOf(s, 5).tracks_connections) << c.what;
    EXPECT_FALSE(s->bridge(0).tracks_connections) << c.what;
    EXPECT_FALSE(s->router(0).tracks_connections) << c.what;
  }
}

TEST(ConntrackMarking, PortTracksWhenItsFilterJumpsToAConntrackChain) {
  TopologyBuilder tb = devicesWithChains();
  tb.chain(12, {120});
  jumpRule(tb, 120, 12, 10);
  tb.t.mutable_ports(2)->set_inbound_filter_id(id(12));  // Router port 5.
  SnapshotPtr s = tb.build();
  EXPECT_NO_PROBLEMS(s);
  EXPECT_TRUE(portOf(s, 5).tracks_connections);
  EXPECT_FALSE(portOf(s, 2).tracks_connections);
  EXPECT_FALSE(s->router(0).tracks_connections);
}

TEST(ConntrackMarking, BridgeTracksWhenItsFilterUsesConntrack) {
  for (bool inbound : {true, false}) {
    TopologyBuilder tb = devicesWithChains();
    v1::Bridge& b = *tb.t.mutable_bridges(0);
    if (inbound) {
      b.set_inbound_filter_id(id(10));
    } else {
      b.set_outbound_filter_id(id(10));
    }
    SnapshotPtr s = tb.build();
    EXPECT_NO_PROBLEMS(s);
    EXPECT_TRUE(s->bridge(0).tracks_connections) << inbound;
    // The bridge's ports and the router are not marked by the bridge's filter.
    EXPECT_FALSE(portOf(s, 2).tracks_connections) << inbound;
    EXPECT_FALSE(portOf(s, 3).tracks_connections) << inbound;
    EXPECT_FALSE(s->router(0).tracks_connections) << inbound;
  }
}

TEST(ConntrackMarking, RouterTracksWhenItsFilterUsesConntrack) {
  for (bool inbound : {true, false}) {
    TopologyBuilder tb = devicesWithChains();
    v1::Router& r = *tb.t.mutable_routers(0);
    if (inbound) {
      r.set_inbound_filter_id(id(10));
    } else {
      r.set_outbound_filter_id(id(10));
    }
    SnapshotPtr s = tb.build();
    EXPECT_NO_PROBLEMS(s);
    EXPECT_TRUE(s->router(0).tracks_connections) << inbound;
    EXPECT_FALSE(portOf(s, 5).tracks_connections) << inbound;
    EXPECT_FALSE(s->bridge(0).tracks_connections) << inbound;
  }
}

TEST(ConntrackMarking, DeviceTracksThroughAFilterThatJumpsToAConntrackChain) {
  TopologyBuilder tb = devicesWithChains();
  tb.chain(12, {120});
  jumpRule(tb, 120, 12, 10);
  tb.t.mutable_bridges(0)->set_outbound_filter_id(id(12));
  tb.t.mutable_routers(0)->set_inbound_filter_id(id(12));
  SnapshotPtr s = tb.build();
  EXPECT_NO_PROBLEMS(s);
  EXPECT_TRUE(s->bridge(0).tracks_connections);
  EXPECT_TRUE(s->router(0).tracks_connections);
}

TEST(ConntrackMarking, DanglingFilterDoesNotTrack) {
  TopologyBuilder tb = devicesWithChains();
  tb.t.mutable_bridges(0)->set_inbound_filter_id(id(77));
  tb.t.mutable_ports(0)->set_inbound_filter_id(id(77));
  SnapshotPtr s = tb.build();
  EXPECT_FALSE(s->problems().empty());
  expectNothingTracks(s);
}

}  // namespace
}  // namespace loom::model
