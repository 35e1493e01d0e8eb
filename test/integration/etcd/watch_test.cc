// Watcher against a real etcd: ordered exactly-once delivery, per-revision batches, progress,
// compaction, prompt stop, and resuming across an etcd crash and restart.

#include <gtest/gtest.h>

#include <atomic>

#include "etcd/client.h"
#include "etcd/watch.h"
#include "integration/etcd/etcd_test_util.h"
#include "support/etcd_process.h"

namespace loom::etcd {
namespace {

using namespace std::chrono_literals;
using loom::testing::EtcdCluster;
using loom::testing::sharedEtcd;
using loom::testing::uniqueRoot;
using testutil::Clock;
using testutil::Recorder;
using testutil::waitFor;

class EtcdWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = testutil::mustClient(sharedEtcd().clientOptions());
    ASSERT_NE(client_, nullptr);
    root_ = uniqueRoot();
  }
  int64_t head() {
    auto r = client_->range("/", {});
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->revision : 0;
  }
  std::unique_ptr<Watcher> watch(Recorder& rec, int64_t from, const std::string& prefix = {}) {
    auto w = Watcher::start(sharedEtcd().clientOptions(), prefix.empty() ? root_ + "/" : prefix,
                            from, rec.handler());
    EXPECT_TRUE(w.ok()) << w.status().toString();
    return w.ok() ? std::move(w).value() : nullptr;
  }
  std::unique_ptr<EtcdClient> client_;
  std::string root_;
};

TEST_F(EtcdWatchTest, DeliversPutsAndDeletesInOrderExactlyOnce) {
  Recorder rec;
  const int64_t from = head() + 1;
  auto w = watch(rec, from);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->lastRevision(), from - 1);
  std::vector<std::pair<WatchEvent::Type, std::string>> expected;
  int64_t last = 0;
  for (int i = 0; i < 60; ++i) {
    const std::string key = testutil::seqKey(root_, i % 20);
    if (i % 3 == 2) {
      auto d = client_->deleteRange(key);
      ASSERT_TRUE(d.ok());
      if (d->deleted == 0) continue;  // No event for deleting nothing.
      last = d->revision;
      expected.emplace_back(WatchEvent::Type::Delete, key);
    } else {
      auto r = client_->put(key, std::to_string(i));
      ASSERT_TRUE(r.ok());
      last = *r;
      expected.emplace_back(WatchEvent::Type::Put, key);
    }
  }
  client_->put("/elsewhere" + root_, "x").value();  // Outside the prefix: not delivered.
  ASSERT_TRUE(waitFor([&] { return w->lastRevision() >= last; }, 5s));
  auto events = rec.events();
  ASSERT_EQ(events.size(), expected.size());
  int64_t prev = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].type, expected[i].first) << i;
    EXPECT_EQ(events[i].kv.key, expected[i].second) << i;
    EXPECT_GT(events[i].kv.mod_revision, prev) << i;
    prev = events[i].kv.mod_revision;
  }
  EXPECT_EQ(rec.compacted().size(), 0u);
  EXPECT_GE(rec.connects(), 1);
}

TEST_F(EtcdWatchTest, EventsOfOneTransactionArriveInOneBatch) {
  Recorder rec;
  auto w = watch(rec, head() + 1);
  ASSERT_NE(w, nullptr);
  int64_t last = 0;
  for (int round = 0; round < 20; ++round) {
    Txn t;
    for (int k = 0; k < 10; ++k) {
      t.success.push_back(
          Op::put(root_ + "/r" + std::to_string(round) + "/" + std::to_string(k), "x"));
    }
    auto r = client_->txn(t);
    ASSERT_TRUE(r.ok());
    last = r->revision;
  }
  ASSERT_TRUE(waitFor([&] { return w->lastRevision() >= last; }, 5s));
  size_t total = 0;
  std::set<int64_t> revisions_seen;
  for (const WatchBatch& b : rec.batches()) {
    std::set<int64_t> in_batch;
    for (const WatchEvent& ev : b.events) {
      in_batch.insert(ev.kv.mod_revision);
      EXPECT_LE(ev.kv.mod_revision, b.revision);
    }
    for (int64_t rev : in_batch) {
      EXPECT_TRUE(revisions_seen.insert(rev).second) << "revision " << rev << " split";
    }
    total += b.events.size();
  }
  EXPECT_EQ(total, 200u);
  EXPECT_EQ(revisions_seen.size(), 20u);
}

