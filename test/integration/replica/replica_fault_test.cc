// Replica under etcd faults: a restart of the only member, a compaction of the resume revision
// and a leader crash. After each the replica must hold exactly what etcd holds at the
// replica's revision: no acknowledged write missing, nothing applied twice.

#include <gtest/gtest.h>

#include "integration/replica/replica_test_util.h"
#include "replica/replica.h"
#include "support/etcd_process.h"

namespace loom::replica {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::bridgeIds;
using testing::EtcdCluster;
using testing::Writer;

constexpr milliseconds kWriteTimeout{500};

etcd::ClientOptions withTimeout(etcd::ClientOptions options) {
  options.call_timeout = kWriteTimeout;
  return options;
}

// Writes one more object until the put is acknowledged: the revision (and snapshot version)
// every replica must reach.
int64_t finalRevision(etcd::EtcdClient& client, const store::Keys& keys) {
  const std::string id = Uuid::random().toString();
  return testing::putAcknowledged(client, keys.object(store::Kind::Bridge, id),
                                  store::encodeObject(testing::bridgeObject(id, "marker")));
}

// The replica holds exactly etcd's objects at `revision`, including every acknowledged write.
void expectExactState(const Replica& replica, etcd::EtcdClient& client, const store::Keys& keys,
                      const Writer& writer, int64_t revision) {
  ASSERT_TRUE(replica.waitForRevision(revision, seconds(15)))
      << "applied " << replica.appliedRevision() << " of " << revision;
  EXPECT_EQ(replica.appliedRevision(), revision);
  const std::set<std::string> in_etcd = testing::etcdBridgeIds(client, keys, revision);
  const std::set<std::string> in_replica = bridgeIds(*replica.topology());
  EXPECT_EQ(in_replica, in_etcd);
  for (const std::string& id : writer.ackedPresent()) EXPECT_EQ(in_replica.count(id), 1u) << id;
  for (const std::string& id : writer.ackedDeleted()) EXPECT_EQ(in_replica.count(id), 0u) << id;
  EXPECT_EQ(replica.snapshot()->version(), static_cast<uint64_t>(revision));
  EXPECT_EQ(replica.snapshot()->bridges().size(), in_etcd.size());
}

TEST(ReplicaFaultTest, EtcdKilledAndRestartedWhileWritingLosesAndRepeatsNothing) {
  auto cluster = EtcdCluster::start(1);
  ASSERT_NE(cluster, nullptr);
  const store::Keys keys(testing::uniqueRoot());
  auto client = testing::connect(withTimeout(cluster->clientOptions()));
  auto writer_client = testing::connect(withTimeout(cluster->clientOptions()));
  Writer seed(*writer_client, keys);
  seed.runSync(30);
  auto replica = Replica::start(*client, {.root = keys.root()});
  ASSERT_TRUE(replica.ok()) << replica.status().toString();
  const int64_t start_revision = (*replica)->appliedRevision();

  Writer writer(*writer_client, keys);
  writer.start();
  std::this_thread::sleep_for(milliseconds(300));
  cluster->member(0).kill();
  std::this_thread::sleep_for(milliseconds(300));
  ASSERT_TRUE(cluster->member(0).restart());
  std::this_thread::sleep_for(milliseconds(500));
  writer.stop();
  const int64_t last = finalRevision(*writer_client, keys);
  ASSERT_GT(last, 0);

  expectExactState(**replica, *client, keys, writer, last);
  // Only single-key writes on this cluster: one event per revision after the listing.
  EXPECT_EQ((*replica)->stats().events, static_cast<uint64_t>(last - start_revision));
  EXPECT_EQ((*replica)->stats().relists, 1u);
  EXPECT_GT(writer.acked(), 10);
}

TEST(ReplicaFaultTest, CompactedResumeRevisionMakesTheReplicaRelist) {
  auto cluster = EtcdCluster::start(3);
  ASSERT_NE(cluster, nullptr);
  const store::Keys keys(testing::uniqueRoot());
  // The replica talks to member 3 only; the writer to members 1 and 2.
  etcd::ClientOptions replica_options = withTimeout(cluster->clientOptions());
  replica_options.endpoints = {cluster->member(2).clientEndpoint()};
  etcd::ClientOptions writer_options = withTimeout(cluster->clientOptions());
  writer_options.endpoints = {cluster->member(0).clientEndpoint(),
                              cluster->member(1).clientEndpoint()};
  auto client = testing::connect(replica_options);
  auto writer_client = testing::connect(writer_options);
  Writer writer(*writer_client, keys);
  writer.runSync(30);
  auto replica = Replica::start(*client, {.root = keys.root()});
  ASSERT_TRUE(replica.ok()) << replica.status().toString();
  ASSERT_TRUE((*replica)->waitForRevision(writer.lastAckedRevision(), seconds(5)));

  // Member 3 goes away; the replica's watch cannot resume anywhere. Meanwhile the history it
  // would resume from is written and compacted away. A restarted member serves clients only
  // after it has applied the log up to its own (re)publication, so the compaction is in
  // effect before the watch can be re-created.
  cluster->member(2).kill();
  writer.runSync(60);
  const int64_t compact_at = finalRevision(*writer_client, keys);
  ASSERT_GT(compact_at, 0);
  ASSERT_TRUE(writer_client->compact(compact_at).ok());
  writer.runSync(10);
  ASSERT_TRUE(cluster->member(2).restart());

  const int64_t last = finalRevision(*writer_client, keys);
  expectExactState(**replica, *client, keys, writer, last);
  EXPECT_EQ((*replica)->stats().relists, 2u);
}

TEST(ReplicaFaultTest, LeaderKilledWhileWritingLosesAndRepeatsNothing) {
  auto cluster = EtcdCluster::start(3);
  ASSERT_NE(cluster, nullptr);
  const store::Keys keys(testing::uniqueRoot());
  auto client = testing::connect(withTimeout(cluster->clientOptions()));
  auto writer_client = testing::connect(withTimeout(cluster->clientOptions()));
  Writer seed(*writer_client, keys);
  seed.runSync(30);
  auto replica = Replica::start(*client, {.root = keys.root()});
  ASSERT_TRUE(replica.ok()) << replica.status().toString();
  const int64_t start_revision = (*replica)->appliedRevision();

  Writer writer(*writer_client, keys);
  writer.start();
  std::this_thread::sleep_for(milliseconds(300));
  const int leader = cluster->leaderIndex();
  ASSERT_GE(leader, 0);
  cluster->member(static_cast<size_t>(leader)).kill();
  std::this_thread::sleep_for(milliseconds(1500));
  writer.stop();
  const int64_t last = finalRevision(*writer_client, keys);
  ASSERT_GT(last, 0);

  expectExactState(**replica, *client, keys, writer, last);
  EXPECT_EQ((*replica)->stats().events, static_cast<uint64_t>(last - start_revision));
  EXPECT_EQ((*replica)->stats().relists, 1u);
  EXPECT_GT(writer.acked(), 10);
}

}  // namespace
}  // namespace loom::replica
