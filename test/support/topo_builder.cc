#include "support/topo_builder.h"

#include <cstdio>
#include <cstdlib>

#include "packet/builder.h"
#include "packet/parser.h"

namespace loom::testing {
namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "test support: %s\n", what.c_str());
  std::abort();
}

template <typename Msg>
Msg& findById(google::protobuf::RepeatedPtrField<Msg>& list, const Uuid& id) {
  std::string s = id.toString();
  for (Msg& m : list) {
    if (m.id() == s) return m;
  }
  die("no object " + s);
}

}  // namespace

packet::MacAddr mac(std::string_view text) {
  auto m = packet::MacAddr::parse(text);
  if (!m) die("bad mac " + std::string(text));
  return *m;
}

packet::IpAddr ip(std::string_view text) {
  auto a = packet::IpAddr::parse(text);
  if (!a) die("bad ip " + std::string(text));
  return *a;
}

Uuid TopoBuilder::nextId(uint16_t kind) {
  // Readable ids: kind in the first group, a counter at the end.
  return Uuid((uint64_t{kind} << 48) | 0x4000, 0x8000000000000000ULL | ++counter_);
}

Uuid TopoBuilder::host(const std::string& name) {
  Uuid id = nextId(0x7000);
  auto* h = t_.add_hosts();
  h->set_id(id.toString());
  h->set_name(name);
  return id;
}

Uuid TopoBuilder::bridge(const std::string& name) {
  Uuid id = nextId(0xb000);
  auto* b = t_.add_bridges();
  b->set_id(id.toString());
  b->set_name(name);
  return id;
}

Uuid TopoBuilder::router(const std::string& name) {
  Uuid id = nextId(0xa000);
  auto* r = t_.add_routers();
  r->set_id(id.toString());
  r->set_name(name);
  return id;
}

Uuid TopoBuilder::vmPort(const Uuid& bridge_id, const std::string& name,
                         const std::string& mac_text, const std::string& ip_text,
                         const Uuid& host_id) {
  Uuid id = bridgePort(bridge_id, name);
  v1::Port& p = port(id);
  if (!mac_text.empty()) p.set_mac(mac_text);
  if (!ip_text.empty()) p.add_addresses(ip_text);
  if (host_id.isNil() && default_host_.isNil()) default_host_ = host("host-default");
  Uuid h = host_id.isNil() ? default_host_ : host_id;
  p.set_host_id(h.toString());
  p.set_interface_name(name);
  return id;
}

Uuid TopoBuilder::bridgePort(const Uuid& bridge_id, const std::string& name) {
  Uuid id = nextId(0xc000);
  auto* p = t_.add_ports();
  p->set_id(id.toString());
  p->set_name(name);
  p->set_bridge_id(bridge_id.toString());
  return id;
}

Uuid TopoBuilder::routerPort(const Uuid& router_id, const std::string& name,
                             const std::string& mac_text, const std::string& cidr) {
  Uuid id = nextId(0xd000);
  auto* p = t_.add_ports();
  p->set_id(id.toString());
  p->set_name(name);
  p->set_router_id(router_id.toString());
  p->set_mac(mac_text);
  if (!cidr.empty()) p->add_addresses(cidr);
  return id;
}

void TopoBuilder::bind(const Uuid& port_id, const Uuid& host_id,
                       const std::string& interface_name) {
  v1::Port& p = port(port_id);
  p.set_host_id(host_id.toString());
  p.set_interface_name(interface_name.empty() ? p.name() : interface_name);
}

void TopoBuilder::link(const Uuid& a, const Uuid& b) {
  port(a).set_peer_id(b.toString());
  port(b).set_peer_id(a.toString());
}

Uuid TopoBuilder::attach(const Uuid& router_id, const Uuid& bridge_id, const std::string& name,
                         const std::string& mac_text, const std::string& cidr) {
  Uuid rp = routerPort(router_id, name, mac_text, cidr);
  Uuid bp = bridgePort(bridge_id, name + "-peer");
  link(rp, bp);
  return rp;
}

Uuid TopoBuilder::route(const Uuid& router_id, const std::string& dst, const Uuid& port_id,
                        const std::string& gateway, uint32_t weight, const std::string& src) {
  Uuid id = nextId(0xe000);
  auto* r = t_.add_routes();
  r->set_id(id.toString());
  r->set_router_id(router_id.toString());
  r->set_dst_prefix(dst);
  if (!src.empty()) r->set_src_prefix(src);
  r->set_next_hop(v1::Route::PORT);
  r->set_next_hop_port_id(port_id.toString());
  if (!gateway.empty()) r->set_next_hop_gateway(gateway);
  r->set_weight(weight);
  return id;
}

Uuid TopoBuilder::specialRoute(const Uuid& router_id, const std::string& dst,
                               v1::Route::NextHop type) {
  Uuid id = nextId(0xe000);
  auto* r = t_.add_routes();
  r->set_id(id.toString());
  r->set_router_id(router_id.toString());
  r->set_dst_prefix(dst);
  r->set_next_hop(type);
  return id;
}

Uuid TopoBuilder::chain(const std::string& name) {
  Uuid id = nextId(0xf000);
  auto* c = t_.add_chains();
  c->set_id(id.toString());
  c->set_name(name);
  return id;
}

