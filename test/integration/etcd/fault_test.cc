// Faults against real etcd processes: a hung (SIGSTOPped) single member must make calls fail
// within their deadline, and a 3-member cluster that loses or freezes its leader must keep every
// watcher exact: every acknowledged write, nothing twice, in order.

#include <gtest/gtest.h>

#include <cstdio>

#include "etcd/client.h"
#include "etcd/watch.h"
#include "integration/etcd/etcd_test_util.h"
#include "support/etcd_process.h"

namespace loom::etcd {
namespace {

using namespace std::chrono_literals;
using loom::testing::EtcdCluster;
using loom::testing::uniqueRoot;
using testutil::Clock;
using testutil::Recorder;
using testutil::waitFor;

TEST(EtcdFaultTest, HungMemberFailsCallsWithinTheirDeadline) {
  auto cluster = EtcdCluster::start(1);
  ASSERT_NE(cluster, nullptr);
  ClientOptions o = cluster->clientOptions();
  o.call_timeout = 500ms;
  auto client = testutil::mustClient(o);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->put("/hung/a", "1").ok());

  cluster->member(0).stop();
  for (int i = 0; i < 4; ++i) {
    const auto start = Clock::now();
    auto r = client->put("/hung/a", "2");
    const auto took = Clock::now() - start;
    EXPECT_TRUE(r.status().code() == StatusCode::DeadlineExceeded ||
                r.status().code() == StatusCode::Unavailable)
        << r.status().toString();
    EXPECT_LT(took, o.call_timeout + 250ms) << "call " << i;
  }
  auto range = client->range("/hung/a", {});
  EXPECT_FALSE(range.ok());

  cluster->member(0).resume();
  const int64_t rev = testutil::putUntilAcked(*client, "/hung/a", "3", 10s);
  EXPECT_GT(rev, 0) << "the client did not recover after the member resumed";
}

enum class LeaderFault : uint8_t { Kill, Hang };

// A writer puts every 10 ms with a 500 ms deadline; one watcher per member plus one over every
// endpoint; the leader is killed (and restarted) or frozen for ~3 s.
void runFailover(LeaderFault fault) {
  loom::testing::EtcdMemberSpec spec;
  spec.grpc_keepalive_min_time_ms = 500;
  auto cluster = EtcdCluster::start(3, spec);
  ASSERT_NE(cluster, nullptr);
  ClientOptions all = cluster->clientOptions();
  all.call_timeout = 500ms;
  // A frozen member is noticed after ~1.5 s (no TCP reset tells the client).
  all.keepalive_time = 1000ms;
  all.keepalive_timeout = 500ms;
  auto client = testutil::mustClient(all);
  ASSERT_NE(client, nullptr);
  const std::string root = uniqueRoot();
  const int64_t from = testutil::putUntilAcked(*client, root + "/start", "x", 5s) + 1;
  ASSERT_GT(from, 1);

  std::vector<std::unique_ptr<Recorder>> recs;
  std::vector<std::unique_ptr<Watcher>> watchers;
  for (size_t i = 0; i <= cluster->size(); ++i) {
    ClientOptions o = all;
    if (i < cluster->size()) o.endpoints = {cluster->member(i).clientEndpoint()};
    recs.push_back(std::make_unique<Recorder>());
    auto w = Watcher::start(o, root + "/", from, recs.back()->handler());
    ASSERT_TRUE(w.ok()) << w.status().toString();
    watchers.push_back(std::move(w).value());
  }

  testutil::SeqWriter writer(*client, root, 10ms);
  std::this_thread::sleep_for(700ms);
  const int leader = cluster->leaderIndex();
  ASSERT_GE(leader, 0);
  const auto fault_start = Clock::now();
  const int at_fault = writer.attempts();
  int during_fault = 0;
  if (fault == LeaderFault::Kill) {
    cluster->member(static_cast<size_t>(leader)).kill();
    std::this_thread::sleep_for(1500ms);
    during_fault = writer.ackedFrom(at_fault);
    ASSERT_TRUE(cluster->member(static_cast<size_t>(leader)).restart());
  } else {
    cluster->member(static_cast<size_t>(leader)).stop();
    std::this_thread::sleep_for(3000ms);
    during_fault = writer.ackedFrom(at_fault);
    cluster->member(static_cast<size_t>(leader)).resume();
  }
  const int after_fault = writer.attempts();
  std::this_thread::sleep_for(1000ms);
  writer.stop();
  const auto fault_span = Clock::now() - fault_start;

  const int64_t done = testutil::putUntilAcked(*client, root + "/done", "x", 10s);
  ASSERT_GT(done, 0);
  for (size_t i = 0; i < watchers.size(); ++i) {
    EXPECT_TRUE(waitFor([&] { return watchers[i]->lastRevision() >= done; }, 15s))
        << "watcher " << i << " did not catch up";
  }
  const auto acked = writer.acked();
  const auto failed = writer.failed();
  std::printf(
      "failover: %zu acked, %zu failed, %d acked during and %d after the fault, fault "
      "%.1f s, longest write gap %.2f s\n",
      acked.size(), failed.size(), during_fault, writer.ackedFrom(after_fault),
      std::chrono::duration<double>(fault_span).count(), writer.maxGap().count());
  EXPECT_GT(writer.ackedFrom(after_fault), 20) << "writes did not resume after the fault";
  // The writer moved to the new leader while the old one was down or frozen.
  EXPECT_GT(during_fault, 0) << "no write succeeded during the fault";
  // The watcher on the faulty member lost its stream and resumed.
  EXPECT_GE(recs[static_cast<size_t>(leader)]->disconnects(), 1);
  const std::vector<int> reference = testutil::seqIndexes(recs[0]->events(), root);
  for (size_t i = 0; i < watchers.size(); ++i) {
    watchers[i]->stop();
    // Every watcher saw the same history.
    EXPECT_EQ(testutil::seqIndexes(recs[i]->events(), root), reference) << "watcher " << i;
    testutil::expectExactlyAcked(recs[i]->events(), root, acked, failed,
                                 "watcher " + std::to_string(i));
  }
}

TEST(EtcdFailoverTest, LeaderKillAndRestartLosesNoAcknowledgedWrite) {
  runFailover(LeaderFault::Kill);
}

TEST(EtcdFailoverTest, HungLeaderLosesNoAcknowledgedWrite) { runFailover(LeaderFault::Hang); }

}  // namespace
}  // namespace loom::etcd
