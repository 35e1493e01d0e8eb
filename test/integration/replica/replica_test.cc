// Replica against a real etcd: the initial listing, live updates, subscribers and waiting.

#include "replica/replica.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>

#include "integration/replica/replica_test_util.h"
#include "support/etcd_process.h"

namespace loom::replica {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::bridgeIds;
using testing::bridgeObject;
using testing::Writer;

class ReplicaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = testing::connect(testing::sharedEtcd().clientOptions());
    ASSERT_NE(client_, nullptr);
  }

  StatusOr<std::unique_ptr<Replica>> startReplica(int64_t page_size = 5000) {
    ReplicaOptions options;
    options.root = root_;
    options.page_size = page_size;
    return Replica::start(*client_, options);
  }

  int64_t putBridge(const std::string& id) {
    auto put = client_->put(keys_.object(store::Kind::Bridge, id),
                            store::encodeObject(bridgeObject(id, "b-" + id.substr(0, 8))));
    EXPECT_TRUE(put.ok()) << put.status().toString();
    return put.ok() ? *put : 0;
  }

  const std::string root_ = testing::uniqueRoot();
  const store::Keys keys_{root_};
  std::unique_ptr<etcd::EtcdClient> client_;
};

TEST_F(ReplicaTest, InitialListingHoldsEveryObjectAtTheListedRevision) {
  std::set<std::string> bridges;
  int64_t last = 0;
  for (int i = 0; i < 300; ++i) {
    const std::string id = Uuid::random().toString();
    bridges.insert(id);
    last = putBridge(id);
  }
  v1::StoredObject router;
  router.set_format(store::kStoredFormat);
  const std::string router_id = Uuid::random().toString();
  router.mutable_router()->set_id(router_id);
  ASSERT_TRUE(
      client_->put(keys_.object(store::Kind::Router, router_id), store::encodeObject(router)).ok());
  // A reference key is the store's index, not an object; the replica ignores it.
  ASSERT_TRUE(
      client_
          ->put(keys_.ref(store::Kind::Router, router_id, store::Kind::Bridge, *bridges.begin()),
                "router_id")
          .ok());
  auto put = client_->put(keys_.all() + "obj/bridge/zz", "garbage");
  ASSERT_TRUE(put.ok());
  last = std::max(last, *put);

  auto replica = startReplica(/*page_size=*/64);  // Several pages.
  ASSERT_TRUE(replica.ok()) << replica.status().toString();
  const Replica& r = **replica;
  model::SnapshotPtr snap = r.snapshot();
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(r.appliedRevision(), last);
  EXPECT_EQ(snap->version(), static_cast<uint64_t>(r.appliedRevision()));
  EXPECT_EQ(snap->bridges().size(), 300u);
  EXPECT_EQ(snap->routers().size(), 1u);
  EXPECT_NE(snap->findRouter(*Uuid::parse(router_id)), model::kNoIndex);
  auto topology = r.topology();
  EXPECT_EQ(bridgeIds(*topology), bridges);
  EXPECT_TRUE(std::is_sorted(topology->bridges().begin(), topology->bridges().end(),
                             [](const auto& a, const auto& b) { return a.id() < b.id(); }));
  const ReplicaStats stats = r.stats();
  EXPECT_EQ(stats.decode_errors, 1u);
  EXPECT_EQ(stats.relists, 1u);
  EXPECT_EQ(stats.snapshots, 1u);
}

TEST_F(ReplicaTest, TwoReplicasConvergeOnTheWritersLastRevision) {
  for (int i = 0; i < 20; ++i) putBridge(Uuid::random().toString());
  auto a = startReplica();
  auto b = startReplica();
  ASSERT_TRUE(a.ok() && b.ok());
  const int64_t start_a = (*a)->appliedRevision();

  std::mutex mu;
  std::vector<uint64_t> versions;
  (*a)->subscribe([&](const model::SnapshotPtr& snap) {
    std::lock_guard<std::mutex> lock(mu);
    versions.push_back(snap->version());
  });
  std::vector<int64_t> revisions;
  (*b)->subscribeRevision([&](int64_t revision) {
    std::lock_guard<std::mutex> lock(mu);
    revisions.push_back(revision);
  });

  auto writer_client = testing::connect(testing::sharedEtcd().clientOptions());
  Writer writer(*writer_client, keys_);
  writer.start();
  std::this_thread::sleep_for(milliseconds(600));
  writer.stop();
  ASSERT_EQ(writer.failed(), 0);
  const int64_t last = writer.lastAckedRevision();
  ASSERT_GT(writer.acked(), 20);

  ASSERT_TRUE((*a)->waitForRevision(last, seconds(10)));
  ASSERT_TRUE((*b)->waitForRevision(last, seconds(10)));
  EXPECT_EQ((*a)->appliedRevision(), last);
  EXPECT_EQ((*b)->appliedRevision(), last);
  auto ta = (*a)->topology();
  auto tb = (*b)->topology();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*ta, *tb));
  const std::set<std::string> expected = testing::etcdBridgeIds(*client_, keys_, last);
  EXPECT_EQ(bridgeIds(*ta), expected);
  for (const std::string& id : writer.ackedPresent()) EXPECT_EQ(expected.count(id), 1u) << id;
  for (const std::string& id : writer.ackedDeleted()) EXPECT_EQ(expected.count(id), 0u) << id;
  EXPECT_EQ((*a)->snapshot()->version(), static_cast<uint64_t>(last));
  EXPECT_EQ((*a)->snapshot()->bridges().size(), expected.size());
  // One event per revision: none missing, none applied twice.
  EXPECT_EQ((*a)->stats().events, static_cast<uint64_t>(last - start_a));
  EXPECT_EQ((*a)->stats().relists, 1u);

  std::lock_guard<std::mutex> lock(mu);
  ASSERT_FALSE(versions.empty());
  EXPECT_EQ(versions.front(), static_cast<uint64_t>(start_a));  // At once, on subscribing.
  EXPECT_EQ(versions.back(), static_cast<uint64_t>(last));
  EXPECT_TRUE(std::adjacent_find(versions.begin(), versions.end(), std::greater_equal<>()) ==
              versions.end());
  ASSERT_FALSE(revisions.empty());
  EXPECT_EQ(revisions.back(), last);
  EXPECT_TRUE(std::adjacent_find(revisions.begin(), revisions.end(), std::greater_equal<>()) ==
              revisions.end());
}

