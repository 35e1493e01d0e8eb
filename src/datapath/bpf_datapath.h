#pragma once
// BpfDatapath: the Datapath on the kernel's eBPF fast path (bpf/loom_dp.bpf.c, embedded in this
// library). It loads the programs, pins every map and every tcx link under one bpffs directory
// (pin_dir) so that a restarted agent finds the flows and the attachments the previous one left,
// and reads misses from the loom_upcalls ring buffer.
//
// Layout of pin_dir:
//   <map name>             the maps of bpf/loom_dp_abi.h (reused when compatible; an
//                          incompatible pin, e.g. after an ABI change, is an error naming it)
//   links/port-<ifindex>   tcx link of loom_vm_ingress on a VM veth
//   links/tunnel-<ifindex> tcx link of loom_tunnel_ingress on the vxlan device
// clsact attachments (the fallback when tcx is missing) live in the qdisc, not in pin_dir.
//
// Programs detach when their link's last reference goes: the pin is that reference, so
// removeAllPins() also detaches tcx programs.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "base/status.h"
#include "datapath/datapath.h"

struct bpf_object;
struct ring_buffer;

namespace loom::datapath {

struct BpfDatapathOptions {
  // Must be on a bpffs (mount -t bpf bpf DIR); created if missing.
  std::string pin_dir = "/sys/fs/bpf/loom";
  // Attach through clsact even when tcx works (tests the fallback).
  bool force_clsact = false;
  // When a pinned link is kept, switch it to this process's program (an upgraded agent runs its
  // own code); otherwise the old program keeps running.
  bool update_links = true;
};

enum class BpfProgram { kVmIngress, kTunnelIngress };

class BpfDatapath final : public Datapath {
 public:
  static StatusOr<std::unique_ptr<BpfDatapath>> open(BpfDatapathOptions options);
  ~BpfDatapath() override;
  BpfDatapath(const BpfDatapath&) = delete;
  BpfDatapath& operator=(const BpfDatapath&) = delete;

  Status setConfig(const loom_config& config) override;
  StatusOr<loom_config> config() const override;
  Status setMask(uint32_t slot, const MaskKey& mask) override;
  StatusOr<MaskKey> mask(uint32_t slot) const override;

  Status attachPort(const std::string& ifname, uint32_t ifindex, uint32_t tunnel_key) override;
  // Tolerates an interface that is already gone: the records and the pin are still removed.
  Status detachPort(const std::string& ifname, uint32_t ifindex, uint32_t tunnel_key) override;
  Status attachTunnel(const std::string& ifname, uint32_t ifindex) override;
  Status detachTunnel(const std::string& ifname, uint32_t ifindex);
  std::vector<loom_port> ports() const override;

  Status installFlow(const FlowKey& key, const FlowValue& value) override;
  Status removeFlow(const FlowKey& key) override;
  StatusOr<FlowValue> readFlow(const FlowKey& key) const override;
  void dumpFlows(const std::function<void(const FlowKey&, const FlowValue&)>& fn) const override;

  DatapathCounters counters() const override;

  // Upcall::header and Upcall::data point into the ring's consumer pages, which the kernel maps
  // READ-ONLY: writing through them (e.g. fixing a checksum in place) kills the process with
  // SIGSEGV. Copy first. They are valid only during the callback. Only one process should
  // consume the ring at a time (a second one on the same pin_dir would steal records).
  StatusOr<int> pollUpcalls(int timeout_ms, int max_records,
                            const std::function<void(const Upcall&)>& fn) override;

  // Removes every pin under pin_dir (maps and links; tcx programs detach, maps and their flows
  // go once no process holds them) and pin_dir itself when it is left empty. For tests and
  // teardown; this object stays usable until destroyed, through its own fds.
  Status removeAllPins();

  // For tests (BPF_PROG_TEST_RUN) and tools.
  int prog_fd(BpfProgram which) const;
  int map_fd(std::string_view name) const;  // -1 for an unknown name.
  const std::string& pin_dir() const { return options_.pin_dir; }

 private:
  explicit BpfDatapath(BpfDatapathOptions options) : options_(std::move(options)) {}
  Status load();
  Status attachProgram(int prog_fd, uint32_t prog_id, uint32_t ifindex, const std::string& pin);
  Status detachProgram(uint32_t ifindex, const std::string& pin);
  std::string linkPin(const char* kind, uint32_t ifindex) const;
  static int onRingRecord(void* ctx, void* data, size_t size);

  BpfDatapathOptions options_;
  bpf_object* obj_ = nullptr;
  int vm_prog_fd_ = -1;
  int tunnel_prog_fd_ = -1;
  uint32_t vm_prog_id_ = 0;
  uint32_t tunnel_prog_id_ = 0;
  int flows_fd_ = -1;
  int masks_fd_ = -1;
  int config_fd_ = -1;
  int ports_fd_ = -1;
  int tunnel_ports_fd_ = -1;
  int upcall_state_fd_ = -1;
  int upcalls_fd_ = -1;
  int counters_fd_ = -1;
  int drops_fd_ = -1;

  // pollUpcalls state (one polling thread at a time, see datapath.h).
  ring_buffer* ring_ = nullptr;
  const std::function<void(const Upcall&)>* poll_fn_ = nullptr;
  int poll_max_ = 0;
  int poll_count_ = 0;
};

}  // namespace loom::datapath
