#include "trace/trace_runner.h"

#include "model/json.h"
#include "model/snapshot.h"
#include "packet/parser.h"
#include "sim/simulator.h"
#include "state/in_memory_state.h"
#include "trace/packet_spec.h"

namespace loom::trace {
namespace {

class Names {
 public:
  explicit Names(const model::TopologySnapshot& s) : s_(s) {}

  std::string port(const Uuid& id) const {
    model::Index i = s_.findPort(id);
    if (i == model::kNoIndex || s_.port(i).name.empty()) return id.toString();
    return s_.port(i).name;
  }
  std::string host(const Uuid& id) const {
    for (const model::Host& h : s_.hosts()) {
      if (h.id == id && !h.name.empty()) return h.name;
    }
    return id.toString();
  }
  std::string device(const Uuid& id) const {
    if (model::Index i = s_.findPort(id); i != model::kNoIndex) {
      return "port " + s_.port(i).name;
    }
    if (model::Index i = s_.findBridge(id); i != model::kNoIndex) {
      return "bridge " + s_.bridge(i).name;
    }
    if (model::Index i = s_.findRouter(id); i != model::kNoIndex) {
      return "router " + s_.router(i).name;
    }
    if (model::Index i = s_.findChain(id); i != model::kNoIndex) {
      return "chain " + s_.chain(i).name;
    }
    for (const model::PortGroup& g : s_.portGroups()) {
      if (g.id == id) return "port group " + g.name;
    }
    for (const model::IpAddrGroup& g : s_.ipAddrGroups()) {
      if (g.id == id) return "address group " + g.name;
    }
    return id.toString();
  }
  std::string tag(const sim::FlowTag& t) const {
    if (t.kind == sim::TagKind::Device) return device(t.id);
    std::string s = t.toString();
    // Replace the short id with the device's name.
    std::string short_id = t.id.shortString();
    if (size_t p = s.find(short_id); p != std::string::npos) {
      s.replace(p, short_id.size(), device(t.id));
    }
    return s;
  }

 private:
  const model::TopologySnapshot& s_;
};

StatusOr<model::Index> resolvePort(const model::TopologySnapshot& s, const std::string& p) {
  if (auto id = Uuid::parse(p)) {
    model::Index i = s.findPort(*id);
    if (i != model::kNoIndex) return i;
  }
  model::Index i = s.findPortByName(p);
  if (i == model::kNoIndex) return notFound("no port named or with id '" + p + "'");
  return i;
}

Status seedArp(const model::TopologySnapshot& s, const std::string& seed,
               state::InMemoryState& st) {
  size_t c1 = seed.find(',');
  size_t c2 = c1 == std::string::npos ? c1 : seed.find(',', c1 + 1);
  if (c2 == std::string::npos) {
    return invalidArgument("arp seed '" + seed + "': expected <router>,<ip>,<mac>");
  }
  std::string router = seed.substr(0, c1);
  auto ip = packet::IpAddr::parse(seed.substr(c1 + 1, c2 - c1 - 1));
  auto mac = packet::MacAddr::parse(seed.substr(c2 + 1));
  if (!ip || !mac) return invalidArgument("arp seed '" + seed + "': bad ip or mac");
  Uuid rid;
  if (auto id = Uuid::parse(router)) rid = *id;
  for (const model::Router& r : s.routers()) {
    if (r.name == router) rid = r.id;
  }
  if (s.findRouter(rid) == model::kNoIndex) {
    return notFound("arp seed '" + seed + "': no router '" + router + "'");
  }
  // Seeded entries never go stale during a trace.
  MonoTime forever = MonoTime::max();
  st.arp.set(rid, *ip, state::ArpEntry{*mac, forever, forever});
  return okStatus();
}

std::string describeFrame(const std::vector<uint8_t>& frame) {
  packet::ParsedPacket p = packet::parsePacket(frame);
  if (!p.ok()) return std::string("unparsable: ") + packet::parseErrorName(p.error);
  return packet::FlowMatch(p.fields).toString();
}

void printResult(const sim::SimResult& r, const Names& names, const std::string& indent,
                 std::ostream& out) {
  for (const sim::TraceStep& t : r.trace) {
    out << indent << "  " << t.device << ": " << t.decision << "\n";
  }
  out << indent << "outcome: " << sim::outcomeName(r.outcome);
  if (r.outcome == sim::Outcome::Drop) {
    out << " (" << sim::dropReasonName(r.drop_reason);
    if (r.drop_reason == sim::DropReason::MalformedPacket) {
      out << ": " << packet::parseErrorName(r.parse_error);
    }
    out << ")";
  }
  if (r.outcome == sim::Outcome::NotReady) {
    const sim::NotReadyCause& c = r.not_ready;
    if (c.kind == sim::NotReadyCause::Kind::ArpPending) {
      out << " (waiting for ARP of " << c.ip.toString() << " on " << names.device(c.router) << ")";
    } else {
      out << " (" << c.toString() << ")";
    }
  }
  out << "\n";
  for (const sim::Egress& e : r.egress) {
    out << indent << "egress: port " << names.port(e.port) << " on host " << names.host(e.host)
        << "\n"
        << indent << "  actions:";
    for (const packet::SetField& a : e.actions) out << " " << a.toString();
    out << " output(" << names.port(e.port) << ")\n";
  }
  if (r.outcome != sim::Outcome::NotReady) {
    out << indent << "megaflow: in_port";
    std::string m = packet::fieldMaskToString(r.mask);
    if (!m.empty()) out << "," << m;
    out << (r.userspace_only ? " (userspace only)" : "")
        << (r.cacheable ? "" : " (not cached: answers this packet)") << "\n";
  }
  out << indent << "tags:";
  for (const sim::FlowTag& t : r.tags) out << " [" << names.tag(t) << "]";
  out << "\n";
  for (const state::StateWrite& w : r.writes) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          out << indent << "state: ";
          if constexpr (std::is_same_v<T, state::MacLearn>) {
            out << "learn " << v.mac.toString() << " on " << names.port(v.port);
            if (!v.old_port.isNil()) out << " (moved from " << names.port(v.old_port) << ")";
          } else if constexpr (std::is_same_v<T, state::IpMacLearn>) {
            out << "learn " << v.ip.toString() << " is-at " << v.mac.toString() << " on "
                << names.device(v.bridge);
          } else if constexpr (std::is_same_v<T, state::ArpLearn>) {
            out << "arp " << v.ip.toString() << " is-at " << v.mac.toString() << " on "
                << names.device(v.router);
          } else {
            out << "conntrack "
                << (v.direction == state::CtDirection::Forward ? "forward " : "return ")
                << v.key.src.toString() << ":" << v.key.src_port << " -> " << v.key.dst.toString()
                << ":" << v.key.dst_port << " proto " << int{v.key.proto} << " in "
                << names.device(v.key.zone);
          }
          out << "\n";
        },
        w);
  }
  for (const sim::GeneratedPacket& g : r.generated) {
    out << indent << "generated " << g.what << " out of port " << names.port(g.port) << ": "
        << describeFrame(g.frame) << "\n";
  }
}

