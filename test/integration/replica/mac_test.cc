// Learned MACs: lease-bound live/mac records published by HostRegistration and followed by every
// replica; a MAC that moves is owned by its last writer; a dead host's MACs expire with its
// lease; malformed keys and values are skipped and counted.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <functional>

#include "integration/replica/replica_test_util.h"
#include "replica/liveness.h"
#include "replica/replica.h"
#include "support/etcd_process.h"

namespace loom::replica {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kBridge[] = "b0c5d3a8-6a34-4c2e-9d0e-7f1f0c2b3a41";
constexpr char kMac[] = "02:00:00:00:00:01";

v1::LearnedMac learned(const std::string& mac, const std::string& port, uint32_t vlan = 0,
                       const std::string& bridge = kBridge) {
  v1::LearnedMac record;
  record.set_bridge_id(bridge);
  record.set_vlan(vlan);
  record.set_mac(mac);
  record.set_port_id(port);
  return record;
}

class LearnedMacTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = testing::connect(testing::sharedEtcd().clientOptions());
    ASSERT_NE(client_, nullptr);
    // An agent's replica: no progress tracking.
    auto replica = Replica::start(*client_, {.root = root_});
    ASSERT_TRUE(replica.ok()) << replica.status().toString();
    replica_ = std::move(*replica);
  }

  std::unique_ptr<HostRegistration> registerHost(const std::string& id, int64_t ttl = 5,
                                                 const Replica* replica = nullptr) {
    v1::HostLiveness info;
    info.set_host_id(id);
    auto registration = HostRegistration::start(
        *client_, info, {.root = root_, .ttl_seconds = ttl, .replica = replica});
    EXPECT_TRUE(registration.ok()) << registration.status().toString();
    return registration.ok() ? std::move(*registration) : nullptr;
  }

  // The record in etcd itself.
  std::optional<etcd::KeyValue> stored(const std::string& mac, uint32_t vlan = 0) const {
    auto range = client_->range(keys_.liveMac(kBridge, vlan, mac), {});
    if (!range.ok() || range->kvs.empty()) return std::nullopt;
    return range->kvs[0];
  }
  std::string storedHost(const std::string& mac) const {
    auto kv = stored(mac);
    v1::LearnedMac record;
    if (!kv || !record.ParseFromString(kv->value)) return "";
    return record.host_id();
  }

  // Whether `replica` shows `mac` on `port` (of `host`); an empty port: shows no record.
  static bool shows(const Replica& replica, const std::string& mac, const std::string& port,
                    const std::string& host = "") {
    auto record = replica.learnedMac(kBridge, 0, mac);
    if (port.empty()) return !record.has_value();
    return record && record->port_id() == port && (host.empty() || record->host_id() == host);
  }
  bool waitShows(const std::string& mac, const std::string& port, const std::string& host = "",
                 seconds timeout = seconds(5)) const {
    return replica_->waitUntil([&] { return shows(*replica_, mac, port, host); }, timeout);
  }

  const std::string root_ = testing::uniqueRoot();
  const store::Keys keys_{root_};
  std::unique_ptr<etcd::EtcdClient> client_;
  std::unique_ptr<Replica> replica_;
};

