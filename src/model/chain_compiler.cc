// Rules compiled for evaluation, chains filled in rule_ids order, and jump-cycle detection.
#include <algorithm>

#include "model/snapshot_builder.h"

namespace loom::model {
namespace {

constexpr uint32_t kMaxPort = 65535;
constexpr uint32_t kMaxByte = 255;
constexpr uint32_t kMaxEthertype = 0xffff;

std::string conditionField(std::string_view name) { return "condition." + std::string(name); }

// PortRange -> [lo, hi]; `end` 0 means equal to start.
void parseRange(const v1::PortRange& in, std::string_view name, uint16_t& lo, uint16_t& hi,
                FieldChecker& fc) {
  std::string field = conditionField(name);
  lo = fc.bounded<uint16_t>(field + ".start", in.start(), kMaxPort);
  uint32_t end = in.end() == 0 ? in.start() : in.end();
  hi = in.end() == 0 ? lo : fc.bounded<uint16_t>(field + ".end", end, kMaxPort);
  if (in.start() <= kMaxPort && end <= kMaxPort && in.start() > end) {
    fc.fail(field,
            "start " + std::to_string(in.start()) + " is greater than end " + std::to_string(end));
  }
}

}  // namespace

bool SnapshotBuilder::parseCondition(const v1::Condition& in, Condition& c, FieldChecker& fc) {
  auto mark = [&c](CondField f, bool inverted) {
    c.present |= condBit(f);
    if (inverted) c.inverted |= condBit(f);
  };
  c.invert = in.invert();

  if (in.in_port_ids_size() > 0) {
    mark(CondField::InPorts, in.inv_in_ports());
    for (int i = 0; i < in.in_port_ids_size(); ++i) {
      c.in_ports.push_back(fc.requiredUuid(
          conditionField(indexedField("in_port_ids", static_cast<size_t>(i))), in.in_port_ids(i)));
    }
  }
  if (in.out_port_ids_size() > 0) {
    mark(CondField::OutPorts, in.inv_out_ports());
    for (int i = 0; i < in.out_port_ids_size(); ++i) {
      c.out_ports.push_back(
          fc.requiredUuid(conditionField(indexedField("out_port_ids", static_cast<size_t>(i))),
                          in.out_port_ids(i)));
    }
  }
  if (!in.in_port_group_id().empty()) {
    mark(CondField::InPortGroup, in.inv_in_port_group());
    c.in_port_group.id = fc.requiredUuid(conditionField("in_port_group_id"), in.in_port_group_id());
  }
  if (!in.out_port_group_id().empty()) {
    mark(CondField::OutPortGroup, in.inv_out_port_group());
    c.out_port_group.id =
        fc.requiredUuid(conditionField("out_port_group_id"), in.out_port_group_id());
  }

  auto parse_mac = [&](const std::string& addr, const std::string& mask, std::string_view name,
                       std::string_view mask_name, CondField f, bool inverted, MacAddr& out_addr,
                       uint64_t& out_mask) {
    if (addr.empty()) {
      if (!mask.empty()) fc.fail(conditionField(mask_name), "set without " + std::string(name));
      return;
    }
    mark(f, inverted);
    if (auto m = fc.mac(conditionField(name), addr)) out_addr = *m;
    if (!mask.empty()) {
      if (auto m = fc.mac(conditionField(mask_name), mask)) out_mask = m->toU64();
    }
  };
  parse_mac(in.dl_src(), in.dl_src_mask(), "dl_src", "dl_src_mask", CondField::DlSrc,
            in.inv_dl_src(), c.dl_src, c.dl_src_mask);
  parse_mac(in.dl_dst(), in.dl_dst_mask(), "dl_dst", "dl_dst_mask", CondField::DlDst,
            in.inv_dl_dst(), c.dl_dst, c.dl_dst_mask);
  if (in.has_ethertype()) {
    mark(CondField::EtherType, in.inv_ethertype());
    c.ethertype = fc.bounded<uint16_t>(conditionField("ethertype"), in.ethertype(), kMaxEthertype);
  }

  auto parse_prefix = [&](const std::string& text, std::string_view name, CondField f,
                          bool inverted, IpPrefix& out) {
    if (text.empty()) return;
    mark(f, inverted);
    if (auto p = fc.prefix(conditionField(name), text)) out = IpPrefix{p->network(), p->len};
  };
  parse_prefix(in.nw_src(), "nw_src", CondField::NwSrc, in.inv_nw_src(), c.nw_src);
  parse_prefix(in.nw_dst(), "nw_dst", CondField::NwDst, in.inv_nw_dst(), c.nw_dst);
  if (!in.ip_addr_group_src_id().empty()) {
    mark(CondField::IpAddrGroupSrc, in.inv_ip_addr_group_src());
    c.ip_addr_group_src.id =
        fc.requiredUuid(conditionField("ip_addr_group_src_id"), in.ip_addr_group_src_id());
  }
  if (!in.ip_addr_group_dst_id().empty()) {
    mark(CondField::IpAddrGroupDst, in.inv_ip_addr_group_dst());
    c.ip_addr_group_dst.id =
        fc.requiredUuid(conditionField("ip_addr_group_dst_id"), in.ip_addr_group_dst_id());
  }
  if (in.has_nw_proto()) {
    mark(CondField::NwProto, in.inv_nw_proto());
    c.nw_proto = fc.bounded<uint8_t>(conditionField("nw_proto"), in.nw_proto(), kMaxByte);
  }
  if (in.has_nw_tos()) {
    mark(CondField::NwTos, in.inv_nw_tos());
    c.nw_tos = fc.bounded<uint8_t>(conditionField("nw_tos"), in.nw_tos(), kMaxByte);
  }
  if (in.has_tp_src()) {
    mark(CondField::TpSrc, in.inv_tp_src());
    parseRange(in.tp_src(), "tp_src", c.tp_src_lo, c.tp_src_hi, fc);
  }
  if (in.has_tp_dst()) {
    mark(CondField::TpDst, in.inv_tp_dst());
    parseRange(in.tp_dst(), "tp_dst", c.tp_dst_lo, c.tp_dst_hi, fc);
  }
  if (in.has_icmp_type()) {
    mark(CondField::IcmpType, in.inv_icmp_type());
    c.icmp_type = fc.bounded<uint8_t>(conditionField("icmp_type"), in.icmp_type(), kMaxByte);
  }
  if (in.has_icmp_code()) {
    mark(CondField::IcmpCode, in.inv_icmp_code());
    c.icmp_code = fc.bounded<uint8_t>(conditionField("icmp_code"), in.icmp_code(), kMaxByte);
  }

  switch (in.fragment_policy()) {
    case v1::Condition::FRAGMENT_POLICY_UNSPECIFIED: {
      const uint32_t l4 = condBit(CondField::TpSrc) | condBit(CondField::TpDst) |
                          condBit(CondField::IcmpType) | condBit(CondField::IcmpCode);
      c.fragment_policy = (c.present & l4) != 0 ? FragmentPolicy::Header : FragmentPolicy::Any;
      break;
    }
    case v1::Condition::ANY: c.fragment_policy = FragmentPolicy::Any; break;
    case v1::Condition::HEADER: c.fragment_policy = FragmentPolicy::Header; break;
    case v1::Condition::NONHEADER: c.fragment_policy = FragmentPolicy::NonHeader; break;
    case v1::Condition::UNFRAGMENTED: c.fragment_policy = FragmentPolicy::Unfragmented; break;
    default:
      fc.fail(conditionField("fragment_policy"),
              "unknown fragment policy " + std::to_string(in.fragment_policy()));
      break;
  }
  switch (in.conntrack()) {
    case v1::Condition::CONNTRACK_UNSPECIFIED: c.conntrack = ConntrackMatch::None; break;
    case v1::Condition::FORWARD_FLOW:
      mark(CondField::Conntrack, in.inv_conntrack());
      c.conntrack = ConntrackMatch::ForwardFlow;
      break;
    case v1::Condition::RETURN_FLOW:
      mark(CondField::Conntrack, in.inv_conntrack());
      c.conntrack = ConntrackMatch::ReturnFlow;
      break;
    default:
      fc.fail(conditionField("conntrack"),
              "unknown conntrack match " + std::to_string(in.conntrack()));
      break;
  }
  return fc.ok();
}

void SnapshotBuilder::resolveRule(Rule& rule) {
  Condition& c = rule.condition;
  auto check_ports = [&](const std::vector<Uuid>& ids, std::string_view name) {
    for (size_t i = 0; i < ids.size(); ++i) {
      // Kept as ids: a port that appears later simply starts matching.
      resolve(s_.port_index_, ObjectKind::Port, ids[i], ObjectKind::Rule, rule.id,
              conditionField(indexedField(name, i)));
    }
  };
  check_ports(c.in_ports, "in_port_ids");
  check_ports(c.out_ports, "out_port_ids");
  c.in_port_group = resolve(s_.port_group_index_, ObjectKind::PortGroup, c.in_port_group.id,
                            ObjectKind::Rule, rule.id, conditionField("in_port_group_id"));
  c.out_port_group = resolve(s_.port_group_index_, ObjectKind::PortGroup, c.out_port_group.id,
                             ObjectKind::Rule, rule.id, conditionField("out_port_group_id"));
  c.ip_addr_group_src =
      resolve(s_.ip_addr_group_index_, ObjectKind::IpAddrGroup, c.ip_addr_group_src.id,
              ObjectKind::Rule, rule.id, conditionField("ip_addr_group_src_id"));
  c.ip_addr_group_dst =
      resolve(s_.ip_addr_group_index_, ObjectKind::IpAddrGroup, c.ip_addr_group_dst.id,
              ObjectKind::Rule, rule.id, conditionField("ip_addr_group_dst_id"));
  if (rule.action == RuleAction::Jump) {
    rule.jump_chain = resolve(s_.chain_index_, ObjectKind::Chain, rule.jump_chain.id,
                              ObjectKind::Rule, rule.id, "jump_chain_id");
  }
}

void SnapshotBuilder::compileRules() {
  for (const v1::Rule& in : in_.rules()) {
    FieldChecker fc(ObjectKind::Rule);
    CompiledRule cr;
    Rule& r = cr.rule;
    r.id = fc.id(in.id());
    cr.chain_id = fc.uuid("chain_id", in.chain_id());
    r.name = in.name();
    switch (in.action()) {
      case v1::Rule::ACCEPT: r.action = RuleAction::Accept; break;
      case v1::Rule::DROP: r.action = RuleAction::Drop; break;
      case v1::Rule::REJECT: r.action = RuleAction::Reject; break;
      case v1::Rule::RETURN: r.action = RuleAction::Return; break;
      case v1::Rule::JUMP:
        r.action = RuleAction::Jump;
        r.jump_chain.id = fc.requiredUuid("jump_chain_id", in.jump_chain_id());
        break;
      case v1::Rule::CONTINUE: r.action = RuleAction::Continue; break;
      case v1::Rule::ACTION_UNSPECIFIED: fc.fail("action", "required"); break;
      default: fc.fail("action", "unknown action " + std::to_string(in.action())); break;
    }
    parseCondition(in.condition(), r.condition, fc);
    if (!fc.finish(s_.problems_)) continue;
    if (!claimId(rule_index_, ObjectKind::Rule, r.id, rules_.size())) continue;
    resolveRule(r);
    rules_.push_back(std::move(cr));
  }
}

void SnapshotBuilder::fillChains() {
  for (size_t ci = 0; ci < s_.chains_.size(); ++ci) {
    Chain& chain = s_.chains_[ci];
    const std::vector<Uuid>& ids = chain_rule_ids_[ci];
    for (size_t k = 0; k < ids.size(); ++k) {
      Index ri = TopologySnapshot::find(rule_index_, ids[k]);
      if (ri == kNoIndex) {
        if (chain.missing_rule.isNil()) chain.missing_rule = ids[k];
        report(Problem::Kind::DanglingReference, ObjectKind::Chain, chain.id,
               indexedField("rule_ids", k),
               "dangling reference to rule " + ids[k].toString() + " (the chain is not ready)");
        continue;
      }
      CompiledRule& cr = rules_[ri];
      if (cr.chain_id != chain.id) {
        report(Problem::Kind::Inconsistent, ObjectKind::Rule, cr.rule.id, "chain_id",
               "rule is listed by chain " + chain.id.toString() + " but names " +
                   (cr.chain_id.isNil() ? std::string("no chain")
                                        : "chain " + cr.chain_id.toString()));
      }
      cr.listed = true;
      chain.rules.push_back(cr.rule);
    }
  }
  for (const CompiledRule& cr : rules_) {
    if (cr.listed) continue;
    report(Problem::Kind::Inconsistent, ObjectKind::Rule, cr.rule.id, "chain_id",
           "rule is listed by no chain; it is ignored");
  }
}

void SnapshotBuilder::detectJumpCycles() {
  const size_t n = s_.chains_.size();
  // Jump edges of each chain, in rule order, deduplicated.
  std::vector<std::vector<Index>> edges(n);
  for (size_t ci = 0; ci < n; ++ci) {
    for (const Rule& r : s_.chains_[ci].rules) {
      if (r.action != RuleAction::Jump || !r.jump_chain.isResolved()) continue;
      std::vector<Index>& e = edges[ci];
      if (std::find(e.begin(), e.end(), r.jump_chain.index) == e.end()) {
        e.push_back(r.jump_chain.index);
      }
    }
  }
  enum class Color : uint8_t { White, Gray, Black };
  std::vector<Color> color(n, Color::White);
  std::vector<bool> reported(n, false);
  struct Frame {
    Index chain;
    size_t next_edge;
  };
  std::vector<Frame> stack;
  // Iterative DFS from each chain in index order, so the result is deterministic and a long
  // jump path cannot exhaust the call stack.
  for (size_t root = 0; root < n; ++root) {
    if (color[root] != Color::White) continue;
    stack.push_back(Frame{static_cast<Index>(root), 0});
    color[root] = Color::Gray;
    while (!stack.empty()) {
      Frame& f = stack.back();
      if (f.next_edge == edges[f.chain].size()) {
        color[f.chain] = Color::Black;
        stack.pop_back();
        continue;
      }
      Index to = edges[f.chain][f.next_edge++];
      if (color[to] == Color::White) {
        color[to] = Color::Gray;
        stack.push_back(Frame{to, 0});
        continue;
      }
      if (color[to] != Color::Gray || reported[f.chain]) continue;
      // Back edge: the chains from `to` up the stack to f.chain form a cycle.
      reported[f.chain] = true;
      std::string path;
      bool in_cycle = false;
      for (const Frame& g : stack) {
        in_cycle = in_cycle || g.chain == to;
        if (!in_cycle) continue;
        path += s_.chains_[g.chain].id.toString();
        path += " -> ";
      }
      path += s_.chains_[to].id.toString();
      report(Problem::Kind::JumpCycle, ObjectKind::Chain, s_.chains_[f.chain].id, "rule_ids",
             "jump cycle " + path);
    }
  }
}

void SnapshotBuilder::markConnectionTracking() {
  // Direct uses first, then spread backwards along jumps until nothing changes (jump cycles
  // are harmless here: a flag only ever turns on).
  for (Chain& c : s_.chains_) {
    for (const Rule& r : c.rules) c.uses_conntrack |= r.condition.has(CondField::Conntrack);
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (Chain& c : s_.chains_) {
      if (c.uses_conntrack) continue;
      for (const Rule& r : c.rules) {
        if (r.action == RuleAction::Jump && r.jump_chain.isResolved() &&
            s_.chains_[r.jump_chain.index].uses_conntrack) {
          c.uses_conntrack = true;
          changed = true;
          break;
        }
      }
    }
  }
  auto tracks = [this](const Ref& in, const Ref& out) {
    return (in.isResolved() && s_.chains_[in.index].uses_conntrack) ||
           (out.isResolved() && s_.chains_[out.index].uses_conntrack);
  };
  for (Port& p : s_.ports_) p.tracks_connections = tracks(p.inbound_filter, p.outbound_filter);
  for (Bridge& b : s_.bridges_) {
    b.tracks_connections = tracks(b.inbound_filter, b.outbound_filter);
  }
  for (Router& r : s_.routers_) {
    r.tracks_connections = tracks(r.inbound_filter, r.outbound_filter);
  }
}

}  // namespace loom::model