TEST_F(EtcdWatchTest, StartingFromAnOldRevisionReplaysHistory) {
  const int64_t from = client_->put(root_ + "/a", "1").value();
  client_->put(root_ + "/a", "2").value();
  const int64_t last = client_->put(root_ + "/b", "3").value();
  Recorder rec;
  auto w = watch(rec, from);
  ASSERT_NE(w, nullptr);
  ASSERT_TRUE(waitFor([&] { return w->lastRevision() >= last; }, 5s));
  auto events = rec.events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kv.value, "1");
  EXPECT_EQ(events[1].kv.value, "2");
  EXPECT_EQ(events[2].kv.value, "3");
}

TEST_F(EtcdWatchTest, ProgressRequestAdvancesTheRevisionWhenIdle) {
  Recorder rec;
  auto w = watch(rec, head() + 1);
  ASSERT_NE(w, nullptr);
  ASSERT_TRUE(waitFor([&] { return rec.connects() > 0; }, 5s));
  // Writes elsewhere move the store's revision; the watcher has nothing to deliver.
  int64_t rev = 0;
  for (int i = 0; i < 5; ++i) rev = client_->put("/elsewhere" + root_, "x").value();
  EXPECT_LT(w->lastRevision(), rev);
  ASSERT_TRUE(waitFor(
      [&] {
        w->requestProgress();
        return w->lastRevision() >= rev;
      },
      5s));
  EXPECT_TRUE(rec.events().empty());
}

TEST_F(EtcdWatchTest, CompactedStartRevisionCallsOnCompactedOnceAndStops) {
  const int64_t old = client_->put(root_ + "/a", "1").value();
  const int64_t now = client_->put(root_ + "/a", "2").value();
  ASSERT_TRUE(client_->compact(now).ok());
  Recorder rec;
  auto w = watch(rec, old);
  ASSERT_NE(w, nullptr);
  ASSERT_TRUE(waitFor([&] { return !rec.compacted().empty(); }, 5s));
  client_->put(root_ + "/a", "3").value();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(rec.compacted(), std::vector<int64_t>{now});
  EXPECT_TRUE(rec.events().empty());
  EXPECT_EQ(w->lastRevision(), old - 1);
}

TEST_F(EtcdWatchTest, StopIsPromptWhileConnectedAndWhileWaitingForAServer) {
  Recorder rec;
  auto w = watch(rec, head() + 1);
  ASSERT_NE(w, nullptr);
  ASSERT_TRUE(waitFor([&] { return rec.connects() > 0; }, 5s));
  auto start = Clock::now();
  w->stop();
  w.reset();
  EXPECT_LT(Clock::now() - start, 300ms);

  ClientOptions nowhere;
  nowhere.endpoints = {"127.0.0.1:1"};
  auto waiting = Watcher::start(nowhere, "/x/", 0, Recorder().handler());
  ASSERT_TRUE(waiting.ok());
  std::this_thread::sleep_for(200ms);
  start = Clock::now();
  waiting->reset();  // The destructor stops and joins.
  EXPECT_LT(Clock::now() - start, 300ms);
}

TEST(EtcdWatchRestartTest, ResumesAcrossAKillAndRestartWithExactlyTheAcknowledgedWrites) {
  auto cluster = EtcdCluster::start(1);
  ASSERT_NE(cluster, nullptr);
  ClientOptions o = cluster->clientOptions();
  o.call_timeout = 500ms;
  auto client = testutil::mustClient(o);
  ASSERT_NE(client, nullptr);
  const std::string root = uniqueRoot();
  const int64_t from = client->put(root + "/start", "x").value() + 1;
  Recorder rec;
  auto w = Watcher::start(o, root + "/", from, rec.handler());
  ASSERT_TRUE(w.ok());

  testutil::SeqWriter writer(*client, root, 5ms);
  std::this_thread::sleep_for(300ms);
  cluster->member(0).kill();
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(cluster->member(0).restart());
  const int after_restart = writer.attempts();
  std::this_thread::sleep_for(500ms);
  writer.stop();

  const int64_t done = testutil::putUntilAcked(*client, root + "/done", "x", 5s);
  ASSERT_GT(done, 0);
  ASSERT_TRUE(waitFor([&] { return (*w)->lastRevision() >= done; }, 10s));
  EXPECT_GE(rec.disconnects(), 1);
  EXPECT_GT(writer.ackedFrom(after_restart), 0) << "no write succeeded after the restart";
  EXPECT_GT(writer.failed().size(), 0u) << "the kill did not interrupt the writer";
  testutil::expectExactlyAcked(rec.events(), root, writer.acked(), writer.failed(), "watcher");
}

}  // namespace
}  // namespace loom::etcd
