#pragma once
// WorkerPool: the agent's packet threads.
//
// One worker: a single thread polls the upcall ring and handles each record itself (no hop).
// N workers: a dispatcher thread drains the ring and hands each record to the worker that owns
// its ingress interface (hash of the ifindex), in batches. Ownership by ingress port makes the
// workers' flow tables disjoint — every flow key holds its ingress ifindex, so no two workers
// ever install or revalidate the same flow — and keeps each port's packets in order. Learned
// state is per worker and shared by message: a worker sends the state writes of its packets to
// every other worker before it sends the packet on, so the reply to a packet, whichever worker
// gets it, is simulated with the state the packet created (a worker handles its inbox in order).
// Masks are shared (MaskSlots). No lock is shared on the per-packet path besides each worker's
// inbox, taken once per batch.

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "agent/config.h"
#include "agent/mask_slots.h"
#include "agent/metrics.h"
#include "agent/packet_processor.h"
#include "agent/view.h"
#include "datapath/datapath.h"
#include "datapath/packet_io.h"

namespace loom::agent {

class WorkerPool {
 public:
  WorkerPool(datapath::Datapath& dp, datapath::PacketTx& tx, AgentCounters& counters,
             const AgentConfig& config);
  ~WorkerPool();

  // Before start(): each worker adopts the pinned flows of its interfaces.
  void adoptPinnedFlows();
  void start();
  void stop();
  void publishView(const ViewPtr& view);
  // See PacketProcessor::setMacLearned (called from any worker thread).
  void setMacLearned(const std::function<void(const state::MacLearn&)>& fn);

  std::string flowsText() const;
  size_t flowCount() const;
  uint32_t maskCount() const { return masks_.activeCount(); }
  size_t parkedCount() const;
  int workers() const { return static_cast<int>(workers_.size()); }
  // The worker (of n) that owns ingress interface `ifindex`.
  static size_t shardOf(uint32_t ifindex, size_t n);

 private:
  size_t shardOf(uint32_t ifindex) const { return shardOf(ifindex, workers_.size()); }
  void dispatchLoop();

  datapath::Datapath& dp_;
  MaskSlots masks_;
  std::vector<std::unique_ptr<PacketProcessor>> workers_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
};

}  // namespace loom::agent
