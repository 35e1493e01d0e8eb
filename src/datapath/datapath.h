#pragma once
// Datapath: the host's kernel fast path as the agent sees it. One implementation today,
// BpfDatapath (bpf_datapath.h: tcx/clsact programs, pinned BPF maps, a ring buffer for misses);
// tests use a fake. Layouts of keys, values and records are the BPF ABI (bpf/loom_dp_abi.h).
//
// Threading: installFlow/removeFlow/readFlow/dumpFlows/counters may be called from any thread
// (BPF map syscalls are atomic per element). pollUpcalls is called by one thread at a time.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "datapath/bpf/loom_dp_abi.h"

namespace loom::datapath {

using FlowKey = loom_flow_key;
using FlowValue = loom_flow_value;
using MaskKey = loom_mask;

// One upcall record, pointing into the ring (valid only during the callback; the ring's pages
// are read-only: copy before changing bytes).
struct Upcall {
  const loom_upcall* header = nullptr;
  std::span<const uint8_t> data;  // header->cap_len bytes.
};

struct DatapathCounters {
  uint64_t values[LOOM_CTR_COUNT] = {};    // Summed over CPUs, indexed by loom_counter.
  uint64_t drops[LOOM_DROP_REASONS] = {};  // Summed over CPUs, indexed by sim::DropReason.
};

class Datapath {
 public:
  virtual ~Datapath() = default;

  // Global settings (number of masks is managed through setMask/setMaskCount).
  virtual Status setConfig(const loom_config& config) = 0;
  virtual StatusOr<loom_config> config() const = 0;

  // Masks: slot i of the mask array (i < LOOM_MAX_MASKS).
  virtual Status setMask(uint32_t slot, const MaskKey& mask) = 0;
  virtual StatusOr<MaskKey> mask(uint32_t slot) const = 0;

  // Attaches the VM-side program to ingress of `ifindex` (the host side of a VM veth) and records
  // the port (tunnel key) in loom_ports / loom_tunnel_ports. Idempotent: attaching an interface
  // that already has our program (e.g. after an agent restart, through its pinned link) keeps
  // it. tcx first, clsact as a fallback.
  virtual Status attachPort(const std::string& ifname, uint32_t ifindex, uint32_t tunnel_key) = 0;
  virtual Status detachPort(const std::string& ifname, uint32_t ifindex, uint32_t tunnel_key) = 0;
  // Attaches the tunnel program to ingress of the vxlan device.
  virtual Status attachTunnel(const std::string& ifname, uint32_t ifindex) = 0;
  // Ports recorded in loom_ports (after a restart: what the previous agent left).
  virtual std::vector<loom_port> ports() const = 0;

  // Flows: the key must already be masked, with mask_id set.
  virtual Status installFlow(const FlowKey& key, const FlowValue& value) = 0;
  virtual Status removeFlow(const FlowKey& key) = 0;
  virtual StatusOr<FlowValue> readFlow(const FlowKey& key) const = 0;
  // Calls fn for every installed flow (a snapshot; concurrent changes may or may not show).
  virtual void dumpFlows(const std::function<void(const FlowKey&, const FlowValue&)>& fn) const = 0;

  virtual DatapathCounters counters() const = 0;

  // Waits up to timeout_ms for upcalls, then hands every available record to fn (in ring order,
  // at most max_records). Returns the number handled, or an error.
  virtual StatusOr<int> pollUpcalls(int timeout_ms, int max_records,
                                    const std::function<void(const Upcall&)>& fn) = 0;
};

}  // namespace loom::datapath
