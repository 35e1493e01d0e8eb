#pragma once
// Helpers shared by the etcd integration tests: waiting for a condition, a watch recorder, and a
// writer that records which writes were acknowledged, with the check that a watcher saw exactly
// those (plus, at most once, writes whose outcome was ambiguous), in order.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "etcd/client.h"
#include "etcd/watch.h"

namespace loom::etcd::testutil {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

inline bool waitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

inline std::unique_ptr<EtcdClient> mustClient(ClientOptions options) {
  auto client = EtcdClient::create(std::move(options));
  EXPECT_TRUE(client.ok()) << client.status().toString();
  return client.ok() ? std::move(client).value() : nullptr;
}

// Records what a Watcher delivers.
class Recorder {
 public:
  WatchHandler handler() {
    WatchHandler h;
    h.on_batch = [this](WatchBatch&& b) {
      std::lock_guard<std::mutex> lock(mu_);
      batches_.push_back(std::move(b));
    };
    h.on_compacted = [this](int64_t rev) {
      std::lock_guard<std::mutex> lock(mu_);
      compacted_.push_back(rev);
    };
    h.on_state = [this](bool connected, const Status&) {
      std::lock_guard<std::mutex> lock(mu_);
      (connected ? connects_ : disconnects_)++;
    };
    return h;
  }
  std::vector<WatchEvent> events() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<WatchEvent> out;
    for (const WatchBatch& b : batches_) out.insert(out.end(), b.events.begin(), b.events.end());
    return out;
  }
  std::vector<WatchBatch> batches() const {
    std::lock_guard<std::mutex> lock(mu_);
    return batches_;
  }
  std::vector<int64_t> compacted() const {
    std::lock_guard<std::mutex> lock(mu_);
    return compacted_;
  }
  int connects() const {
    std::lock_guard<std::mutex> lock(mu_);
    return connects_;
  }
  int disconnects() const {
    std::lock_guard<std::mutex> lock(mu_);
    return disconnects_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<WatchBatch> batches_;
  std::vector<int64_t> compacted_;
  int connects_ = 0;
  int disconnects_ = 0;
};

inline std::string seqKey(const std::string& root, int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "/k%06d", i);
  return root + buf;
}

// Puts root/k<i> = i for i = 0, 1, ... one at a time, every `period`, until stopped.
class SeqWriter {
 public:
  SeqWriter(EtcdClient& client, std::string root, std::chrono::milliseconds period)
      : client_(client), root_(std::move(root)), period_(period) {
    thread_ = std::thread([this] { run(); });
  }
  ~SeqWriter() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int attempts() const { return next_.load(); }
  // Acknowledged indexes, and those whose put returned an error (may or may not be applied).
  std::set<int> acked() const {
    std::lock_guard<std::mutex> lock(mu_);
    return acked_;
  }
  std::set<int> failed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return failed_;
  }
  std::map<StatusCode, int> errorCodes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return codes_;
  }
  // The longest time between two acknowledged writes.
  std::chrono::duration<double> maxGap() const {
    std::lock_guard<std::mutex> lock(mu_);
    return max_gap_;
  }
  // Acknowledged writes with index >= i.
  int ackedFrom(int i) const {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(std::distance(acked_.lower_bound(i), acked_.end()));
  }

 private:
  void run() {
    while (!stop_) {
      const int i = next_.load();
      auto rev = client_.put(seqKey(root_, i), std::to_string(i));
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (rev.ok()) {
          acked_.insert(i);
          const auto now = Clock::now();
          if (last_ack_ != Clock::time_point()) max_gap_ = std::max(max_gap_, now - last_ack_);
          last_ack_ = now;
        } else {
          failed_.insert(i);
          codes_[rev.status().code()]++;
        }
      }
      next_.store(i + 1);
      std::this_thread::sleep_for(period_);
    }
  }
  EtcdClient& client_;
  const std::string root_;
  const std::chrono::milliseconds period_;
  std::atomic<bool> stop_{false};
  std::atomic<int> next_{0};
  mutable std::mutex mu_;
  std::set<int> acked_, failed_;
  std::map<StatusCode, int> codes_;
  Clock::time_point last_ack_;
  Clock::duration max_gap_{};
  std::thread thread_;
};

// Puts `key` until acknowledged (up to `timeout`); returns the revision or 0.
inline int64_t putUntilAcked(EtcdClient& client, const std::string& key, const std::string& value,
                             std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    auto rev = client.put(key, value);
    if (rev.ok()) return *rev;
    std::this_thread::sleep_for(50ms);
  }
  return 0;
}

// The writer's index of each SeqWriter event under `root` (other keys skipped), in order.
inline std::vector<int> seqIndexes(const std::vector<WatchEvent>& events, const std::string& root) {
  std::vector<int> out;
  const std::string prefix = root + "/k";
  for (const WatchEvent& ev : events) {
    if (ev.kv.key.rfind(prefix, 0) != 0) continue;
    EXPECT_EQ(ev.type, WatchEvent::Type::Put);
    out.push_back(std::stoi(ev.kv.value));
  }
  return out;
}

// The watcher saw every acknowledged write and nothing that was never attempted, nothing twice,
// in revision order. Acknowledged writes appear in the order they were made. A write whose put
// failed (ambiguous) may appear once, anywhere after the acknowledged writes that preceded it:
// the server can apply it late (e.g. a frozen member resumes and forwards it).
inline void expectExactlyAcked(const std::vector<WatchEvent>& events, const std::string& root,
                               const std::set<int>& acked, const std::set<int>& failed,
                               const std::string& who) {
  int64_t prev_rev = 0;
  for (const WatchEvent& ev : events) {
    EXPECT_GT(ev.kv.mod_revision, prev_rev) << who << ": revisions out of order";
    prev_rev = ev.kv.mod_revision;
  }
  std::set<int> seen;
  int prev_acked = -1;
  for (int i : seqIndexes(events, root)) {
    EXPECT_TRUE(seen.insert(i).second) << who << ": duplicate " << i;
    if (acked.count(i) == 1) {
      EXPECT_GT(i, prev_acked) << who << ": acknowledged writes out of order";
      prev_acked = std::max(prev_acked, i);
    } else {
      EXPECT_EQ(failed.count(i), 1u) << who << ": write " << i << " was never attempted";
    }
    // Every acknowledged write made before this one was sent is already there.
    for (auto it = acked.begin(); it != acked.end() && *it < i; ++it) {
      EXPECT_EQ(seen.count(*it), 1u) << who << ": " << i << " before acknowledged " << *it;
    }
  }
  int missing = 0;
  for (int i : acked) {
    if (seen.count(i) == 0) ++missing;
  }
  EXPECT_EQ(missing, 0) << who << ": acknowledged writes missing";
}

}  // namespace loom::etcd::testutil
