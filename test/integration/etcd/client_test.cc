// EtcdClient against a real etcd: KV, paging at one revision, transactions and their limits,
// error mapping, deadlines.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "etcd/client.h"
#include "integration/etcd/etcd_test_util.h"
#include "support/etcd_process.h"

namespace loom::etcd {
namespace {

using namespace std::chrono_literals;
using loom::testing::sharedEtcd;
using loom::testing::uniqueRoot;
using testutil::Clock;

class EtcdClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = testutil::mustClient(sharedEtcd().clientOptions());
    ASSERT_NE(client_, nullptr);
    root_ = uniqueRoot();
  }
  int64_t put(const std::string& key, const std::string& value) {
    auto rev = client_->put(key, value);
    EXPECT_TRUE(rev.ok()) << rev.status().toString();
    return rev.ok() ? *rev : 0;
  }
  std::unique_ptr<EtcdClient> client_;
  std::string root_;
};

TEST(PrefixEndTest, IncrementsTheLastByteAndDropsTrailingFf) {
  EXPECT_EQ(prefixEnd("/a/"), "/a0");
  EXPECT_EQ(prefixEnd("ab"), "ac");
  EXPECT_EQ(prefixEnd(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefixEnd(""), std::string(1, '\0'));
}

TEST_F(EtcdClientTest, PutThenRangeReturnsValueAndRevisions) {
  const std::string key = root_ + "/a";
  int64_t r1 = put(key, "v1");
  int64_t r2 = put(key, "v2");
  EXPECT_GT(r2, r1);
  auto got = client_->range(key, {});
  ASSERT_TRUE(got.ok()) << got.status().toString();
  ASSERT_EQ(got->kvs.size(), 1u);
  EXPECT_EQ(got->kvs[0].value, "v2");
  EXPECT_EQ(got->kvs[0].create_revision, r1);
  EXPECT_EQ(got->kvs[0].mod_revision, r2);
  EXPECT_EQ(got->kvs[0].version, 2);
  EXPECT_GE(got->revision, r2);
}

TEST_F(EtcdClientTest, MissingKeyIsAnEmptyRangeNotAnError) {
  auto got = client_->range(root_ + "/nothing", {});
  ASSERT_TRUE(got.ok()) << got.status().toString();
  EXPECT_TRUE(got->kvs.empty());
  EXPECT_GT(got->revision, 0);
}

TEST_F(EtcdClientTest, DeleteRangeRemovesEveryKeyUnderThePrefix) {
  for (int i = 0; i < 5; ++i) put(root_ + "/d/" + std::to_string(i), "x");
  put(root_ + "/keep", "x");
  auto del = client_->deleteRange(root_ + "/d/", prefixEnd(root_ + "/d/"));
  ASSERT_TRUE(del.ok()) << del.status().toString();
  EXPECT_EQ(del->deleted, 5);
  auto rest = client_->listPrefix(root_ + "/");
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->kvs.size(), 1u);
  EXPECT_EQ(rest->kvs[0].key, root_ + "/keep");
  auto single = client_->deleteRange(root_ + "/keep");
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->deleted, 1);
}

TEST_F(EtcdClientTest, RangeWithLimitReportsMoreAndTotalCount) {
  for (int i = 0; i < 10; ++i) put(root_ + "/" + std::to_string(i), "x");
  RangeOptions o;
  o.range_end = prefixEnd(root_ + "/");
  o.limit = 3;
  auto got = client_->range(root_ + "/", o);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->kvs.size(), 3u);
  EXPECT_TRUE(got->more);
  EXPECT_EQ(got->count, 10);
}

TEST_F(EtcdClientTest, ListPrefixPagesAtOneRevisionDespiteConcurrentWrites) {
  constexpr int kKeys = 250;
  for (int i = 0; i < kKeys; ++i) put(testutil::seqKey(root_, i), "orig");
  std::atomic<bool> stop{false};
  std::atomic<int> writes{0};
  auto writer_client = testutil::mustClient(sharedEtcd().clientOptions());
  ASSERT_NE(writer_client, nullptr);
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      // Change existing keys and add new ones between the listed keys.
      if (writer_client->put(testutil::seqKey(root_, i % kKeys), "changed").ok()) ++writes;
      if (writer_client->put(testutil::seqKey(root_, i % kKeys) + "x", "new").ok()) ++writes;
    }
  });
  testutil::waitFor([&] { return writes.load() > 5; }, 5s);
  const int before = writes.load();
  auto list = client_->listPrefix(root_ + "/", /*page_size=*/7);
  const int during = writes.load() - before;
  stop = true;
  writer.join();
  ASSERT_TRUE(list.ok()) << list.status().toString();
  EXPECT_GT(during, 0) << "the writer made no writes while listing";
  // The listing is the state at the first page's revision, which was taken after `before`
  // writes: every key exactly once, in order, none changed after that revision.
  std::vector<std::string> keys;
  for (const KeyValue& kv : list->kvs) {
    keys.push_back(kv.key);
    EXPECT_LE(kv.mod_revision, list->revision) << kv.key;
  }
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(std::adjacent_find(keys.begin(), keys.end()), keys.end()) << "duplicate key";
  EXPECT_GE(keys.size(), static_cast<size_t>(kKeys));
  EXPECT_EQ(list->count, static_cast<int64_t>(keys.size()));
  // Re-listing at the same revision (single page) gives the identical snapshot.
  auto again = client_->listPrefix(root_ + "/", 100000, list->revision);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->kvs.size(), list->kvs.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(again->kvs[i].key, list->kvs[i].key);
    EXPECT_EQ(again->kvs[i].value, list->kvs[i].value);
  }
}

