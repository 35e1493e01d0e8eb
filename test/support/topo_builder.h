#pragma once
// Test support: a fluent builder of loom.v1.Topology messages with deterministic ids, frame
// helpers, and a harness that runs frames through the simulation with in-memory state.
// Used by scenario tests, benchmarks and fuzz targets; never by production code.

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/time_source.h"
#include "base/uuid.h"
#include "loom/v1/topology.pb.h"
#include "model/snapshot.h"
#include "packet/addr.h"
#include "sim/simulator.h"
#include "state/in_memory_state.h"

namespace loom::testing {

packet::MacAddr mac(std::string_view text);  // Aborts on a typo: test input only.
packet::IpAddr ip(std::string_view text);

class TopoBuilder {
 public:
  Uuid host(const std::string& name);
  Uuid bridge(const std::string& name);
  Uuid router(const std::string& name);
  // An exterior bridge port for a workload. Empty mac/ip: not configured (learned instead).
  // A nil host binds it to a default host created on first use.
  Uuid vmPort(const Uuid& bridge, const std::string& name, const std::string& mac_text,
              const std::string& ip_text, const Uuid& host = Uuid());
  // A bridge port with no binding (link it, or bind it later).
  Uuid bridgePort(const Uuid& bridge, const std::string& name);
  // A router port with its MAC and address ("10.0.0.1/24"); not bound, not linked.
  Uuid routerPort(const Uuid& router, const std::string& name, const std::string& mac_text,
                  const std::string& cidr);
  void bind(const Uuid& port, const Uuid& host, const std::string& interface_name = "");
  void link(const Uuid& a, const Uuid& b);
  // A router port linked to a new bridge port: the router's leg on that bridge.
  Uuid attach(const Uuid& router, const Uuid& bridge, const std::string& name,
              const std::string& mac_text, const std::string& cidr);
  Uuid route(const Uuid& router, const std::string& dst, const Uuid& port,
             const std::string& gateway = "", uint32_t weight = 0, const std::string& src = "");
  Uuid specialRoute(const Uuid& router, const std::string& dst, v1::Route::NextHop type);
  Uuid chain(const std::string& name);
  // Appends a rule to the chain.
  Uuid rule(const Uuid& chain, v1::Rule::Action action,
            const std::function<void(v1::Condition&)>& condition = {}, const Uuid& jump_to = Uuid(),
            const std::string& name = "");
  Uuid portGroup(const std::string& name, std::initializer_list<Uuid> ports);
  Uuid ipAddrGroup(const std::string& name, std::initializer_list<std::string> addresses);

  // Mutable access to what was built, by id (aborts if absent).
  v1::Port& port(const Uuid& id);
  v1::Bridge& bridgeMsg(const Uuid& id);
  v1::Router& routerMsg(const Uuid& id);
  v1::Topology& topology() { return t_; }

  model::SnapshotPtr snapshot(uint64_t version = 1) const;

 private:
  Uuid nextId(uint16_t kind);
  uint64_t counter_ = 0;
  Uuid default_host_;
  v1::Topology t_;
};

// Frames.
std::vector<uint8_t> tcpFrame(std::string_view src_mac, std::string_view dst_mac,
                              std::string_view src_ip, std::string_view dst_ip, uint16_t sport,
                              uint16_t dport, uint8_t ttl = 64, uint16_t flags = 0x02);
std::vector<uint8_t> udpFrame(std::string_view src_mac, std::string_view dst_mac,
                              std::string_view src_ip, std::string_view dst_ip, uint16_t sport,
                              uint16_t dport, uint8_t ttl = 64);
std::vector<uint8_t> pingFrame(std::string_view src_mac, std::string_view dst_mac,
                               std::string_view src_ip, std::string_view dst_ip, uint16_t id = 7,
                               uint16_t seq = 1, uint8_t ttl = 64);
std::vector<uint8_t> arpRequest(std::string_view sha, std::string_view spa, std::string_view tpa);
std::vector<uint8_t> arpReply(std::string_view sha, std::string_view spa, std::string_view tha,
                              std::string_view tpa);

// Runs frames through the simulation, applying state writes like the agent will.
class SimHarness {
 public:
  SimHarness();
  TopoBuilder topo;
  state::InMemoryState state;
  ManualTimeSource clock;
  sim::Simulator simulator;
  model::SnapshotPtr snap;

  // Builds the snapshot; returns its problems as text (empty when clean).
  std::string build();
  // Simulates `frame` entering `port` (tracing on) and applies the writes.
  sim::SimResult send(const Uuid& port, std::span<const uint8_t> frame, bool apply = true);
  sim::SimResult sendMatch(const Uuid& port, const packet::FlowMatch& match, bool apply = true);
  // Ports a forward result leaves through.
  static std::vector<Uuid> egressPorts(const sim::SimResult& r);
  static std::string traceText(const sim::SimResult& r);
};

}  // namespace loom::testing
