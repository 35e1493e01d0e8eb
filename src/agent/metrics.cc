#include "agent/metrics.h"

#include <cstdio>
#include <sstream>

namespace loom::agent {

void LatencyHistogram::observe(double us) {
  size_t i = 0;
  while (i < kBoundsUs.size() && us > kBoundsUs[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<uint64_t>(us * 1000.0), std::memory_order_relaxed);
}

std::string LatencyHistogram::render(const std::string& name, const std::string& help) const {
  std::ostringstream o;
  o << "# HELP " << name << " " << help << "\n# TYPE " << name << " histogram\n";
  uint64_t cum = 0;
  for (size_t i = 0; i < kBoundsUs.size(); ++i) {
    cum += buckets_[i].load(std::memory_order_relaxed);
    char le[32];
    std::snprintf(le, sizeof le, "%g", kBoundsUs[i] / 1e6);
    o << name << "_bucket{le=\"" << le << "\"} " << cum << "\n";
  }
  cum += buckets_[kBoundsUs.size()].load(std::memory_order_relaxed);
  o << name << "_bucket{le=\"+Inf\"} " << cum << "\n";
  o << name << "_sum " << static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9
    << "\n";
  o << name << "_count " << count_.load(std::memory_order_relaxed) << "\n";
  return o.str();
}

namespace {

void counter(std::ostringstream& o, const char* name, const char* help, uint64_t v) {
  o << "# HELP " << name << " " << help << "\n# TYPE " << name << " counter\n"
    << name << " " << v << "\n";
}
void gauge(std::ostringstream& o, const char* name, const char* help, double v) {
  o << "# HELP " << name << " " << help << "\n# TYPE " << name << " gauge\n"
    << name << " " << v << "\n";
}
uint64_t get(const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); }

}  // namespace

std::string renderMetrics(const AgentCounters& c, const datapath::DatapathCounters& dp,
                          uint64_t flows, uint32_t masks, uint64_t ports, int64_t revision) {
  std::ostringstream o;
  counter(o, "loom_agent_upcalls_total", "Upcall records handled by the agent.", get(c.upcalls));
  counter(o, "loom_agent_upcalls_unknown_port_total",
          "Upcalls from interfaces the agent does not serve (dropped).",
          get(c.upcalls_unknown_port));
  counter(o, "loom_agent_upcalls_truncated_total",
          "Upcalled frames longer than their record (not re-injected).", get(c.upcalls_truncated));
  counter(o, "loom_agent_upcalls_too_big_total", "Packets longer than their flow's path MTU.",
          get(c.upcalls_too_big));
  counter(o, "loom_agent_upcalls_worker_overflow_total",
          "Upcalls dropped because their worker's inbox was full.", get(c.upcalls_worker_overflow));
  counter(o, "loom_agent_flows_installed_total", "Flows installed in the fast path.",
          get(c.flows_installed));
  counter(o, "loom_agent_flows_updated_total", "Flows whose actions revalidation changed.",
          get(c.flows_updated));
  o << "# HELP loom_agent_flows_evicted_total Flows removed from the fast path, by reason.\n"
       "# TYPE loom_agent_flows_evicted_total counter\n"
    << "loom_agent_flows_evicted_total{reason=\"idle\"} " << get(c.flows_removed_idle) << "\n"
    << "loom_agent_flows_evicted_total{reason=\"revalidation\"} " << get(c.flows_removed_revalidate)
    << "\n";
  counter(o, "loom_agent_flows_adopted_total", "Flows found in the pinned table at start and kept.",
          get(c.flows_adopted));
  counter(o, "loom_agent_flow_install_errors_total", "Flow map updates that failed.",
          get(c.flow_install_errors));
  counter(o, "loom_agent_flows_not_installed_total",
          "Simulations whose result stays in userspace (not cacheable or not expressible).",
          get(c.flows_not_installed));
  counter(o, "loom_agent_masks_exhausted_total", "Flows not installed for lack of a mask slot.",
          get(c.masks_exhausted));
  counter(o, "loom_agent_revalidations_total", "Whole-table revalidation passes.",
          get(c.revalidations));
  counter(o, "loom_agent_packets_reinjected_total", "Upcalled packets sent on.",
          get(c.packets_reinjected));
  counter(o, "loom_agent_packets_generated_total", "ARP and ICMP packets the agent sent.",
          get(c.packets_generated));
  counter(o, "loom_agent_tx_errors_total", "Packets the agent failed to send.", get(c.tx_errors));
  counter(o, "loom_agent_parked_total", "Packets parked (not ready).", get(c.parked));
  counter(o, "loom_agent_parked_rerun_total", "Parked packets simulated again.",
          get(c.parked_rerun));
  counter(o, "loom_agent_parked_timeouts_total", "Parked packets dropped after the timeout.",
          get(c.parked_timeouts));
  counter(o, "loom_agent_parked_overflow_total",
          "Packets dropped because the waiting room was full.", get(c.parked_overflow));
  o << "# HELP loom_agent_sim_outcomes_total Simulation outcomes of upcalled packets.\n"
       "# TYPE loom_agent_sim_outcomes_total counter\n";
  for (size_t i = 0; i < c.outcomes.size(); ++i) {
    o << "loom_agent_sim_outcomes_total{outcome=\""
      << sim::outcomeName(static_cast<sim::Outcome>(i)) << "\"} " << get(c.outcomes[i]) << "\n";
  }
  o << "# HELP loom_drops_total Packets dropped, by reason: by fast-path flows (path=\"fast\") "
       "and by the simulation of upcalled packets (path=\"slow\").\n"
       "# TYPE loom_drops_total counter\n";
  for (size_t i = 1; i < static_cast<size_t>(sim::DropReason::Count); ++i) {
    const char* name = sim::dropReasonName(static_cast<sim::DropReason>(i));
    if (i < LOOM_DROP_REASONS) {
      o << "loom_drops_total{path=\"fast\",reason=\"" << name << "\"} " << dp.drops[i] << "\n";
    }
    if (i < c.sim_drops.size()) {
      o << "loom_drops_total{path=\"slow\",reason=\"" << name << "\"} " << get(c.sim_drops[i])
        << "\n";
    }
  }
  static const char* kDpNames[LOOM_CTR_COUNT] = {"rx_packets",
                                                 "flow_hits",
                                                 "flow_misses",
                                                 "mask_lookups",
                                                 "upcalls",
                                                 "upcall_ring_full",
                                                 "upcall_rate_limited",
                                                 "malformed",
                                                 "tx_tunnel",
                                                 "tx_local",
                                                 "tunnel_rx",
                                                 "tunnel_unknown_key",
                                                 "flow_drops",
                                                 "action_errors",
                                                 "too_big",
                                                 nullptr};
  o << "# HELP loom_datapath_packets_total Fast-path (BPF) packet counters by event.\n"
       "# TYPE loom_datapath_packets_total counter\n";
  for (size_t i = 0; i < LOOM_CTR_COUNT; ++i) {
    if (kDpNames[i] == nullptr) continue;
    o << "loom_datapath_packets_total{event=\"" << kDpNames[i] << "\"} " << dp.values[i] << "\n";
  }
  o << c.sim_latency.render("loom_agent_simulation_seconds",
                            "Upcall handling latency: parse, simulate, install.");
  gauge(o, "loom_agent_flows", "Flows installed now.", static_cast<double>(flows));
  gauge(o, "loom_agent_masks", "Active megaflow masks (lookups per miss).", masks);
  gauge(o, "loom_agent_ports", "Local ports served.", static_cast<double>(ports));
  gauge(o, "loom_agent_applied_revision", "Topology revision applied.",
        static_cast<double>(revision));
  return o.str();
}

}  // namespace loom::agent
