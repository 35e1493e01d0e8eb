#pragma once
// PacketProcessor: the agent's packet thread. It reads upcalls from the fast path's ring,
// simulates each packet against the current AgentView (sim/simulator.h), installs the result
// as a megaflow, sends the packet on, sends what the devices generated (ARP, ICMP), parks
// packets that are not ready, and keeps the installed flows true: every new view or learned
// state change re-simulates every flow from the packet fields it was made from (OVS's
// revalidators, with the simulation as the translation), and idle flows are removed.
//
// One thread owns the flow table, the learned state and the waiting room; the admin socket
// reads the flow table under a mutex that the packet thread takes only to change it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/config.h"
#include "agent/mask_slots.h"
#include "agent/metrics.h"
#include "agent/view.h"
#include "datapath/datapath.h"
#include "datapath/mask_table.h"
#include "datapath/packet_io.h"
#include "packet/flow_match.h"
#include "sim/simulator.h"
#include "state/in_memory_state.h"

namespace loom::agent {

// An installed flow as the agent remembers it.
struct InstalledFlow {
  datapath::FlowKey key;      // Masked, with mask_id: the BPF map key.
  packet::FlowFields fields;  // The packet it was made from (re-simulated on revalidation).
  Uuid in_port;
  uint32_t ifindex = 0;
  packet::FieldMask mask = 0;
  datapath::FlowValue value{};  // As installed (counters not tracked here).
  std::chrono::steady_clock::time_point installed;
  bool adopted = false;  // Found in the pinned table at start.
};

class PacketProcessor {
 public:
  PacketProcessor(datapath::Datapath& dp, datapath::PacketTx& tx, MaskSlots& masks,
                  AgentCounters& counters, const AgentConfig& config);

  // Worker mode (WorkerPool, several packet threads): upcalls and other workers' state writes
  // arrive as items instead of being polled from the ring.
  struct Item {
    bool is_state = false;
    loom_upcall header{};
    std::vector<uint8_t> frame;
    std::vector<state::StateWrite> writes;
  };
  void post(std::vector<Item> batch);
  void runInbox(const std::atomic<bool>& stop);
  // Called with every batch of state writes this processor applies for its own packets, so that
  // the other workers apply them too (their flows may depend on them).
  void setBroadcast(std::function<void(const std::vector<state::StateWrite>&)> broadcast) {
    broadcast_ = std::move(broadcast);
  }
  // Called (on the packet thread) for every MAC this processor's bridges learn on a port of this
  // host, to be published for the other hosts (from another thread: publishing is an RPC).
  void setMacLearned(std::function<void(const state::MacLearn&)> fn) {
    mac_learned_ = std::move(fn);
  }

  // Any thread: the newest view. The packet thread picks it up, revalidates and re-runs parked
  // packets.
  void publishView(ViewPtr view);
  // Before run(): takes over the flows and masks a previous agent left in the pinned maps (those
  // whose ingress interface `mine` accepts, when given).
  void adoptPinnedFlows(const std::function<bool(uint32_t ifindex)>& mine = {});
  // The packet thread's loop, until `stop`: step() again and again.
  void run(const std::atomic<bool>& stop);
  // One round: pick up a new view (revalidate, re-run parked packets), handle the upcalls that
  // arrive within poll_ms, revalidate after state changes, expire idle flows once a second.
  void step(int poll_ms);

  // Removes flows unused for config.flow_idle_ms (step() calls it once a second).
  void expireIdleFlows();

  // Admin socket (any thread).
  std::string flowsText() const;
  size_t flowCount() const;
  uint32_t maskCount() const;
  size_t parkedCount() const { return parked_count_.load(std::memory_order_relaxed); }

 private:
  struct Parked {
    uint32_t ifindex = 0;
    std::vector<uint8_t> frame;
    std::chrono::steady_clock::time_point deadline;
  };
  struct KeyHash {
    size_t operator()(const datapath::FlowKey& k) const;
  };
  struct KeyEq {
    bool operator()(const datapath::FlowKey& a, const datapath::FlowKey& b) const;
  };

  void handleUpcall(const datapath::Upcall& upcall);
  void handleRecord(const loom_upcall& header, std::vector<uint8_t>& frame);
  void pickUpView();
  void timers();
  void applyRemoteWrites(const std::vector<state::StateWrite>& writes);
  // Simulates `frame` entering the port behind `ifindex`; installs (may_install), sends the
  // packet on (can_send), sends generated packets, parks a not-ready packet.
  void processFrame(uint32_t ifindex, std::vector<uint8_t>& frame, uint32_t l3_len, bool can_send,
                    bool may_install, std::chrono::steady_clock::time_point park_deadline);
  // Builds the flow value for a result; false (why set) when the fast path cannot carry it.
  bool buildValue(const sim::SimResult& r, const AgentView& v, datapath::FlowValue& value,
                  std::string& why) const;
  void install(uint32_t ifindex, const Uuid& in_port, const packet::FlowFields& fields,
               const sim::SimResult& r);
  void removeFlowLocked(
      std::unordered_map<datapath::FlowKey, InstalledFlow, KeyHash, KeyEq>::iterator it);
  void transmit(const std::vector<sim::Egress>& egress, const std::vector<uint8_t>& frame);
  bool deliver(const Uuid& port, const std::vector<uint8_t>& frame);
  void sendGenerated(const std::vector<sim::GeneratedPacket>& generated, int depth);
  void applyWrites(const std::vector<state::StateWrite>& writes);
  void revalidate();
  void rerunParked(bool expire_only);

  datapath::Datapath& dp_;
  datapath::PacketTx& tx_;
  AgentCounters& counters_;
  const AgentConfig& config_;
  SystemTimeSource clock_;
  sim::Simulator simulator_;
  state::InMemoryState state_;

  std::mutex view_mu_;  // Also guards inbox_.
  std::condition_variable wake_;
  ViewPtr pending_view_;
  std::vector<Item> inbox_;
  std::function<void(const std::vector<state::StateWrite>&)> broadcast_;
  std::function<void(const state::MacLearn&)> mac_learned_;

  // The MAC table the simulation reads: other hosts' learned MACs (from the view), then this
  // host's own learning.
  class CombinedMacs final : public state::MacTableView {
   public:
    explicit CombinedMacs(const PacketProcessor& p) : p_(p) {}
    std::optional<Uuid> lookup(const Uuid& bridge, uint16_t vlan,
                               packet::MacAddr mac) const override;

   private:
    const PacketProcessor& p_;
  };
  state::StateView stateView() const {
    state::StateView v = state_.view();
    v.macs = &combined_macs_;
    return v;
  }
  ViewPtr view_;  // Packet thread only.

  mutable std::mutex flows_mu_;  // Guards flows_ against the admin thread.
  std::unordered_map<datapath::FlowKey, InstalledFlow, KeyHash, KeyEq> flows_;
  MaskSlots& masks_;
  uint64_t next_cookie_ = 1;

  std::deque<Parked> parked_;
  std::atomic<size_t> parked_count_{0};
  bool state_changed_ = false;
  std::chrono::steady_clock::time_point last_revalidate_{};
  std::chrono::steady_clock::time_point last_expiry_{};
  sim::SimResult result_;
  CombinedMacs combined_macs_{*this};
};

}  // namespace loom::agent