TEST_F(EtcdClientTest, TxnAppliesSuccessOpsWhenComparesHold) {
  const std::string key = root_ + "/t";
  Txn create;
  create.compares = {Compare::missing(key)};
  create.success = {Op::put(key, "1"), Op::put(root_ + "/t2", "2")};
  auto r = client_->txn(create);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_TRUE(r->succeeded);
  auto kv = client_->range(key, {});
  ASSERT_TRUE(kv.ok());
  ASSERT_EQ(kv->kvs.size(), 1u);
  EXPECT_EQ(kv->kvs[0].mod_revision, r->revision);

  Txn update;
  update.compares = {Compare::exists(key), Compare::modRevision(key, r->revision)};
  update.success = {Op::put(key, "2"), Op::del(root_ + "/t2")};
  auto u = client_->txn(update);
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->succeeded);
  EXPECT_EQ(u->ranges.size(), 2u);
  auto t2 = client_->range(root_ + "/t2", {});
  ASSERT_TRUE(t2.ok());
  EXPECT_TRUE(t2->kvs.empty());
}

TEST_F(EtcdClientTest, TxnRunsFailureBranchWhenACompareFails) {
  const std::string key = root_ + "/f";
  int64_t rev = put(key, "old");
  put(key, "newer");  // The compare below is now stale.
  Txn t;
  t.compares = {Compare::modRevision(key, rev)};
  t.success = {Op::put(key, "should-not-apply")};
  t.failure = {Op::get(key)};
  auto r = client_->txn(t);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_FALSE(r->succeeded);
  ASSERT_EQ(r->ranges.size(), 1u);
  ASSERT_EQ(r->ranges[0].size(), 1u);
  EXPECT_EQ(r->ranges[0][0].value, "newer");
  auto now = client_->range(key, {});
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->kvs[0].value, "newer");
}

TEST_F(EtcdClientTest, RangeUnchangedSinceHoldsVacuouslyOverAnEmptyRange) {
  // etcd evaluates a range compare over zero keys as true (no key violates it).
  auto head = client_->range(root_ + "/empty/", {});
  ASSERT_TRUE(head.ok());
  Txn t;
  t.compares = {Compare::rangeUnchangedSince(root_ + "/empty/", head->revision)};
  t.success = {Op::put(root_ + "/marker", "ok")};
  auto r = client_->txn(t);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_TRUE(r->succeeded);
}

TEST_F(EtcdClientTest, RangeUnchangedSinceFailsAfterAKeyInTheRangeChanges) {
  const std::string dir = root_ + "/dir/";
  put(dir + "a", "1");
  int64_t rev = put(dir + "b", "1");
  put(root_ + "/outside", "1");  // Outside the range: does not matter.
  Txn t;
  t.compares = {Compare::rangeUnchangedSince(dir, rev)};
  t.success = {Op::put(root_ + "/ok", "1")};
  t.failure = {Op::get(dir, prefixEnd(dir))};
  auto held = client_->txn(t);
  ASSERT_TRUE(held.ok());
  EXPECT_TRUE(held->succeeded);

  put(dir + "c", "new");  // A key created in the range after `rev`.
  auto failed = client_->txn(t);
  ASSERT_TRUE(failed.ok());
  EXPECT_FALSE(failed->succeeded);
  ASSERT_EQ(failed->ranges.size(), 1u);
  EXPECT_EQ(failed->ranges[0].size(), 3u);

  put(dir + "a", "2");  // A change of an existing key, too.
  t.compares = {Compare::rangeUnchangedSince(dir, failed->revision)};
  auto failed2 = client_->txn(t);
  ASSERT_TRUE(failed2.ok());
  EXPECT_FALSE(failed2->succeeded);
}

TEST_F(EtcdClientTest, RangeUnchangedSinceDoesNotSeeDeletions) {
  // Documented limit: a deleted key has no mod_revision left to compare.
  const std::string dir = root_ + "/del/";
  put(dir + "a", "1");
  int64_t rev = put(dir + "b", "1");
  ASSERT_TRUE(client_->deleteRange(dir + "b").ok());
  Txn t;
  t.compares = {Compare::rangeUnchangedSince(dir, rev)};
  auto r = client_->txn(t);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->succeeded);
}

