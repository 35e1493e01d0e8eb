// Host liveness: lease-bound host and port-active records, seen through a replica; a killed
// host process's records expire with its lease.

#include "replica/liveness.h"

#include <gtest/gtest.h>

#include "integration/replica/replica_test_util.h"
#include "replica/replica.h"
#include "support/etcd_process.h"

namespace loom::replica {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class LivenessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = testing::connect(testing::sharedEtcd().clientOptions());
    ASSERT_NE(client_, nullptr);
    auto replica = Replica::start(*client_, {.root = root_, .track_progress = true});
    ASSERT_TRUE(replica.ok()) << replica.status().toString();
    replica_ = std::move(*replica);
  }

  StatusOr<std::unique_ptr<HostRegistration>> registerHost(const std::string& id, int64_t ttl = 5) {
    v1::HostLiveness info;
    info.set_host_id(id);
    info.set_tunnel_address("192.0.2.1");
    return HostRegistration::start(*client_, info, {.root = root_, .ttl_seconds = ttl});
  }

  std::optional<v1::HostLiveness> liveHost(const std::string& id) const {
    for (const v1::HostLiveness& host : replica_->liveHosts()) {
      if (host.host_id() == id) return host;
    }
    return std::nullopt;
  }

  // The records in etcd itself: the host record carries no revision, its progress record does.
  std::optional<v1::HostLiveness> storedHost(const std::string& id) const {
    auto range = client_->range(keys_.liveHost(id), {});
    if (!range.ok() || range->kvs.empty()) return std::nullopt;
    v1::HostLiveness host;
    if (!host.ParseFromString(range->kvs[0].value)) return std::nullopt;
    EXPECT_EQ(host.applied_revision(), 0);
    return host;
  }
  std::optional<int64_t> storedProgress(const std::string& id) const {
    auto range = client_->range(keys_.progress(id), {});
    if (!range.ok() || range->kvs.empty()) return std::nullopt;
    v1::HostProgress progress;
    if (!progress.ParseFromString(range->kvs[0].value)) return std::nullopt;
    return progress.applied_revision();
  }

  const std::string root_ = testing::uniqueRoot();
  const store::Keys keys_{root_};
  std::unique_ptr<etcd::EtcdClient> client_;
  std::unique_ptr<Replica> replica_;
};

TEST_F(LivenessTest, RegistrationIsVisibleWithItsLeaseAndAppliedRevision) {
  auto registration = registerHost("h1");
  ASSERT_TRUE(registration.ok()) << registration.status().toString();
  auto stored = storedHost("h1");
  ASSERT_TRUE(stored.has_value());  // Written before start() returns.
  EXPECT_EQ(stored->tunnel_address(), "192.0.2.1");
  EXPECT_GT(stored->started_unix_ms(), 0u);
  auto range = client_->range(keys_.liveHost("h1"), {});
  ASSERT_TRUE(range.ok() && range->kvs.size() == 1);
  EXPECT_EQ(range->kvs[0].lease, (*registration)->leaseId());

  const int64_t applied = replica_->appliedRevision();
  (*registration)->reportApplied(applied);
  ASSERT_TRUE(replica_->waitUntil(
      [&] {
        auto host = liveHost("h1");
        return host && host->applied_revision() == applied;
      },
      seconds(5)));
  // The registration learns its put succeeded when the reply arrives, which may be after the
  // replica saw the change.
  const auto deadline = std::chrono::steady_clock::now() + seconds(5);
  while ((*registration)->reportedRevision() != applied &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(2));
  }
  EXPECT_EQ((*registration)->reportedRevision(), applied);
  EXPECT_EQ(storedProgress("h1"), applied);
}