TEST(LearnedMacKeysTest, KeyLayoutAndParsing) {
  const store::Keys keys("/loom");
  EXPECT_EQ(keys.liveMacs(), "/loom/v1/live/mac/");
  EXPECT_EQ(keys.liveMac("b1", 0, "02:00:00:00:00:01"), "/loom/v1/live/mac/b1/0/020000000001");
  EXPECT_EQ(keys.liveMac("b1", 4095, "AA-BB-CC-DD-EE-FF"),
            "/loom/v1/live/mac/b1/4095/aabbccddeeff");
  EXPECT_EQ(keys.liveMac("b1", 7, "AABBCCDDEEFF"), "/loom/v1/live/mac/b1/7/aabbccddeeff");
  EXPECT_EQ(keys.liveMac("b1", 0, "02:00:00:00:00"), "");
  EXPECT_EQ(store::canonicalMac("AA:bb:CC:dd:EE:ff"), "aa:bb:cc:dd:ee:ff");
  EXPECT_FALSE(store::canonicalMac("aa:bb-cc:dd:ee:ff"));
  EXPECT_FALSE(store::canonicalMac("aa:bb:cc:dd:ee:fg"));
  EXPECT_FALSE(store::canonicalMac(""));

  auto parsed = keys.parseLiveMac(keys.liveMac("b1", 4095, "aa:bb:cc:dd:ee:ff"));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->bridge_id, "b1");
  EXPECT_EQ(parsed->vlan, 4095u);
  EXPECT_EQ(parsed->mac, "aa:bb:cc:dd:ee:ff");
  EXPECT_TRUE(keys.parseLiveMac("/loom/v1/live/mac/b1/4294967295/020000000001"));
  for (const char* bad : {
           "/loom/v1/live/mac/b1/0/02000000000",            // 11 digits
           "/loom/v1/live/mac/b1/0/0200000000011",          // 13 digits
           "/loom/v1/live/mac/b1/0/02000000000G",           // not hex
           "/loom/v1/live/mac/b1/0/02000000000A",           // upper case: not the canonical key
           "/loom/v1/live/mac/b1/0/02:00:00:00:00:01",      // separators
           "/loom/v1/live/mac/b1/00/020000000001",          // leading zero
           "/loom/v1/live/mac/b1/-1/020000000001",          // sign
           "/loom/v1/live/mac/b1/4294967296/020000000001",  // > uint32
           "/loom/v1/live/mac/b1//020000000001",            // empty vlan
           "/loom/v1/live/mac//0/020000000001",             // empty bridge
           "/loom/v1/live/mac/b1/0/020000000001/x",         // extra segment
           "/loom/v1/live/mac/b1/020000000001",             // no vlan
           "/loom/v1/live/mac/b1",
           "/loom/v1/live/mac/",
           "/loom/v1/live/port/020000000001",
           "/other/v1/live/mac/b1/0/020000000001",
       }) {
    EXPECT_FALSE(keys.parseLiveMac(bad)) << bad;
  }
  // live/mac/ sorts inside the agents' range, [live/, end of obj/).
  const store::Keys::Range range = keys.replicaRange(false);
  EXPECT_GE(keys.liveMacs(), range.key);
  EXPECT_LT(keys.liveMacs(), range.end);
}

TEST_F(LearnedMacTest, PublishedMacIsSeenByEveryReplicaThroughTheRevisionCallback) {
  auto second = Replica::start(*client_, {.root = root_, .track_progress = true});
  ASSERT_TRUE(second.ok());
  std::atomic<int64_t> notified{0};
  replica_->subscribeRevision([&](int64_t revision) { notified = revision; });

  auto h1 = registerHost("h1");
  ASSERT_NE(h1, nullptr);
  v1::LearnedMac published = learned("02:00:00:00:00:0A", "p1", 10);  // Upper case: normalised.
  published.set_host_id("someone else");                              // Overwritten.
  ASSERT_TRUE(h1->publishMac(published).ok());
  auto kv = stored("02:00:00:00:00:0a", 10);
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->lease, h1->leaseId());
  EXPECT_EQ(kv->key, root_ + "/v1/live/mac/" + kBridge + "/10/02000000000a");

  for (Replica* replica : {replica_.get(), second->get()}) {
    ASSERT_TRUE(replica->waitForRevision(kv->mod_revision, seconds(5)));
    auto record = replica->learnedMac(kBridge, 10, "02-00-00-00-00-0A");  // Any form.
    ASSERT_TRUE(record.has_value());
    EXPECT_EQ(record->bridge_id(), kBridge);
    EXPECT_EQ(record->vlan(), 10u);
    EXPECT_EQ(record->mac(), "02:00:00:00:00:0a");
    EXPECT_EQ(record->port_id(), "p1");
    EXPECT_EQ(record->host_id(), "h1");
    EXPECT_FALSE(replica->learnedMac(kBridge, 0, "02:00:00:00:00:0a"));  // Another VLAN.
    EXPECT_FALSE(replica->learnedMac(kBridge, 10, "not a mac"));
    ASSERT_EQ(replica->learnedMacs().size(), 1u);
    EXPECT_EQ(replica->learnedMacs()[0].port_id(), "p1");
  }
  // The callback runs just after the batch is published.
  const auto deadline = std::chrono::steady_clock::now() + seconds(5);
  while (notified.load() < kv->mod_revision && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(2));
  }
  EXPECT_GE(notified.load(), kv->mod_revision);
  EXPECT_EQ(replica_->stats().decode_errors, 0u);

  // Publishing the same record again (in any spelling) writes nothing.
  const int64_t before = client_->range(keys_.all(), {})->revision;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(
        h1->publishMac(learned(i % 2 ? "02:00:00:00:00:0a" : "02000000000A", "p1", 10)).ok());
  }
  EXPECT_EQ(client_->range(keys_.all(), {})->revision, before);
  EXPECT_EQ(stored("02:00:00:00:00:0a", 10)->version, 1);
  // A changed record is written.
  ASSERT_TRUE(h1->publishMac(learned("02:00:00:00:00:0a", "p2", 10)).ok());
  EXPECT_EQ(stored("02:00:00:00:00:0a", 10)->version, 2);
  ASSERT_TRUE(replica_->waitUntil(
      [&] {
        auto record = replica_->learnedMac(kBridge, 10, "02:00:00:00:00:0a");
        return record && record->port_id() == "p2";
      },
      seconds(5)));
}