TEST_F(EtcdClientTest, TxnWithMaxOpsSucceedsAndOneMoreIsRefusedLocally) {
  Txn t;
  for (size_t i = 0; i < kMaxTxnOps; ++i) {
    t.success.push_back(Op::put(root_ + "/" + std::to_string(i), "x"));
  }
  auto ok = client_->txn(t);
  ASSERT_TRUE(ok.ok()) << ok.status().toString();
  EXPECT_TRUE(ok->succeeded);

  t.success.push_back(Op::put(root_ + "/one-more", "x"));
  // Refused before sending: the same answer from a client whose endpoint does not exist.
  ClientOptions dead;
  dead.endpoints = {"127.0.0.1:1"};
  auto nowhere = testutil::mustClient(dead);
  ASSERT_NE(nowhere, nullptr);
  for (EtcdClient* c : {client_.get(), nowhere.get()}) {
    const auto start = Clock::now();
    auto r = c->txn(t);
    EXPECT_EQ(r.status().code(), StatusCode::ResourceExhausted) << r.status().toString();
    EXPECT_LT(Clock::now() - start, 50ms);
  }
  auto one_more = client_->range(root_ + "/one-more", {});
  ASSERT_TRUE(one_more.ok());
  EXPECT_TRUE(one_more->kvs.empty());

  Txn compares;
  for (size_t i = 0; i <= kMaxTxnOps; ++i) compares.compares.push_back(Compare::missing("x"));
  EXPECT_EQ(client_->txn(compares).status().code(), StatusCode::ResourceExhausted);
}

TEST_F(EtcdClientTest, DuplicateKeyInTxnIsInvalidArgument) {
  Txn t;
  t.success = {Op::put(root_ + "/dup", "1"), Op::put(root_ + "/dup", "2")};
  EXPECT_EQ(client_->txn(t).status().code(), StatusCode::InvalidArgument);
}

TEST_F(EtcdClientTest, OversizedRequestIsResourceExhaustedAndTheClientStaysUsable) {
  auto r = client_->put(root_ + "/big", std::string(2 * 1024 * 1024, 'x'));
  EXPECT_EQ(r.status().code(), StatusCode::ResourceExhausted) << r.status().toString();
  EXPECT_TRUE(client_->put(root_ + "/small", "x").ok());
}

TEST_F(EtcdClientTest, LargeRangeIsNotLimitedByTheDefaultReceiveSize) {
  // 6 MB in one reply: gRPC's default 4 MB receive limit would fail it.
  const std::string value(200 * 1024, 'v');
  for (int i = 0; i < 30; ++i) put(testutil::seqKey(root_, i), value);
  RangeOptions o;
  o.range_end = prefixEnd(root_ + "/");
  auto r = client_->range(root_ + "/", o);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->kvs.size(), 30u);
}

TEST_F(EtcdClientTest, CompactedRevisionIsOutOfRange) {
  int64_t old = put(root_ + "/c", "1");
  int64_t now = put(root_ + "/c", "2");
  ASSERT_TRUE(client_->compact(now).ok());
  RangeOptions o;
  o.revision = old;
  EXPECT_EQ(client_->range(root_ + "/c", o).status().code(), StatusCode::OutOfRange);
  EXPECT_EQ(client_->listPrefix(root_ + "/", 10, old).status().code(), StatusCode::OutOfRange);
  EXPECT_EQ(client_->compact(old).code(), StatusCode::OutOfRange);
}

TEST_F(EtcdClientTest, UnknownLeaseIsNotFound) {
  EXPECT_EQ(client_->leaseRevoke(0x7eadbeef).code(), StatusCode::NotFound);
  EXPECT_EQ(client_->leaseKeepAliveOnce(0x7eadbeef).status().code(), StatusCode::NotFound);
  EXPECT_EQ(client_->put(root_ + "/l", "x", 0x7eadbeef).status().code(), StatusCode::NotFound);
}

TEST(EtcdClientCreateTest, MalformedEndpointsAreInvalidArgument) {
  const std::vector<std::vector<std::string>> bad = {
      {}, {"127.0.0.1"}, {"127.0.0.1:port"}, {"host-a:2379", "host-b:2379"}, {""}};
  for (const auto& endpoints : bad) {
    ClientOptions o;
    o.endpoints = endpoints;
    EXPECT_EQ(EtcdClient::create(o).status().code(), StatusCode::InvalidArgument)
        << (endpoints.empty() ? "<empty>" : endpoints[0]);
  }
  ClientOptions ok;
  ok.endpoints = {"http://127.0.0.1:2379", "127.0.0.2:2379"};
  EXPECT_TRUE(EtcdClient::create(ok).ok());
  ok.endpoints = {"localhost:2379"};
  EXPECT_TRUE(EtcdClient::create(ok).ok());
}

TEST(EtcdClientDeadlineTest, NothingListeningFailsWithinTheCallTimeout) {
  ClientOptions o;
  o.endpoints = {"127.0.0.1:1"};
  o.call_timeout = 300ms;
  auto client = testutil::mustClient(o);
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 3; ++i) {
    const auto start = Clock::now();
    auto r = client->put("/x", "y");
    const auto took = Clock::now() - start;
    EXPECT_TRUE(r.status().code() == StatusCode::Unavailable ||
                r.status().code() == StatusCode::DeadlineExceeded)
        << r.status().toString();
    EXPECT_LT(took, o.call_timeout + 300ms);
  }
}

}  // namespace
}  // namespace loom::etcd
