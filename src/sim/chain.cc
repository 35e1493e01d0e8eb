// Chains: ordered rules evaluated first match wins, with jump/return, conditions over ports,
// port groups, L2/L3/L4 fields, address groups, fragments and connection tracking.
//
// A condition reads only the fields it tests, and stops at the first field that fails, so the
// megaflow mask holds exactly what decided the outcome.

#include <algorithm>
#include <string>

#include "sim/context.h"

namespace loom::sim::detail {
namespace {

using model::CondField;
using model::Condition;
using model::FragmentPolicy;

enum class Match : uint8_t { No, Yes, NotReady };

bool inList(const std::vector<Uuid>& ids, const Uuid& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

bool fragmentPolicyAccepts(Context& ctx, FragmentPolicy policy) {
  if (policy == FragmentPolicy::Any) return true;
  // Non-IP packets are never fragments.
  packet::FragType frag = ctx.cur.isIp() ? ctx.cur.nwFrag() : packet::FragType::None;
  switch (policy) {
    case FragmentPolicy::Any: return true;
    case FragmentPolicy::Header: return frag != packet::FragType::Later;
    case FragmentPolicy::NonHeader: return frag == packet::FragType::Later;
    case FragmentPolicy::Unfragmented: return frag == packet::FragType::None;
  }
  return false;
}

// Evaluates one field test (before its own inversion). `missing` is set when the test needs an
// object the snapshot does not have.
bool testField(Context& ctx, const Condition& c, CondField f, const Uuid** missing,
               ObjectKind* missing_kind) {
  const packet::FlowMatch& m = ctx.cur;
  switch (f) {
    case CondField::InPorts:
      return ctx.in_port != kNoIndex && inList(c.in_ports, ctx.topo.port(ctx.in_port).id);
    case CondField::OutPorts:
      return ctx.out_port != kNoIndex && inList(c.out_ports, ctx.topo.port(ctx.out_port).id);
    case CondField::InPortGroup:
    case CondField::OutPortGroup: {
      const model::Ref& g = f == CondField::InPortGroup ? c.in_port_group : c.out_port_group;
      if (!g.isResolved()) {
        *missing = &g.id;
        *missing_kind = ObjectKind::PortGroup;
        return false;
      }
      ctx.tagDevice(g.id);
      Index p = f == CondField::InPortGroup ? ctx.in_port : ctx.out_port;
      return p != kNoIndex && ctx.topo.port(p).inGroup(g.index);
    }
    case CondField::DlSrc:
      return (m.ethSrc().toU64() & c.dl_src_mask) == (c.dl_src.toU64() & c.dl_src_mask);
    case CondField::DlDst:
      return (m.ethDst().toU64() & c.dl_dst_mask) == (c.dl_dst.toU64() & c.dl_dst_mask);
    case CondField::EtherType: return m.ethType() == c.ethertype;
    case CondField::NwSrc: return m.isIp() && c.nw_src.contains(m.nwSrc());
    case CondField::NwDst: return m.isIp() && c.nw_dst.contains(m.nwDst());
    case CondField::IpAddrGroupSrc:
    case CondField::IpAddrGroupDst: {
      const model::Ref& g =
          f == CondField::IpAddrGroupSrc ? c.ip_addr_group_src : c.ip_addr_group_dst;
      if (!g.isResolved()) {
        *missing = &g.id;
        *missing_kind = ObjectKind::IpAddrGroup;
        return false;
      }
      ctx.tagDevice(g.id);
      if (!m.isIp()) return false;
      const IpAddr& a = f == CondField::IpAddrGroupSrc ? m.nwSrc() : m.nwDst();
      return ctx.topo.ipAddrGroup(g.index).contains(a);
    }
    case CondField::NwProto: return m.isIp() && m.nwProto() == c.nw_proto;
    case CondField::NwTos: return m.isIp() && m.nwTos() == c.nw_tos;
    case CondField::TpSrc: {
      if (!m.hasPorts()) return false;
      uint16_t p = m.tpSrc();
      return p >= c.tp_src_lo && p <= c.tp_src_hi;
    }
    case CondField::TpDst: {
      if (!m.hasPorts()) return false;
      uint16_t p = m.tpDst();
      return p >= c.tp_dst_lo && p <= c.tp_dst_hi;
    }
    case CondField::IcmpType: return m.isIcmp() && m.icmpType() == c.icmp_type;
    case CondField::IcmpCode: return m.isIcmp() && m.icmpCode() == c.icmp_code;
    case CondField::Conntrack: {
      if (!m.isIp()) return false;
      state::CtDirection d = ctx.conntrackDirection();
      return c.conntrack == model::ConntrackMatch::ReturnFlow ? d == state::CtDirection::Return
                                                              : d == state::CtDirection::Forward;
    }
  }
  return false;
}

Match matches(Context& ctx, const Condition& c) {
  bool result = fragmentPolicyAccepts(ctx, c.fragment_policy);
  if (result) {
    // Set fields only, in CondField order (cheapest first).
    for (uint32_t bits = c.present; bits != 0; bits &= bits - 1) {
      auto f = static_cast<CondField>(__builtin_ctz(bits));
      const Uuid* missing = nullptr;
      ObjectKind missing_kind = ObjectKind::PortGroup;
      bool ok = testField(ctx, c, f, &missing, &missing_kind);
      if (missing != nullptr) {
        ctx.notReadyMissing(missing_kind, *missing);
        return Match::NotReady;
      }
      if (c.inv(f)) ok = !ok;
      if (!ok) {
        result = false;
        break;
      }
    }
  }
  if (c.invert) result = !result;
  return result ? Match::Yes : Match::No;
}

// Result of evaluating one chain: a final verdict, or "returned" (fell off the end / RETURN).
enum class Eval : uint8_t { Accept, Drop, Reject, Return, NotReady };

Eval evalChain(Context& ctx, const model::Chain& chain, uint32_t depth) {
  ctx.tagDevice(chain.id);
  if (!chain.missing_rule.isNil()) {
    ctx.notReadyMissing(ObjectKind::Rule, chain.missing_rule);
    return Eval::NotReady;
  }
  for (size_t i = 0; i < chain.rules.size(); ++i) {
    const model::Rule& rule = chain.rules[i];
    Match mt = matches(ctx, rule.condition);
    if (mt == Match::NotReady) return Eval::NotReady;
    if (mt == Match::No) continue;
    if (ctx.tracing()) {
      std::string d = "rule " + std::to_string(i + 1);
      if (!rule.name.empty()) d += " '" + rule.name + "'";
      d += " matched: ";
      d += model::ruleActionName(rule.action);
      ctx.trace(ctx.label(chain), std::move(d));
    }
    switch (rule.action) {
      case model::RuleAction::Accept: return Eval::Accept;
      case model::RuleAction::Drop: return Eval::Drop;
      case model::RuleAction::Reject: return Eval::Reject;
      case model::RuleAction::Return: return Eval::Return;
      case model::RuleAction::Continue: continue;
      case model::RuleAction::Jump: {
        if (!rule.jump_chain.isResolved()) {
          ctx.notReadyMissing(ObjectKind::Chain, rule.jump_chain.id);
          return Eval::NotReady;
        }
        if (depth + 1 >= ctx.cfg.max_chain_depth) {
          ctx.drop(DropReason::ChainDepthExceeded, ctx.tracing() ? ctx.label(chain) : "",
                   "jumps nested too deep");
          return Eval::Drop;
        }
        Eval e = evalChain(ctx, ctx.topo.chain(rule.jump_chain.index), depth + 1);
        if (e != Eval::Return) return e;
        continue;
      }
    }
  }
  return Eval::Return;
}

}  // namespace

ChainVerdict runChain(Context& ctx, const Ref& chain, std::string_view where) {
  if (!chain.isSet()) return ChainVerdict::Accept;
  if (!chain.isResolved()) {
    ctx.notReadyMissing(ObjectKind::Chain, chain.id);
    return ChainVerdict::NotReady;
  }
  const model::Chain& c = ctx.topo.chain(chain.index);
  size_t trace_mark = ctx.out.trace.size();
  Eval e = evalChain(ctx, c, 0);
  if (ctx.tracing() && ctx.out.trace.size() == trace_mark && e == Eval::Return) {
    ctx.trace(ctx.label(c), std::string(where) + ": no rule matched, accept");
  }
  switch (e) {
    case Eval::Accept:
    case Eval::Return: return ChainVerdict::Accept;
    case Eval::Drop:
      // A depth overflow already recorded its own reason; FilterDrop is recorded by the caller
      // only if nothing was (the first reason wins).
      return ChainVerdict::Drop;
    case Eval::Reject: return ChainVerdict::Reject;
    case Eval::NotReady: return ChainVerdict::NotReady;
  }
  return ChainVerdict::Drop;
}

}  // namespace loom::sim::detail