TEST_F(LearnedMacTest, InvalidRecordsAreRefused) {
  auto h1 = registerHost("h1");
  ASSERT_NE(h1, nullptr);
  EXPECT_EQ(h1->publishMac(learned("02:00:00:00:00", "p1")).code(), StatusCode::InvalidArgument);
  EXPECT_EQ(h1->publishMac(learned(kMac, "")).code(), StatusCode::InvalidArgument);
  EXPECT_EQ(h1->publishMac(learned(kMac, "p1", 0, "")).code(), StatusCode::InvalidArgument);
  EXPECT_EQ(h1->publishMac(learned(kMac, "p1", 0, "a/b")).code(), StatusCode::InvalidArgument);
  EXPECT_EQ(h1->clearMac(kBridge, 0, "zz").code(), StatusCode::InvalidArgument);
  EXPECT_EQ(h1->clearMac("", 0, kMac).code(), StatusCode::InvalidArgument);
  auto listing = client_->listPrefix(keys_.liveMacs());
  ASSERT_TRUE(listing.ok());
  EXPECT_TRUE(listing->kvs.empty());
}

TEST_F(LearnedMacTest, ClearMacRemovesIt) {
  auto h1 = registerHost("h1");
  ASSERT_NE(h1, nullptr);
  ASSERT_TRUE(h1->publishMac(learned(kMac, "p1")).ok());
  ASSERT_TRUE(h1->publishMac(learned("02:00:00:00:00:02", "p1")).ok());
  ASSERT_TRUE(waitShows(kMac, "p1", "h1"));
  ASSERT_TRUE(h1->clearMac(kBridge, 0, "02-00-00-00-00-01").ok());
  EXPECT_FALSE(stored(kMac));
  ASSERT_TRUE(waitShows(kMac, ""));
  ASSERT_EQ(replica_->learnedMacs().size(), 1u);
  EXPECT_EQ(replica_->learnedMacs()[0].mac(), "02:00:00:00:00:02");
  // Clearing what is not there is fine; publishing again writes again.
  ASSERT_TRUE(h1->clearMac(kBridge, 0, kMac).ok());
  ASSERT_TRUE(h1->publishMac(learned(kMac, "p1")).ok());
  ASSERT_TRUE(waitShows(kMac, "p1", "h1"));
}