Uuid TopoBuilder::rule(const Uuid& chain_id, v1::Rule::Action action,
                       const std::function<void(v1::Condition&)>& condition, const Uuid& jump_to,
                       const std::string& name) {
  Uuid id = nextId(0xf100);
  auto* r = t_.add_rules();
  r->set_id(id.toString());
  r->set_chain_id(chain_id.toString());
  r->set_name(name);
  r->set_action(action);
  if (condition) condition(*r->mutable_condition());
  if (!jump_to.isNil()) r->set_jump_chain_id(jump_to.toString());
  findById(*t_.mutable_chains(), chain_id).add_rule_ids(id.toString());
  return id;
}

Uuid TopoBuilder::portGroup(const std::string& name, std::initializer_list<Uuid> ports) {
  Uuid id = nextId(0x9000);
  auto* g = t_.add_port_groups();
  g->set_id(id.toString());
  g->set_name(name);
  for (const Uuid& p : ports) port(p).add_port_group_ids(id.toString());
  return id;
}

Uuid TopoBuilder::ipAddrGroup(const std::string& name,
                              std::initializer_list<std::string> addresses) {
  Uuid id = nextId(0x9100);
  auto* g = t_.add_ip_addr_groups();
  g->set_id(id.toString());
  g->set_name(name);
  for (const std::string& a : addresses) g->add_addresses(a);
  return id;
}

v1::Port& TopoBuilder::port(const Uuid& id) { return findById(*t_.mutable_ports(), id); }
v1::Bridge& TopoBuilder::bridgeMsg(const Uuid& id) { return findById(*t_.mutable_bridges(), id); }
v1::Router& TopoBuilder::routerMsg(const Uuid& id) { return findById(*t_.mutable_routers(), id); }

model::SnapshotPtr TopoBuilder::snapshot(uint64_t version) const {
  return model::buildSnapshot(t_, version);
}

std::vector<uint8_t> tcpFrame(std::string_view src_mac, std::string_view dst_mac,
                              std::string_view src_ip, std::string_view dst_ip, uint16_t sport,
                              uint16_t dport, uint8_t ttl, uint16_t flags) {
  return packet::PacketBuilder()
      .eth(mac(src_mac), mac(dst_mac))
      .ipv4(ip(src_ip), ip(dst_ip))
      .ttl(ttl)
      .tcp(sport, dport)
      .tcpFlags(flags)
      .build();
}

std::vector<uint8_t> udpFrame(std::string_view src_mac, std::string_view dst_mac,
                              std::string_view src_ip, std::string_view dst_ip, uint16_t sport,
                              uint16_t dport, uint8_t ttl) {
  return packet::PacketBuilder()
      .eth(mac(src_mac), mac(dst_mac))
      .ipv4(ip(src_ip), ip(dst_ip))
      .ttl(ttl)
      .udp(sport, dport)
      .payload(8)
      .build();
}

std::vector<uint8_t> pingFrame(std::string_view src_mac, std::string_view dst_mac,
                               std::string_view src_ip, std::string_view dst_ip, uint16_t id,
                               uint16_t seq, uint8_t ttl) {
  return packet::PacketBuilder()
      .eth(mac(src_mac), mac(dst_mac))
      .ipv4(ip(src_ip), ip(dst_ip))
      .ttl(ttl)
      .icmpEcho(true, id, seq)
      .payload(16)
      .build();
}

std::vector<uint8_t> arpRequest(std::string_view sha, std::string_view spa, std::string_view tpa) {
  return packet::PacketBuilder()
      .eth(mac(sha), packet::MacAddr::broadcast())
      .arp(packet::kArpOpRequest, mac(sha), ip(spa), packet::MacAddr(), ip(tpa))
      .build();
}

std::vector<uint8_t> arpReply(std::string_view sha, std::string_view spa, std::string_view tha,
                              std::string_view tpa) {
  return packet::PacketBuilder()
      .eth(mac(sha), mac(tha))
      .arp(packet::kArpOpReply, mac(sha), ip(spa), mac(tha), ip(tpa))
      .build();
}

SimHarness::SimHarness() : simulator(sim::SimConfig{&clock}) {}

std::string SimHarness::build() {
  snap = topo.snapshot();
  std::string problems;
  for (const model::Problem& p : snap->problems()) problems += p.toString() + "\n";
  return problems;
}

sim::SimResult SimHarness::send(const Uuid& port, std::span<const uint8_t> frame, bool apply) {
  sim::SimResult r;
  simulator.simulateFrame(frame, port, /*trace=*/true, *snap, state.view(), r);
  if (apply) state.apply(r.writes, clock.now());
  return r;
}

sim::SimResult SimHarness::sendMatch(const Uuid& port, const packet::FlowMatch& match, bool apply) {
  sim::SimInput in;
  in.match = match;
  in.port = port;
  in.trace = true;
  sim::SimResult r = simulator.simulate(in, *snap, state.view());
  if (apply) state.apply(r.writes, clock.now());
  return r;
}

std::vector<Uuid> SimHarness::egressPorts(const sim::SimResult& r) {
  std::vector<Uuid> out;
  for (const sim::Egress& e : r.egress) out.push_back(e.port);
  return out;
}

std::string SimHarness::traceText(const sim::SimResult& r) {
  std::string s;
  for (const sim::TraceStep& t : r.trace) s += t.device + ": " + t.decision + "\n";
  return s + r.toString();
}

}  // namespace loom::testing
