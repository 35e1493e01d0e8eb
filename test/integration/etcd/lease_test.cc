// Leases against a real etcd: grant, keep-alive, revoke, and LeaseKeeper's keep-alive loop,
// release and re-grant after the lease was lost.

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <vector>

#include "etcd/client.h"
#include "etcd/lease.h"
#include "integration/etcd/etcd_test_util.h"
#include "support/etcd_process.h"

namespace loom::etcd {
namespace {

using namespace std::chrono_literals;
using loom::testing::sharedEtcd;
using loom::testing::uniqueRoot;
using testutil::Clock;
using testutil::waitFor;

class EtcdLeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = testutil::mustClient(sharedEtcd().clientOptions());
    ASSERT_NE(client_, nullptr);
    root_ = uniqueRoot();
  }
  bool exists(const std::string& key) {
    auto r = client_->range(key, {});
    return r.ok() && !r->kvs.empty();
  }
  int64_t leaseOf(const std::string& key) {
    auto r = client_->range(key, {});
    return r.ok() && !r->kvs.empty() ? r->kvs[0].lease : 0;
  }
  std::unique_ptr<EtcdClient> client_;
  std::string root_;
};

TEST_F(EtcdLeaseTest, KeepAliveOnceRenewsAGrantedLease) {
  auto grant = client_->leaseGrant(5);
  ASSERT_TRUE(grant.ok()) << grant.status().toString();
  EXPECT_NE(grant->id, 0);
  EXPECT_GE(grant->ttl_seconds, 5);
  auto ttl = client_->leaseKeepAliveOnce(grant->id);
  ASSERT_TRUE(ttl.ok()) << ttl.status().toString();
  EXPECT_GE(*ttl, 4);
  EXPECT_TRUE(client_->leaseRevoke(grant->id).ok());
  EXPECT_EQ(client_->leaseKeepAliveOnce(grant->id).status().code(), StatusCode::NotFound);
}

TEST_F(EtcdLeaseTest, RevokeDeletesTheLeasesKeysAtOnce) {
  auto grant = client_->leaseGrant(30);
  ASSERT_TRUE(grant.ok());
  ASSERT_TRUE(client_->put(root_ + "/a", "x", grant->id).ok());
  ASSERT_TRUE(client_->put(root_ + "/b", "x", grant->id).ok());
  EXPECT_EQ(leaseOf(root_ + "/a"), grant->id);
  ASSERT_TRUE(client_->leaseRevoke(grant->id).ok());
  EXPECT_FALSE(exists(root_ + "/a"));
  EXPECT_FALSE(exists(root_ + "/b"));
}

TEST_F(EtcdLeaseTest, KeeperKeepsTheKeyAlivePastItsTtl) {
  LeaseOptions o;
  o.ttl_seconds = 1;
  auto keeper = LeaseKeeper::start(*client_, o);
  ASSERT_TRUE(keeper.ok()) << keeper.status().toString();
  const int64_t id = (*keeper)->leaseId();
  ASSERT_TRUE(client_->put(root_ + "/alive", "x", id).ok());
  std::this_thread::sleep_for(2500ms);  // Well past the TTL the server granted (1-2 s).
  EXPECT_TRUE(exists(root_ + "/alive"));
  EXPECT_EQ((*keeper)->leaseId(), id);
}

TEST_F(EtcdLeaseTest, DestroyingTheKeeperRevokesTheLeaseAtOnce) {
  LeaseOptions o;
  o.ttl_seconds = 30;
  auto keeper = LeaseKeeper::start(*client_, o);
  ASSERT_TRUE(keeper.ok());
  const int64_t id = (*keeper)->leaseId();
  ASSERT_TRUE(client_->put(root_ + "/k", "x", id).ok());
  const auto start = Clock::now();
  keeper->reset();
  EXPECT_LT(Clock::now() - start, 500ms) << "the keeper's thread did not stop promptly";
  EXPECT_FALSE(exists(root_ + "/k"));
  EXPECT_EQ(client_->leaseKeepAliveOnce(id).status().code(), StatusCode::NotFound);
}

