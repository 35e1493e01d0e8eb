#include "agent/worker_pool.h"

#include <sstream>

namespace loom::agent {

WorkerPool::WorkerPool(datapath::Datapath& dp, datapath::PacketTx& tx, AgentCounters& counters,
                       const AgentConfig& config)
    : dp_(dp), masks_(dp) {
  masks_.loadConfig();
  const int n = std::max(1, config.workers);
  for (int i = 0; i < n; ++i) {
    workers_.push_back(std::make_unique<PacketProcessor>(dp, tx, masks_, counters, config));
  }
  if (n > 1) {
    for (size_t i = 0; i < workers_.size(); ++i) {
      workers_[i]->setBroadcast([this, i](const std::vector<state::StateWrite>& writes) {
        for (size_t j = 0; j < workers_.size(); ++j) {
          if (j == i) continue;
          std::vector<PacketProcessor::Item> batch(1);
          batch[0].is_state = true;
          batch[0].writes = writes;
          workers_[j]->post(std::move(batch));
        }
      });
    }
  }
}

WorkerPool::~WorkerPool() { stop(); }

size_t WorkerPool::shardOf(uint32_t ifindex, size_t n) {
  // Fibonacci hashing: consecutive ifindexes spread over the workers.
  return static_cast<size_t>((ifindex * 2654435761u) >> 16) % n;
}

void WorkerPool::adoptPinnedFlows() {
  if (workers_.size() == 1) {
    workers_[0]->adoptPinnedFlows();
    return;
  }
  for (size_t i = 0; i < workers_.size(); ++i) {
    workers_[i]->adoptPinnedFlows([this, i](uint32_t ifindex) { return shardOf(ifindex) == i; });
  }
}

void WorkerPool::start() {
  if (workers_.size() == 1) {
    threads_.emplace_back([this] { workers_[0]->run(stop_); });
    return;
  }
  for (auto& w : workers_) {
    PacketProcessor* p = w.get();
    threads_.emplace_back([this, p] { p->runInbox(stop_); });
  }
  threads_.emplace_back([this] { dispatchLoop(); });
}

void WorkerPool::stop() {
  stop_.store(true);
  for (auto& w : workers_) w->publishView(nullptr);  // Wakes the worker; a null view is ignored.
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void WorkerPool::setMacLearned(const std::function<void(const state::MacLearn&)>& fn) {
  for (auto& w : workers_) w->setMacLearned(fn);
}

void WorkerPool::publishView(const ViewPtr& view) {
  for (auto& w : workers_) w->publishView(view);
}

void WorkerPool::dispatchLoop() {
  std::vector<std::vector<PacketProcessor::Item>> batches(workers_.size());
  while (!stop_.load(std::memory_order_relaxed)) {
    StatusOr<int> n = dp_.pollUpcalls(50, 1024, [&](const datapath::Upcall& u) {
      PacketProcessor::Item item;
      item.header = *u.header;
      item.frame.assign(u.data.begin(), u.data.end());  // The ring's pages are read-only.
      batches[shardOf(u.header->ifindex)].push_back(std::move(item));
    });
    (void)n;
    for (size_t i = 0; i < batches.size(); ++i) {
      if (batches[i].empty()) continue;
      workers_[i]->post(std::move(batches[i]));
      batches[i].clear();
    }
  }
}

std::string WorkerPool::flowsText() const {
  std::ostringstream o;
  for (size_t i = 0; i < workers_.size(); ++i) {
    if (workers_.size() > 1) o << "worker " << i << ":\n";
    o << workers_[i]->flowsText();
  }
  return o.str();
}

size_t WorkerPool::flowCount() const {
  size_t n = 0;
  for (const auto& w : workers_) n += w->flowCount();
  return n;
}

size_t WorkerPool::parkedCount() const {
  size_t n = 0;
  for (const auto& w : workers_) n += w->parkedCount();
  return n;
}

}  // namespace loom::agent