TEST_F(ReplicaTest, LivenessOnlyChangesAdvanceTheRevisionWithoutANewSnapshot) {
  putBridge(Uuid::random().toString());
  ReplicaOptions options;
  options.root = root_;
  options.track_progress = true;
  auto replica = Replica::start(*client_, options);
  ASSERT_TRUE(replica.ok());
  const uint64_t snapshots = (*replica)->stats().snapshots;
  v1::HostLiveness host;
  host.set_host_id("h1");
  ASSERT_TRUE(client_->put(keys_.liveHost("h1"), host.SerializeAsString()).ok());
  v1::HostProgress progress;
  progress.set_applied_revision(7);
  auto put = client_->put(keys_.progress("h1"), progress.SerializeAsString());
  ASSERT_TRUE(put.ok());
  ASSERT_TRUE((*replica)->waitForRevision(*put, seconds(5)));
  ASSERT_EQ((*replica)->liveHosts().size(), 1u);
  EXPECT_EQ((*replica)->liveHosts()[0].applied_revision(), 7);
  EXPECT_EQ((*replica)->stats().snapshots, snapshots);
  EXPECT_LT((*replica)->snapshot()->version(), static_cast<uint64_t>(*put));
}

// An agent's replica (no progress tracking) is not woken by other hosts' progress reports:
// they are outside the range it watches.
TEST_F(ReplicaTest, ReplicaWithoutProgressTrackingNeverSeesProgressReports) {
  auto replica = startReplica();
  ASSERT_TRUE(replica.ok());
  const int64_t before = (*replica)->appliedRevision();
  v1::HostProgress progress;
  progress.set_applied_revision(7);
  ASSERT_TRUE(client_->put(keys_.progress("h1"), progress.SerializeAsString()).ok());
  const int64_t bridge_rev = putBridge(Uuid::random().toString());
  ASSERT_TRUE((*replica)->waitForRevision(bridge_rev, seconds(5)));
  // One batch for the bridge; none for the progress report.
  EXPECT_EQ((*replica)->stats().events, 1u);
  EXPECT_GT(bridge_rev, before + 1);
}

TEST_F(ReplicaTest, UndecodableValueRemovesTheObjectAndIsCounted) {
  const std::string id = Uuid::random().toString();
  putBridge(id);
  auto replica = startReplica();
  ASSERT_TRUE(replica.ok());
  ASSERT_EQ((*replica)->snapshot()->bridges().size(), 1u);
  auto put = client_->put(keys_.object(store::Kind::Bridge, id), "not an envelope");
  ASSERT_TRUE(put.ok());
  ASSERT_TRUE((*replica)->waitForRevision(*put, seconds(5)));
  EXPECT_EQ((*replica)->snapshot()->bridges().size(), 0u);
  EXPECT_EQ((*replica)->stats().decode_errors, 1u);
  // An envelope whose id disagrees with its key is refused the same way.
  const std::string other = Uuid::random().toString();
  put = client_->put(keys_.object(store::Kind::Bridge, other),
                     store::encodeObject(bridgeObject(id, "wrong id")));
  ASSERT_TRUE(put.ok());
  ASSERT_TRUE((*replica)->waitForRevision(*put, seconds(5)));
  EXPECT_EQ((*replica)->snapshot()->bridges().size(), 0u);
  EXPECT_EQ((*replica)->stats().decode_errors, 2u);
}

TEST_F(ReplicaTest, WaitUntilSeesAPredicateBecomeTrueAndTimesOut) {
  auto replica = startReplica();
  ASSERT_TRUE(replica.ok());
  const std::string id = Uuid::random().toString();
  std::thread later([&] {
    std::this_thread::sleep_for(milliseconds(100));
    putBridge(id);
  });
  const bool seen = (*replica)->waitUntil(
      [&] { return (*replica)->snapshot()->findBridge(*Uuid::parse(id)) != model::kNoIndex; },
      seconds(5));
  later.join();
  EXPECT_TRUE(seen);
  EXPECT_FALSE((*replica)->waitUntil([] { return false; }, milliseconds(50)));
  EXPECT_FALSE((*replica)->waitForRevision((*replica)->appliedRevision() + 1000, milliseconds(50)));
}

TEST_F(ReplicaTest, UnsubscribedCallbacksAreNotCalledAgain) {
  auto replica = startReplica();
  ASSERT_TRUE(replica.ok());
  std::atomic<int> calls{0};
  Replica::SubscriptionId id = 0;
  // Unsubscribing from inside the callback is allowed.
  id = (*replica)->subscribe([&](const model::SnapshotPtr&) {
    if (++calls == 2) (*replica)->unsubscribe(id);
  });
  EXPECT_EQ(calls, 1);
  ASSERT_TRUE((*replica)->waitForRevision(putBridge(Uuid::random().toString()), seconds(5)));
  ASSERT_TRUE((*replica)->waitForRevision(putBridge(Uuid::random().toString()), seconds(5)));
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace loom::replica