TEST_F(LivenessTest, ReportsAreCoalescedAndTheNewestWins) {
  auto registration = registerHost("h1");
  ASSERT_TRUE(registration.ok());
  auto before = client_->range(keys_.all(), {.range_end = etcd::prefixEnd(keys_.all())});
  ASSERT_TRUE(before.ok());
  for (int64_t rev = 1; rev <= 2000; ++rev) (*registration)->reportApplied(rev);
  (*registration)->reportApplied(5);  // Older: ignored.
  const auto deadline = std::chrono::steady_clock::now() + seconds(5);
  while ((*registration)->reportedRevision() != 2000 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_EQ((*registration)->reportedRevision(), 2000);
  EXPECT_EQ(storedProgress("h1"), 2000);
  auto after = client_->range(keys_.all(), {.range_end = etcd::prefixEnd(keys_.all())});
  ASSERT_TRUE(after.ok());
  // Far fewer puts than reports (each put is one revision).
  EXPECT_LT(after->revision - before->revision, 200);
}

TEST_F(LivenessTest, PortActiveAppearsAndDisappears) {
  auto registration = registerHost("h1");
  ASSERT_TRUE(registration.ok());
  ASSERT_TRUE((*registration)->setPortActive("p1", "tap-p1").ok());
  ASSERT_TRUE(
      replica_->waitUntil([&] { return replica_->portActive("p1").has_value(); }, seconds(5)));
  const v1::PortActive port = *replica_->portActive("p1");
  EXPECT_EQ(port.host_id(), "h1");
  EXPECT_EQ(port.interface_name(), "tap-p1");
  auto range = client_->range(keys_.livePort("p1"), {});
  ASSERT_TRUE(range.ok() && range->kvs.size() == 1);
  EXPECT_EQ(range->kvs[0].lease, (*registration)->leaseId());

  ASSERT_TRUE((*registration)->clearPortActive("p1").ok());
  ASSERT_TRUE(
      replica_->waitUntil([&] { return !replica_->portActive("p1").has_value(); }, seconds(5)));
  EXPECT_TRUE(replica_->activePorts().empty());
}

TEST_F(LivenessTest, DestroyingTheRegistrationRemovesItsRecordsAtOnce) {
  auto registration = registerHost("h1");
  ASSERT_TRUE(registration.ok());
  ASSERT_TRUE((*registration)->setPortActive("p1", "tap-p1").ok());
  ASSERT_TRUE(replica_->waitUntil([&] { return liveHost("h1") && replica_->portActive("p1"); },
                                  seconds(5)));
  const auto start = std::chrono::steady_clock::now();
  registration->reset();
  ASSERT_TRUE(replica_->waitUntil([&] { return !liveHost("h1") && !replica_->portActive("p1"); },
                                  seconds(2)));
  // Revocation, not expiry (the TTL is 5 s).
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(1));
}