TEST_F(LearnedMacTest, AMovedMacBelongsToItsLastWriter) {
  // Both follow the replica, so each notices when its record has been replaced.
  auto h1 = registerHost("h1", 5, replica_.get());
  auto h2 = registerHost("h2", 5, replica_.get());
  ASSERT_TRUE(h1 && h2);
  ASSERT_TRUE(h1->publishMac(learned(kMac, "p1")).ok());
  ASSERT_TRUE(waitShows(kMac, "p1", "h1"));

  // The MAC moves to h2: its record (and lease) replace h1's.
  ASSERT_TRUE(h2->publishMac(learned(kMac, "p2")).ok());
  ASSERT_TRUE(waitShows(kMac, "p2", "h2"));
  EXPECT_EQ(stored(kMac)->lease, h2->leaseId());
  ASSERT_EQ(replica_->learnedMacs().size(), 1u);

  // It moves back: h1 has seen h2's record, so its identical publish is written again.
  ASSERT_TRUE(h1->publishMac(learned(kMac, "p1")).ok());
  EXPECT_EQ(storedHost(kMac), "h1");
  ASSERT_TRUE(waitShows(kMac, "p1", "h1"));

  // And away again (h2 has seen h1's record); h1 ageing its entry out must not delete h2's.
  ASSERT_TRUE(h2->publishMac(learned(kMac, "p2")).ok());
  EXPECT_EQ(storedHost(kMac), "h2");
  ASSERT_TRUE(h1->clearMac(kBridge, 0, kMac).ok());
  EXPECT_EQ(storedHost(kMac), "h2");
  ASSERT_TRUE(waitShows(kMac, "p2", "h2"));
  // Nor does h1's death.
  h1.reset();
  EXPECT_EQ(storedHost(kMac), "h2");
  ASSERT_TRUE(h2->clearMac(kBridge, 0, kMac).ok());
  ASSERT_TRUE(waitShows(kMac, ""));
}

