// Chains and rules: order, missing and orphan rules, actions, jumps and cycles, conditions.
#include <gtest/gtest.h>

#include "unit/model/model_test_util.h"

namespace loom::model {
namespace {

using testing::id;
using testing::ip;
using testing::mac;
using testing::prefix;
using testing::TopologyBuilder;
using testing::uuid;

// One chain (id 1) holding one rule (id 2) with `condition`, built into a snapshot.
SnapshotPtr buildWithCondition(const v1::Condition& condition, TopologyBuilder tb = {}) {
  tb.chain(1, {2});
  *tb.rule(2, 1).mutable_condition() = condition;
  return tb.build();
}

// A copy: callers often pass a temporary snapshot.
Condition onlyCondition(const SnapshotPtr& s) {
  if (s->chains().size() != 1 || s->chain(0).rules.size() != 1) {
    ADD_FAILURE() << "expected one chain with one rule\n" << testing::problemsText(*s);
    return Condition();
  }
  return s->chain(0).rules[0].condition;
}

TEST(ChainCompiler, RulesFollowTheChainsRuleIdsOrder) {
  TopologyBuilder tb;
  tb.rule(10, 1, v1::Rule::DROP).set_name("ten");
  tb.rule(11, 1, v1::Rule::ACCEPT).set_name("eleven");
  tb.rule(12, 1, v1::Rule::CONTINUE).set_name("twelve");
  tb.chain(1, {12, 10, 11}).set_name("c");
  SnapshotPtr s = tb.build();
  EXPECT_NO_PROBLEMS(s);
  const Chain& c = s->chain(0);
  ASSERT_EQ(c.rules.size(), 3u);
  EXPECT_EQ(c.rules[0].name, "twelve");
  EXPECT_EQ(c.rules[0].action, RuleAction::Continue);
  EXPECT_EQ(c.rules[1].id, uuid(10));
  EXPECT_EQ(c.rules[1].action, RuleAction::Drop);
  EXPECT_EQ(c.rules[2].action, RuleAction::Accept);
  EXPECT_TRUE(c.missing_rule.isNil());
  EXPECT_EQ(s->findChain(uuid(1)), 0u);
}

TEST(ChainCompiler, EveryActionIsCompiled) {
  TopologyBuilder tb;
  tb.chain(1, {10, 11, 12, 13, 14, 15});
  tb.chain(2);
  tb.rule(10, 1, v1::Rule::ACCEPT);
  tb.rule(11, 1, v1::Rule::DROP);
  tb.rule(12, 1, v1::Rule::REJECT);
  tb.rule(13, 1, v1::Rule::RETURN);
  tb.rule(14, 1, v1::Rule::JUMP).set_jump_chain_id(id(2));
  tb.rule(15, 1, v1::Rule::CONTINUE);
  SnapshotPtr s = tb.build();
  EXPECT_NO_PROBLEMS(s);
  const auto& rules = s->chain(0).rules;
  ASSERT_EQ(rules.size(), 6u);
  EXPECT_EQ(rules[0].action, RuleAction::Accept);
  EXPECT_EQ(rules[1].action, RuleAction::Drop);
  EXPECT_EQ(rules[2].action, RuleAction::Reject);
  EXPECT_EQ(rules[3].action, RuleAction::Return);
  EXPECT_EQ(rules[4].action, RuleAction::Jump);
  EXPECT_EQ(rules[4].jump_chain.index, 1u);
  EXPECT_EQ(rules[5].action, RuleAction::Continue);
}

TEST(ChainCompiler, MissingRuleMarksTheChainWithTheFirstMissingId) {
  TopologyBuilder tb;
  tb.rule(10, 1);
  tb.chain(1, {10, 20, 21});
  SnapshotPtr s = tb.build();
  const Chain& c = s->chain(0);
  EXPECT_EQ(c.missing_rule, uuid(20));
  EXPECT_EQ(c.rules.size(), 1u);
  EXPECT_PROBLEM(s, DanglingReference, Chain, uuid(1), "rule_ids[1]");
  EXPECT_PROBLEM(s, DanglingReference, Chain, uuid(1), "rule_ids[2]");
}

TEST(ChainCompiler, InvalidRuleIsMissingFromItsChain) {
  TopologyBuilder tb;
  tb.chain(1, {10});
  tb.rule(10, 1).mutable_condition()->set_nw_src("10.0.0.0/99");
  SnapshotPtr s = tb.build();
  EXPECT_EQ(s->chain(0).missing_rule, uuid(10));
  EXPECT_TRUE(s->chain(0).rules.empty());
  EXPECT_PROBLEM(s, InvalidField, Rule, uuid(10), "condition.nw_src");
  EXPECT_PROBLEM(s, DanglingReference, Chain, uuid(1), "rule_ids[0]");
}

TEST(ChainCompiler, RuleNamingAnotherChainIsInconsistentButStillUsed) {
  TopologyBuilder tb;
  tb.chain(1, {10});
  tb.chain(2);
  tb.rule(10, 2, v1::Rule::DROP);
  SnapshotPtr s = tb.build();
  ASSERT_EQ(s->chain(0).rules.size(), 1u);
  EXPECT_EQ(s->chain(0).rules[0].action, RuleAction::Drop);
  EXPECT_PROBLEM(s, Inconsistent, Rule, uuid(10), "chain_id");
}

TEST(ChainCompiler, OrphanRuleIsInconsistentAndIgnored) {
  TopologyBuilder tb;
  tb.chain(1);
  tb.rule(10, 1);
  SnapshotPtr s = tb.build();
  EXPECT_TRUE(s->chain(0).rules.empty());
  EXPECT_PROBLEM(s, Inconsistent, Rule, uuid(10), "chain_id");
}

TEST(ChainCompiler, UnspecifiedActionIsInvalid) {
  TopologyBuilder tb;
  tb.chain(1, {10});
  tb.rule(10, 1, v1::Rule::ACTION_UNSPECIFIED);
  SnapshotPtr s = tb.build();
  EXPECT_EQ(s->chain(0).missing_rule, uuid(10));
  EXPECT_PROBLEM(s, InvalidField, Rule, uuid(10), "action");
}

TEST(ChainCompiler, JumpWithoutTargetIsInvalid) {
  TopologyBuilder tb;
  tb.chain(1, {10});
  tb.rule(10, 1, v1::Rule::JUMP);
  SnapshotPtr s = tb.build();
  EXPECT_PROBLEM(s, InvalidField, Rule, uuid(10), "jump_chain_id");
}

TEST(ChainCompiler, DanglingJumpTargetIsKeptUnresolved) {
  TopologyBuilder tb;
  tb.chain(1, {10});
  tb.rule(10, 1, v1::Rule::JUMP).set_jump_chain_id(id(3));
  SnapshotPtr s = tb.build();
  ASSERT_EQ(s->chain(0).rules.size(), 1u);
  EXPECT_TRUE(s->chain(0).rules[0].jump_chain.isDangling());
  EXPECT_EQ(s->chain(0).rules[0].jump_chain.id, uuid(3));
  EXPECT_PROBLEM(s, DanglingReference, Rule, uuid(10), "jump_chain_id");
}

TEST(ChainCompiler, JumpCycleIsReportedOnAChainInTheCycle) {
  TopologyBuilder tb;
  tb.chain(1, {10});
  tb.chain(2, {11});
  tb.chain(3, {12});
  tb.rule(10, 1, v1::Rule::JUMP).set_jump_chain_id(id(2));
  tb.rule(11, 2, v1::Rule::JUMP).set_jump_chain_id(id(3));
  tb.rule(12, 3, v1::Rule::JUMP).set_jump_chain_id(id(1));
  SnapshotPtr s = tb.build();
  ASSERT_EQ(s->problems().size(), 1u) << testing::problemsText(*s);
  const Problem& p = s->problems()[0];
  EXPECT_EQ(p.kind, Problem::Kind::JumpCycle);
  EXPECT_EQ(p.object_kind, ObjectKind::Chain);
  EXPECT_EQ(p.object_id, uuid(3));
  EXPECT_EQ(p.message, "jump cycle " + id(1) + " -> " + id(2) + " -> " + id(3) + " -> " + id(1));
}

TEST(ChainCompiler, SelfJumpIsACycle) {
  TopologyBuilder tb;
  tb.chain(1, {10});
  tb.rule(10, 1, v1::Rule::JUMP).set_jump_chain_id(id(1));
  SnapshotPtr s = tb.build();
  EXPECT_PROBLEM(s, JumpCycle, Chain, uuid(1), "rule_ids");
}

TEST(ChainCompiler, SharedJumpTargetsWithoutACycleAreFine) {
  TopologyBuilder tb;
  tb.chain(1, {10, 11});
  tb.chain(2, {12});
  tb.chain(3, {13});
  tb.chain(4);
  tb.rule(10, 1, v1::Rule::JUMP).set_jump_chain_id(id(2));
  tb.rule(11, 1, v1::Rule::JUMP).set_jump_chain_id(id(3));
  tb.rule(12, 2, v1::Rule::JUMP).set_jump_chain_id(id(4));
  tb.rule(13, 3, v1::Rule::JUMP).set_jump_chain_id(id(4));
  SnapshotPtr s = tb.build();
  EXPECT_NO_PROBLEMS(s);
}

// ------------------------------------------------------------------------------------------------
// Conditions

TEST(ConditionCompiler, EmptyConditionTestsNothing) {
  SnapshotPtr s = buildWithCondition(v1::Condition());
  const Condition& c = onlyCondition(s);
  EXPECT_EQ(c.present, 0u);
  EXPECT_EQ(c.inverted, 0u);
  EXPECT_FALSE(c.invert);
  EXPECT_EQ(c.fragment_policy, FragmentPolicy::Any);
  EXPECT_EQ(c.conntrack, ConntrackMatch::None);
}

TEST(ConditionCompiler, InvertNegatesTheWholeCondition) {
  v1::Condition in;
  in.set_invert(true);
  EXPECT_TRUE(onlyCondition(buildWithCondition(in)).invert);
}

TEST(ConditionCompiler, PortListsAreKeptAsIdsWithDanglingOnesReported) {
  TopologyBuilder tb;
  tb.bridge(50);
  tb.bridgePort(51, 50);
  v1::Condition in;
  in.add_in_port_ids(id(51));
  in.add_in_port_ids(id(52));
  in.set_inv_in_ports(true);
  in.add_out_port_ids(id(51));
  SnapshotPtr s = buildWithCondition(in, tb);
  const Condition& c = onlyCondition(s);
  EXPECT_TRUE(c.has(CondField::InPorts));
  EXPECT_TRUE(c.inv(CondField::InPorts));
  EXPECT_TRUE(c.has(CondField::OutPorts));
  EXPECT_FALSE(c.inv(CondField::OutPorts));
  EXPECT_EQ(c.in_ports, std::vector<Uuid>({uuid(51), uuid(52)}));
  EXPECT_EQ(c.out_ports, std::vector<Uuid>({uuid(51)}));
  EXPECT_PROBLEM(s, DanglingReference, Rule, uuid(2), "condition.in_port_ids[1]");
  EXPECT_EQ(s->problems().size(), 1u);
}

TEST(ConditionCompiler, PortGroupsResolveAndDanglingOnesAreKept) {
  TopologyBuilder tb;
  tb.t.add_port_groups()->set_id(id(60));
  v1::Condition in;
  in.set_in_port_group_id(id(60));
  in.set_out_port_group_id(id(61));
  in.set_inv_out_port_group(true);
  SnapshotPtr s = buildWithCondition(in, tb);
  const Condition& c = onlyCondition(s);
  EXPECT_TRUE(c.has(CondField::InPortGroup));
  EXPECT_EQ(c.in_port_group.index, 0u);
  EXPECT_TRUE(c.has(CondField::OutPortGroup));
  EXPECT_TRUE(c.inv(CondField::OutPortGroup));
  EXPECT_TRUE(c.out_port_group.isDangling());
  EXPECT_EQ(c.out_port_group.id, uuid(61));
  EXPECT_PROBLEM(s, DanglingReference, Rule, uuid(2), "condition.out_port_group_id");
}

TEST(ConditionCompiler, MacFieldsDefaultToAFullMask) {
  v1::Condition in;
  in.set_dl_src("02:00:00:00:00:01");
  in.set_dl_dst("01:00:00:00:00:00");
  in.set_dl_dst_mask("01:00:00:00:00:00");
  in.set_inv_dl_dst(true);
  const Condition& c = onlyCondition(buildWithCondition(in));
  EXPECT_TRUE(c.has(CondField::DlSrc));
  EXPECT_EQ(c.dl_src, mac("02:00:00:00:00:01"));
  EXPECT_EQ(c.dl_src_mask, 0xffffffffffffULL);
  EXPECT_TRUE(c.has(CondField::DlDst));
  EXPECT_TRUE(c.inv(CondField::DlDst));
  EXPECT_EQ(c.dl_dst_mask, 0x010000000000ULL);
}

TEST(ConditionCompiler, MacMaskWithoutAddressIsInvalid) {
  v1::Condition in;
  in.set_dl_src_mask("ff:ff:ff:00:00:00");
  SnapshotPtr s = buildWithCondition(in);
  EXPECT_PROBLEM(s, InvalidField, Rule, uuid(2), "condition.dl_src_mask");
}

TEST(ConditionCompiler, BadMacIsInvalid) {
  v1::Condition in;
  in.set_dl_dst("02:00:00:00:00");
  SnapshotPtr s = buildWithCondition(in);
  EXPECT_PROBLEM(s, InvalidField, Rule, uuid(2), "condition.dl_dst");
}

TEST(ConditionCompiler, EthertypeIsPresentOnlyWhenSet) {
  v1::Condition in;
  in.set_ethertype(0x0806);
  in.set_inv_ethertype(true);
  const Condition& c = onlyCondition(buildWithCondition(in));
  EXPECT_TRUE(c.has(CondField::EtherType));
  EXPECT_TRUE(c.inv(CondField::EtherType));
  EXPECT_EQ(c.ethertype, 0x0806);
  v1::Condition zero;
  zero.set_ethertype(0);
  EXPECT_TRUE(onlyCondition(buildWithCondition(zero)).has(CondField::EtherType));
}

TEST(ConditionCompiler, EthertypeAboveSixteenBitsIsInvalid) {
  v1::Condition in;
  in.set_ethertype(0x10000);
  EXPECT_PROBLEM(buildWithCondition(in), InvalidField, Rule, uuid(2), "condition.ethertype");
}

TEST(ConditionCompiler, AddressPrefixesAreParsedAndNormalized) {
  v1::Condition in;
  in.set_nw_src("10.0.0.7/24");
  in.set_nw_dst("fd00::1");
  in.set_inv_nw_dst(true);
  const Condition& c = onlyCondition(buildWithCondition(in));
  EXPECT_TRUE(c.has(CondField::NwSrc));
  EXPECT_EQ(c.nw_src, prefix("10.0.0.0/24"));
  EXPECT_TRUE(c.has(CondField::NwDst));
  EXPECT_TRUE(c.inv(CondField::NwDst));
  EXPECT_EQ(c.nw_dst, prefix("fd00::1/128"));
}

TEST(ConditionCompiler, IpAddrGroupsResolve) {
  TopologyBuilder tb;
  tb.t.add_ip_addr_groups()->set_id(id(70));
  v1::Condition in;
  in.set_ip_addr_group_src_id(id(70));
  in.set_inv_ip_addr_group_src(true);
  in.set_ip_addr_group_dst_id(id(71));
  SnapshotPtr s = buildWithCondition(in, tb);
  const Condition& c = onlyCondition(s);
  EXPECT_TRUE(c.has(CondField::IpAddrGroupSrc));
  EXPECT_TRUE(c.inv(CondField::IpAddrGroupSrc));
  EXPECT_EQ(c.ip_addr_group_src.index, 0u);
  EXPECT_TRUE(c.has(CondField::IpAddrGroupDst));
  EXPECT_TRUE(c.ip_addr_group_dst.isDangling());
  EXPECT_PROBLEM(s, DanglingReference, Rule, uuid(2), "condition.ip_addr_group_dst_id");
}

TEST(ConditionCompiler, ProtocolAndTosAreBytes) {
  v1::Condition in;
  in.set_nw_proto(17);
  in.set_inv_nw_proto(true);
  in.set_nw_tos(0xb8);
  const Condition& c = onlyCondition(buildWithCondition(in));
  EXPECT_TRUE(c.has(CondField::NwProto));
  EXPECT_TRUE(c.inv(CondField::NwProto));
  EXPECT_EQ(c.nw_proto, 17);
  EXPECT_TRUE(c.has(CondField::NwTos));
  EXPECT_FALSE(c.inv(CondField::NwTos));
  EXPECT_EQ(c.nw_tos, 0xb8);
}

TEST(ConditionCompiler, ProtocolAbove255IsInvalid) {
  v1::Condition in;
  in.set_nw_proto(256);
  EXPECT_PROBLEM(buildWithCondition(in), InvalidField, Rule, uuid(2), "condition.nw_proto");
}

TEST(ConditionCompiler, PortRangeEndZeroMeansStart) {
  v1::Condition in;
  in.mutable_tp_dst()->set_start(22);
  in.mutable_tp_src()->set_start(1024);
  in.mutable_tp_src()->set_end(65535);
  in.set_inv_tp_src(true);
  const Condition& c = onlyCondition(buildWithCondition(in));
  EXPECT_TRUE(c.has(CondField::TpDst));
  EXPECT_EQ(c.tp_dst_lo, 22);
  EXPECT_EQ(c.tp_dst_hi, 22);
  EXPECT_TRUE(c.has(CondField::TpSrc));
  EXPECT_TRUE(c.inv(CondField::TpSrc));
  EXPECT_EQ(c.tp_src_lo, 1024);
  EXPECT_EQ(c.tp_src_hi, 65535);
}

TEST(ConditionCompiler, PortAbove65535IsInvalid) {
  v1::Condition in;
  in.mutable_tp_dst()->set_start(80);
  in.mutable_tp_dst()->set_end(70000);
  EXPECT_PROBLEM(buildWithCondition(in), InvalidField, Rule, uuid(2), "condition.tp_dst.end");
}

TEST(ConditionCompiler, SinglePortAbove65535IsReportedOnce) {
  v1::Condition in;
  in.mutable_tp_src()->set_start(70000);
  SnapshotPtr s = buildWithCondition(in);
  EXPECT_PROBLEM(s, InvalidField, Rule, uuid(2), "condition.tp_src.start");
  EXPECT_EQ(s->problems().size(), 2u) << testing::problemsText(*s);  // And the chain's.
}

TEST(ConditionCompiler, PortRangeStartAfterEndIsInvalid) {
  v1::Condition in;
  in.mutable_tp_src()->set_start(100);
  in.mutable_tp_src()->set_end(99);
  EXPECT_PROBLEM(buildWithCondition(in), InvalidField, Rule, uuid(2), "condition.tp_src");
}

TEST(ConditionCompiler, IcmpTypeAndCode) {
  v1::Condition in;
  in.set_icmp_type(8);
  in.set_icmp_code(0);
  in.set_inv_icmp_code(true);
  const Condition& c = onlyCondition(buildWithCondition(in));
  EXPECT_TRUE(c.has(CondField::IcmpType));
  EXPECT_EQ(c.icmp_type, 8);
  EXPECT_TRUE(c.has(CondField::IcmpCode));
  EXPECT_TRUE(c.inv(CondField::IcmpCode));
  EXPECT_EQ(c.icmp_code, 0);
}

TEST(ConditionCompiler, IcmpTypeAbove255IsInvalid) {
  v1::Condition in;
  in.set_icmp_type(300);
  EXPECT_PROBLEM(buildWithCondition(in), InvalidField, Rule, uuid(2), "condition.icmp_type");
}

TEST(ConditionCompiler, ConntrackMatches) {
  v1::Condition fwd;
  fwd.set_conntrack(v1::Condition::FORWARD_FLOW);
  const Condition& a = onlyCondition(buildWithCondition(fwd));
  EXPECT_TRUE(a.has(CondField::Conntrack));
  EXPECT_EQ(a.conntrack, ConntrackMatch::ForwardFlow);
  v1::Condition ret;
  ret.set_conntrack(v1::Condition::RETURN_FLOW);
  ret.set_inv_conntrack(true);
  const Condition& b = onlyCondition(buildWithCondition(ret));
  EXPECT_EQ(b.conntrack, ConntrackMatch::ReturnFlow);
  EXPECT_TRUE(b.inv(CondField::Conntrack));
}

TEST(ConditionCompiler, InversionFlagWithoutItsFieldIsIgnored) {
  v1::Condition in;
  in.set_inv_nw_src(true);
  in.set_inv_conntrack(true);
  const Condition& c = onlyCondition(buildWithCondition(in));
  EXPECT_EQ(c.present, 0u);
  EXPECT_EQ(c.inverted, 0u);
}

TEST(ConditionCompiler, UnspecifiedFragmentPolicyIsHeaderWithL4Fields) {
  v1::Condition ports;
  ports.mutable_tp_dst()->set_start(80);
  EXPECT_EQ(onlyCondition(buildWithCondition(ports)).fragment_policy, FragmentPolicy::Header);
  v1::Condition icmp;
  icmp.set_icmp_code(3);
  EXPECT_EQ(onlyCondition(buildWithCondition(icmp)).fragment_policy, FragmentPolicy::Header);
}

TEST(ConditionCompiler, UnspecifiedFragmentPolicyIsAnyWithoutL4Fields) {
  v1::Condition in;
  in.set_nw_proto(6);
  in.set_nw_src("10.0.0.0/8");
  EXPECT_EQ(onlyCondition(buildWithCondition(in)).fragment_policy, FragmentPolicy::Any);
}

TEST(ConditionCompiler, ExplicitFragmentPolicyIsKept) {
  const std::pair<v1::Condition::FragmentPolicy, FragmentPolicy> cases[] = {
      {v1::Condition::ANY, FragmentPolicy::Any},
      {v1::Condition::HEADER, FragmentPolicy::Header},
      {v1::Condition::NONHEADER, FragmentPolicy::NonHeader},
      {v1::Condition::UNFRAGMENTED, FragmentPolicy::Unfragmented},
  };
  for (const auto& [in_policy, expected] : cases) {
    v1::Condition in;
    in.mutable_tp_dst()->set_start(80);
    in.set_fragment_policy(in_policy);
    EXPECT_EQ(onlyCondition(buildWithCondition(in)).fragment_policy, expected);
  }
}

TEST(ConditionCompiler, UnknownEnumValuesAreInvalid) {
  v1::Condition in;
  in.set_fragment_policy(static_cast<v1::Condition::FragmentPolicy>(9));
  in.set_conntrack(static_cast<v1::Condition::Conntrack>(9));
  SnapshotPtr s = buildWithCondition(in);
  EXPECT_PROBLEM(s, InvalidField, Rule, uuid(2), "condition.fragment_policy");
  EXPECT_PROBLEM(s, InvalidField, Rule, uuid(2), "condition.conntrack");
}

}  // namespace
}  // namespace loom::model