Status runOn(const model::TopologySnapshot& snap, const std::string& what,
             const TraceOptions& options, std::ostream& out) {
  Names names(snap);
  out << "topology " << what << ": " << snap.bridges().size() << " bridges, "
      << snap.routers().size() << " routers, " << snap.ports().size() << " ports, "
      << snap.chains().size() << " chains\n";
  for (const model::Problem& p : snap.problems()) out << "problem: " << p.toString() << "\n";

  state::InMemoryState st;
  ManualTimeSource clock;
  sim::Simulator simulator(sim::SimConfig{&clock});
  for (size_t i = 0; i < options.arp_seeds.size(); ++i) {
    Status s = seedArp(snap, options.arp_seeds[i], st);
    if (!s.ok()) return s.withField("arp_seeds[" + std::to_string(i) + "]");
  }

  int n = 0;
  for (const TraceRequest& req : options.packets) {
    std::string field = "packets[" + std::to_string(n) + "]";
    ++n;
    auto resolved = resolvePort(snap, req.port);
    if (!resolved.ok()) return resolved.status().withField(field + ".port");
    model::Index port = *resolved;
    auto frame = buildPacket(req.spec, snap, port);
    if (!frame.ok()) {
      return frame.status().withContext("packet " + std::to_string(n)).withField(field + ".spec");
    }
    out << "\n=== packet " << n << ": " << req.spec << " (on port " << snap.port(port).name
        << ")\n";
    out << "flow: " << describeFrame(*frame) << "\n";
    sim::SimResult r;
    simulator.simulateFrame(*frame, snap.port(port).id, /*trace=*/true, snap, st.view(), r);
    printResult(r, names, "", out);
    st.apply(r.writes, clock.now());

    if (!options.follow_generated) continue;
    for (const sim::GeneratedPacket& g : r.generated) {
      model::Index via = snap.findPort(g.port);
      if (via == model::kNoIndex || !snap.port(via).isInterior()) continue;
      packet::ParsedPacket p = packet::parsePacket(g.frame);
      if (!p.ok()) continue;
      out << "  --- following " << g.what << " out of port " << names.port(g.port) << "\n";
      sim::SimInput in;
      in.match = packet::flowMatchOf(p);
      in.frame = g.frame;
      in.port = g.port;
      in.start = sim::SimInput::Start::PortEgress;
      in.trace = true;
      sim::SimResult gr;
      simulator.simulate(in, snap, st.view(), gr);
      printResult(gr, names, "  ", out);
      st.apply(gr.writes, clock.now());
    }
  }
  return okStatus();
}

}  // namespace

Status runTrace(const TraceOptions& options, std::ostream& out) {
  ASSIGN_OR_RETURN(v1::Topology topology, model::loadTopologyFile(options.topology_path));
  model::SnapshotPtr snap = model::buildSnapshot(topology, 1);
  return runOn(*snap, options.topology_path, options, out);
}

Status runTrace(const model::SnapshotPtr& snapshot, const TraceOptions& options,
                std::ostream& out) {
  if (snapshot == nullptr) return failedPrecondition("no topology snapshot");
  return runOn(*snapshot, "revision " + std::to_string(snapshot->version()), options, out);
}

}  // namespace loom::trace