TEST_F(EtcdLeaseTest, ReleasedKeeperLetsTheKeyExpireAfterTheTtl) {
  LeaseOptions o;
  o.ttl_seconds = 1;
  auto keeper = LeaseKeeper::start(*client_, o);
  ASSERT_TRUE(keeper.ok());
  auto granted = client_->leaseKeepAliveOnce((*keeper)->leaseId());
  ASSERT_TRUE(granted.ok());
  ASSERT_TRUE(client_->put(root_ + "/k", "x", (*keeper)->leaseId()).ok());
  (*keeper)->release();
  keeper->reset();  // Must not revoke.
  EXPECT_TRUE(exists(root_ + "/k"));
  const auto start = Clock::now();
  EXPECT_TRUE(waitFor([&] { return !exists(root_ + "/k"); }, std::chrono::seconds(*granted + 2)));
  EXPECT_GT(Clock::now() - start, 300ms) << "expired too early: was it revoked?";
}

TEST_F(EtcdLeaseTest, LostLeaseIsRegrantedAndTheOwnerRewritesItsKeys) {
  std::mutex mu;
  std::vector<int64_t> leases;
  LeaseOptions o;
  o.ttl_seconds = 2;
  const std::string key = root_ + "/alive";
  o.on_new_lease = [&](int64_t id) {
    {
      std::lock_guard<std::mutex> lock(mu);
      leases.push_back(id);
    }
    EXPECT_TRUE(client_->put(key, "x", id).ok());
  };
  auto keeper = LeaseKeeper::start(*client_, o);
  ASSERT_TRUE(keeper.ok());
  const int64_t first = (*keeper)->leaseId();
  {
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_EQ(leases, std::vector<int64_t>{first});  // Called before start() returned.
  }
  EXPECT_EQ(leaseOf(key), first);

  std::this_thread::sleep_for(900ms);  // The keep-alive loop is in its steady state.
  EXPECT_EQ((*keeper)->leaseId(), first);
  // Another client makes etcd forget the lease (as if this process had been frozen past the TTL).
  auto other = testutil::mustClient(sharedEtcd().clientOptions());
  ASSERT_TRUE(other->leaseRevoke(first).ok());
  EXPECT_FALSE(exists(key));

  ASSERT_TRUE(waitFor([&] { return leaseOf(key) != 0; }, 3s)) << "the key was not re-put";
  const int64_t second = (*keeper)->leaseId();
  EXPECT_NE(second, first);
  EXPECT_EQ(leaseOf(key), second);
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(leases, (std::vector<int64_t>{first, second}));
  }
  // The new lease is kept alive too.
  auto ttl = client_->leaseKeepAliveOnce(second);
  ASSERT_TRUE(ttl.ok());
}

TEST(EtcdLeaseRestartTest, KeeperReconnectsAfterEtcdRestartsAndTheKeySurvives) {
  auto cluster = loom::testing::EtcdCluster::start(1);
  ASSERT_NE(cluster, nullptr);
  ClientOptions co = cluster->clientOptions();
  co.call_timeout = 500ms;
  auto client = testutil::mustClient(co);
  ASSERT_NE(client, nullptr);
  std::atomic<int> grants{0};
  LeaseOptions o;
  o.ttl_seconds = 2;
  const std::string key = uniqueRoot() + "/alive";
  o.on_new_lease = [&](int64_t id) {
    ++grants;
    EXPECT_TRUE(client->put(key, "x", id).ok());
  };
  auto keeper = LeaseKeeper::start(*client, o);
  ASSERT_TRUE(keeper.ok()) << keeper.status().toString();
  cluster->member(0).kill();
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(cluster->member(0).restart());
  // etcd restores the lease with a fresh TTL; the keeper's stream must come back to keep it.
  std::this_thread::sleep_for(3500ms);
  auto kv = client->range(key, {});
  ASSERT_TRUE(kv.ok()) << kv.status().toString();
  ASSERT_EQ(kv->kvs.size(), 1u) << "the lease expired: the keep-alive stream did not reconnect";
  EXPECT_EQ(kv->kvs[0].lease, (*keeper)->leaseId());
  EXPECT_EQ(grants.load(), 1) << "the lease should have survived the restart";
}

TEST_F(EtcdLeaseTest, KeeperRefusesANonPositiveTtl) {
  LeaseOptions o;
  o.ttl_seconds = 0;
  EXPECT_EQ(LeaseKeeper::start(*client_, o).status().code(), StatusCode::InvalidArgument);
}

}  // namespace
}  // namespace loom::etcd