TEST_F(LearnedMacTest, AbandonedHostsMacsExpireAfterItsTtl) {
  auto h1 = registerHost("h1", /*ttl=*/2);
  ASSERT_NE(h1, nullptr);
  ASSERT_TRUE(h1->publishMac(learned(kMac, "p1")).ok());
  ASSERT_TRUE(h1->publishMac(learned("02:00:00:00:00:02", "p1", 5)).ok());
  ASSERT_TRUE(replica_->waitUntil([&] { return replica_->learnedMacs().size() == 2; }, seconds(5)));
  const auto start = std::chrono::steady_clock::now();
  h1->abandon();
  h1.reset();  // Does not revoke after abandon().
  EXPECT_EQ(replica_->learnedMacs().size(), 2u);
  ASSERT_TRUE(replica_->waitUntil([&] { return replica_->learnedMacs().empty(); }, seconds(6)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(1500));
}

TEST_F(LearnedMacTest, LostLeaseIsReplacedAndTheMacsWrittenAgain) {
  auto h1 = registerHost("h1", /*ttl=*/2);
  auto h2 = registerHost("h2");
  ASSERT_TRUE(h1 && h2);
  constexpr int kMacs = 150;  // More than one transaction's worth.
  std::vector<std::string> macs;
  for (int i = 0; i < kMacs; ++i) {
    char mac[18];
    std::snprintf(mac, sizeof mac, "02:00:00:00:%02x:%02x", i / 256, i % 256);
    macs.emplace_back(mac);
    ASSERT_TRUE(h1->publishMac(learned(mac, "p1")).ok());
  }
  // One of them has moved to h2 (its key is now bound to h2's lease).
  const std::string moved = macs[kMacs / 2];
  ASSERT_TRUE(h2->publishMac(learned(moved, "p2")).ok());
  ASSERT_TRUE(replica_->waitUntil(
      [&] { return replica_->learnedMacs().size() == kMacs && shows(*replica_, moved, "p2"); },
      seconds(5)));

  const int64_t lost = h1->leaseId();
  // As if etcd forgot the lease (or h1 was frozen past its TTL).
  ASSERT_TRUE(client_->leaseRevoke(lost).ok());
  ASSERT_TRUE(replica_->waitUntil([&] { return h1->leaseId() != lost; }, seconds(5)));
  ASSERT_TRUE(replica_->waitUntil(
      [&] {
        for (const std::string& mac : macs) {
          if (mac != moved && !shows(*replica_, mac, "p1", "h1")) return false;
        }
        return true;
      },
      seconds(5)));
  for (const std::string& mac : macs) {
    auto kv = stored(mac);
    ASSERT_TRUE(kv.has_value()) << mac;
    EXPECT_EQ(kv->lease, mac == moved ? h2->leaseId() : h1->leaseId()) << mac;
  }
  // h1 did not write its stale record over h2's newer one, and has forgotten that MAC: once h2
  // clears it, another re-grant of h1's lease does not bring it back.
  EXPECT_TRUE(shows(*replica_, moved, "p2", "h2"));
  ASSERT_TRUE(h2->clearMac(kBridge, 0, moved).ok());
  const int64_t lost_again = h1->leaseId();
  ASSERT_TRUE(client_->leaseRevoke(lost_again).ok());
  ASSERT_TRUE(replica_->waitUntil(
      [&] {
        return h1->leaseId() != lost_again && replica_->learnedMacs().size() == kMacs - 1 &&
               stored(macs[0]) && stored(macs[0])->lease == h1->leaseId();
      },
      seconds(5)));
  EXPECT_FALSE(stored(moved));
  EXPECT_EQ(replica_->stats().decode_errors, 0u);
}

TEST_F(LearnedMacTest, MalformedKeysAndValuesAreSkippedAndCounted) {
  auto h1 = registerHost("h1");
  ASSERT_NE(h1, nullptr);
  ASSERT_TRUE(h1->publishMac(learned(kMac, "p1")).ok());
  ASSERT_TRUE(waitShows(kMac, "p1", "h1"));

  const std::string macs = keys_.liveMacs();
  const std::string good_key = keys_.liveMac(kBridge, 0, kMac);
  v1::LearnedMac valid = learned("02:00:00:00:00:02", "p9");
  valid.set_host_id("h9");
  v1::LearnedMac other_mac = valid;  // Disagrees with the key it is written under.
  v1::LearnedMac no_port = learned("02:00:00:00:00:03", "");
  no_port.set_host_id("h9");
  v1::LearnedMac no_host = learned("02:00:00:00:00:04", "p9");
  const std::vector<std::pair<std::string, std::string>> bad = {
      {macs + kBridge + "/0/02000000000G", valid.SerializeAsString()},
      {macs + kBridge + "/00/020000000002", valid.SerializeAsString()},
      {macs + kBridge + "/0/02:00:00:00:00:02", valid.SerializeAsString()},
      {macs + kBridge + "/0", valid.SerializeAsString()},
      {macs + kBridge + "/0/020000000002/x", valid.SerializeAsString()},
      {macs + "garbage", "garbage"},
      {keys_.liveMac(kBridge, 0, "02:00:00:00:00:05"), other_mac.SerializeAsString()},
      {keys_.liveMac(kBridge, 7, "02:00:00:00:00:02"), valid.SerializeAsString()},  // VLAN.
      {keys_.liveMac(kBridge, 0, "02:00:00:00:00:03"), no_port.SerializeAsString()},
      {keys_.liveMac(kBridge, 0, "02:00:00:00:00:04"), no_host.SerializeAsString()},
      {keys_.liveMac(kBridge, 0, "02:00:00:00:00:06"), "\xff\xff not a protobuf"},
      // A valid record replaced by garbage is removed.
      {good_key, "\xff\xff not a protobuf"},
  };
  for (const auto& [key, value] : bad) ASSERT_TRUE(client_->put(key, value).ok()) << key;
  // And one valid record written directly is accepted.
  auto put =
      client_->put(keys_.liveMac(kBridge, 0, "02:00:00:00:00:02"), valid.SerializeAsString());
  ASSERT_TRUE(put.ok());
  ASSERT_TRUE(replica_->waitForRevision(*put, seconds(5)));
  EXPECT_EQ(replica_->stats().decode_errors, bad.size());
  ASSERT_EQ(replica_->learnedMacs().size(), 1u);
  EXPECT_EQ(replica_->learnedMacs()[0].port_id(), "p9");
  EXPECT_FALSE(replica_->learnedMac(kBridge, 0, kMac));

  // Deleting a malformed key is not an error; a fresh replica lists and skips the same way.
  ASSERT_TRUE(client_->deleteRange(macs + "garbage").ok());
  auto fresh = Replica::start(*client_, {.root = root_});
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ((*fresh)->stats().decode_errors, bad.size() - 1);  // Less the deleted one.
  ASSERT_EQ((*fresh)->learnedMacs().size(), 1u);
  EXPECT_EQ((*fresh)->learnedMacs()[0].host_id(), "h9");
}

// Retries a write while the cluster elects a leader.
bool eventually(const std::function<Status()>& write) {
  const auto deadline = std::chrono::steady_clock::now() + seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (write().ok()) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return false;
}

// A compaction makes the replica re-list; the listing replaces the learned MACs wholesale
// (same scenario as ReplicaFaultTest.CompactedResumeRevisionMakesTheReplicaRelist).
TEST(LearnedMacFaultTest, RelistAfterCompactionSwapsTheLearnedMacs) {
  auto cluster = testing::EtcdCluster::start(3);
  ASSERT_NE(cluster, nullptr);
  const std::string root = testing::uniqueRoot();
  const store::Keys keys(root);
  etcd::ClientOptions replica_options = cluster->clientOptions();
  replica_options.call_timeout = milliseconds(500);
  replica_options.endpoints = {cluster->member(2).clientEndpoint()};
  etcd::ClientOptions writer_options = cluster->clientOptions();
  writer_options.call_timeout = milliseconds(500);
  writer_options.endpoints = {cluster->member(0).clientEndpoint(),
                              cluster->member(1).clientEndpoint()};
  auto client = testing::connect(replica_options);
  auto writer_client = testing::connect(writer_options);
  ASSERT_TRUE(client && writer_client);

  v1::HostLiveness info;
  info.set_host_id("h1");
  auto h1 = HostRegistration::start(*writer_client, info, {.root = root, .ttl_seconds = 10});
  ASSERT_TRUE(h1.ok()) << h1.status().toString();
  ASSERT_TRUE((*h1)->publishMac(learned("02:00:00:00:00:01", "p1")).ok());
  ASSERT_TRUE((*h1)->publishMac(learned("02:00:00:00:00:02", "p1")).ok());
  auto replica = Replica::start(*client, {.root = root});
  ASSERT_TRUE(replica.ok()) << replica.status().toString();
  ASSERT_EQ((*replica)->learnedMacs().size(), 2u);

  // The replica's member goes away; meanwhile the MACs change and the history is compacted.
  cluster->member(2).kill();
  HostRegistration& reg = **h1;
  ASSERT_TRUE(eventually([&] { return reg.clearMac(kBridge, 0, "02:00:00:00:00:01"); }));
  ASSERT_TRUE(eventually([&] { return reg.publishMac(learned("02:00:00:00:00:02", "p2")); }));
  ASSERT_TRUE(eventually([&] { return reg.publishMac(learned("02:00:00:00:00:03", "p3")); }));
  const std::string id = Uuid::random().toString();
  const int64_t compact_at =
      testing::putAcknowledged(*writer_client, keys.object(store::Kind::Bridge, id),
                               store::encodeObject(testing::bridgeObject(id, "marker")));
  ASSERT_GT(compact_at, 0);
  ASSERT_TRUE(writer_client->compact(compact_at).ok());
  ASSERT_TRUE(cluster->member(2).restart());

  ASSERT_TRUE((*replica)->waitForRevision(compact_at, seconds(15)));
  EXPECT_EQ((*replica)->stats().relists, 2u);
  const std::vector<v1::LearnedMac> macs = (*replica)->learnedMacs();
  ASSERT_EQ(macs.size(), 2u);
  EXPECT_EQ(macs[0].mac(), "02:00:00:00:00:02");
  EXPECT_EQ(macs[0].port_id(), "p2");
  EXPECT_EQ(macs[1].mac(), "02:00:00:00:00:03");
  EXPECT_EQ(macs[1].port_id(), "p3");
  EXPECT_FALSE((*replica)->learnedMac(kBridge, 0, "02:00:00:00:00:01"));
}

}  // namespace
}  // namespace loom::replica