TEST_F(LivenessTest, AbandonedRegistrationExpiresAfterItsTtl) {
  auto registration = registerHost("h1", /*ttl=*/2);
  ASSERT_TRUE(registration.ok());
  ASSERT_TRUE(replica_->waitUntil([&] { return liveHost("h1").has_value(); }, seconds(5)));
  const auto start = std::chrono::steady_clock::now();
  (*registration)->abandon();
  registration->reset();  // Does not revoke after abandon().
  EXPECT_TRUE(liveHost("h1").has_value());
  ASSERT_TRUE(replica_->waitUntil([&] { return !liveHost("h1"); }, seconds(5)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(1500));
}

TEST_F(LivenessTest, LostLeaseIsReplacedAndEveryRecordWrittenAgain) {
  auto registration = registerHost("h1", /*ttl=*/2);
  ASSERT_TRUE(registration.ok());
  ASSERT_TRUE((*registration)->setPortActive("p1", "tap-p1").ok());
  const int64_t applied = replica_->appliedRevision();
  (*registration)->reportApplied(applied);
  const int64_t lost = (*registration)->leaseId();
  // As if etcd forgot the lease (or this process was frozen past the TTL).
  ASSERT_TRUE(client_->leaseRevoke(lost).ok());
  ASSERT_TRUE(replica_->waitUntil(
      [&] {
        auto host = liveHost("h1");
        auto port = replica_->portActive("p1");
        return host && port && host->applied_revision() == applied &&
               (*registration)->leaseId() != lost;
      },
      seconds(5)));
  auto range = client_->range(keys_.livePort("p1"), {});
  ASSERT_TRUE(range.ok() && range->kvs.size() == 1);
  EXPECT_EQ(range->kvs[0].lease, (*registration)->leaseId());
}

// The stand-in host process (test/tools/replica_host.cc).
class ReplicaHostProcessTest : public LivenessTest {
 protected:
  std::unique_ptr<testing::ChildProcess> spawnHost(const std::string& id, int ttl,
                                                   std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {LOOM_REPLICA_HOST_BIN,
                                     "--endpoints",
                                     testing::sharedEtcd().endpoints()[0],
                                     "--root",
                                     root_,
                                     "--host-id",
                                     id,
                                     "--ttl",
                                     std::to_string(ttl)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto child = testing::ChildProcess::spawn(argv);
    if (!child) return nullptr;
    auto line = child->readLine(seconds(10));
    if (!line || line->rfind("ready ", 0) != 0) return nullptr;
    return child;
  }
};

TEST_F(ReplicaHostProcessTest, KilledHostsRecordsExpireWithinTheTtl) {
  constexpr int kTtl = 2;
  auto host = spawnHost("killed", kTtl, {"--port-active", "p1,p2"});
  ASSERT_NE(host, nullptr);
  ASSERT_TRUE(replica_->waitUntil(
      [&] {
        return liveHost("killed") && replica_->portActive("p1") && replica_->portActive("p2");
      },
      seconds(5)));
  EXPECT_EQ(replica_->portActive("p1")->host_id(), "killed");

  const auto start = std::chrono::steady_clock::now();
  host->signal(SIGKILL);
  ASSERT_TRUE(replica_->waitUntil(
      [&] {
        return !liveHost("killed") && !replica_->portActive("p1") && !replica_->portActive("p2");
      },
      seconds(kTtl + 5)));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LE(elapsed, seconds(kTtl + 3));
  EXPECT_GE(elapsed, milliseconds(kTtl * 1000 / 2));  // Expired, not revoked.
  EXPECT_FALSE(client_->range(keys_.liveHost("killed"), {})->kvs.size() > 0);
  EXPECT_FALSE(client_->range(keys_.livePort("p1"), {})->kvs.size() > 0);
}

TEST_F(ReplicaHostProcessTest, TerminatedHostRevokesAndExitsCleanly) {
  auto host = spawnHost("terminated", 10, {"--port-active", "p1"});
  ASSERT_NE(host, nullptr);
  ASSERT_TRUE(replica_->waitUntil([&] { return liveHost("terminated").has_value(); }, seconds(5)));
  const auto start = std::chrono::steady_clock::now();
  host->signal(SIGTERM);
  const int status = host->wait(seconds(10));
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  ASSERT_TRUE(replica_->waitUntil(
      [&] { return !liveHost("terminated") && !replica_->portActive("p1"); }, seconds(5)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5));
}

TEST_F(ReplicaHostProcessTest, HostReportsEveryTopologyChangeItApplies) {
  auto host = spawnHost("reporter", 5, {"--print-revisions"});
  ASSERT_NE(host, nullptr);
  const std::string id = Uuid::random().toString();
  auto put = client_->put(keys_.object(store::Kind::Bridge, id),
                          store::encodeObject(testing::bridgeObject(id, "b")));
  ASSERT_TRUE(put.ok());
  // The host prints the write's revision once applied, then reports it through its record.
  bool printed = false;
  while (auto line = host->readLine(seconds(5))) {
    // "applied <revision> <steady-clock ns>".
    if (line->rfind("applied " + std::to_string(*put) + " ", 0) == 0) {
      printed = true;
      break;
    }
  }
  EXPECT_TRUE(printed);
  ASSERT_TRUE(replica_->waitUntil(
      [&] {
        auto record = liveHost("reporter");
        return record && record->applied_revision() >= *put;
      },
      seconds(5)));
}

}  // namespace
}  // namespace loom::replica
