#pragma once
// The agent's own counters and the simulation latency histogram, rendered with the fast path's
// BPF counters as Prometheus text (served on --metrics-listen and by `loom-agent ctl counters`).
// Counters are relaxed atomics: written by the packet thread, read by the metrics thread.

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "datapath/datapath.h"
#include "sim/result.h"

namespace loom::agent {

class LatencyHistogram {
 public:
  static constexpr std::array<double, 12> kBoundsUs = {5,   10,   25,   50,   100,   250,
                                                       500, 1000, 2500, 5000, 10000, 100000};
  void observe(double us);
  // Prometheus histogram lines for metric `name` (seconds).
  std::string render(const std::string& name, const std::string& help) const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::array<std::atomic<uint64_t>, kBoundsUs.size() + 1> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_ns_{0};
};

struct AgentCounters {
  using C = std::atomic<uint64_t>;
  C upcalls{0};                  // Records read from the ring.
  C upcalls_unknown_port{0};     // From an interface the agent does not serve: dropped.
  C upcalls_truncated{0};        // Frame longer than the record: handled, not re-injected.
  C upcalls_too_big{0};          // Longer than the flow's path MTU.
  C upcalls_worker_overflow{0};  // Dropped: the owning worker's inbox was full.
  C flows_installed{0};
  C flows_updated{0};  // Revalidation changed the actions.
  C flows_removed_idle{0};
  C flows_removed_revalidate{0};  // No longer installable, or the mask changed.
  C flows_adopted{0};             // Found in the pinned table at start.
  C flow_install_errors{0};
  C flows_not_installed{0};  // Result not cacheable or not expressible in the fast path.
  C masks_exhausted{0};      // No free mask slot: the flow stays in userspace.
  C revalidations{0};
  C packets_reinjected{0};  // Upcalled packets sent on after simulation.
  C packets_generated{0};   // ARP replies/requests, ICMP errors sent.
  C tx_errors{0};
  C parked{0};
  C parked_rerun{0};
  C parked_timeouts{0};
  C parked_overflow{0};
  std::array<C, 64> sim_drops{};  // By sim::DropReason (upcalled packets the simulation dropped).
  std::array<C, 4> outcomes{};    // By sim::Outcome.
  LatencyHistogram sim_latency;   // Parse + simulation + flow install, per upcall.
};

// Prometheus text exposition of the agent counters, the BPF counters and `extra` gauges.
std::string renderMetrics(const AgentCounters& c, const datapath::DatapathCounters& dp,
                          uint64_t flows, uint32_t masks, uint64_t ports, int64_t revision);

}  // namespace loom::agent
