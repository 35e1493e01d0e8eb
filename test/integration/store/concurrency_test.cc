// ObjectStore under concurrent writers: creates contending for one bridge and one chain while
// the bridge is deleted with cascade, and updates contending for one object.
#include <gmock/gmock.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "integration/store/store_test_util.h"

namespace loom::store {
namespace {

using testutil::StoreTest;

class StoreConcurrencyTest : public StoreTest {};

TEST_F(StoreConcurrencyTest, CreatesRacingACascadeDeleteLeaveAConsistentStore) {
  const std::string b = bridge();
  const std::string c = chain();
  constexpr int kThreads = 8;
  constexpr int kEach = 12;
  std::mutex mu;
  std::vector<std::string> rules_created, ports_created;
  std::map<StatusCode, int> port_errors, rule_errors;
  std::atomic<int> started{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto client = etcd::EtcdClient::create(loom::testing::sharedEtcd().clientOptions());
      ASSERT_TRUE(client.ok());
      ObjectStore s(**client, store().keys().root());
      ++started;
      for (int i = 0; i < kEach; ++i) {
        auto p = s.create(bridgePortObject(b));
        CreateOptions at;
        at.position = (t + i) % 3 == 0 ? 0 : -1;
        auto r = s.create(ruleObject(c), at);
        std::lock_guard<std::mutex> lock(mu);
        if (p.ok()) {
          ports_created.push_back(p->record.object.port().id());
        } else {
          ++port_errors[p.status().code()];
        }
        if (r.ok()) {
          rules_created.push_back(r->record.object.rule().id());
        } else {
          ++rule_errors[r.status().code()];
        }
      }
    });
  }
  while (started < kThreads) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  auto deleted = store().remove(Kind::Bridge, b, {.cascade = true});
  for (auto& th : threads) th.join();

  // Every acknowledged rule is in the chain exactly once (also checked for all rules by the
  // integrity check in TearDown); no rule create failed for lack of retries under contention.
  std::vector<std::string> ids = ruleIds(c);
  EXPECT_EQ(ids.size(), rules_created.size());
  for (const std::string& r : rules_created) {
    EXPECT_EQ(std::count(ids.begin(), ids.end(), r), 1) << r;
  }
  // Eight writers appending to one chain contend on its rule list; a create may give up after
  // its 8 attempts (Aborted, nothing written) but rarely.
  int aborted_rules = 0;
  for (const auto& [code, n] : rule_errors) {
    EXPECT_EQ(code, StatusCode::Aborted) << n;
    aborted_rules += n;
  }
  EXPECT_LE(aborted_rules, kThreads * kEach / 10);
  // Port creates either landed (and were deleted with the bridge if it went) or found the
  // bridge gone.
  for (const auto& [code, n] : port_errors) EXPECT_EQ(code, StatusCode::InvalidArgument) << n;
  if (deleted.ok()) {
    EXPECT_FALSE(exists(Kind::Bridge, b));
    auto left = store().list(Kind::Port);
    ASSERT_TRUE(left.ok());
    EXPECT_TRUE(left->items.empty());
  } else {
    EXPECT_EQ(deleted.status().code(), StatusCode::Aborted) << deleted.status().toString();
    EXPECT_TRUE(exists(Kind::Bridge, b));
  }
  RecordProperty("ports_created", static_cast<int>(ports_created.size()));
  RecordProperty("delete", deleted.ok() ? "ok" : deleted.status().toString());
}

TEST_F(StoreConcurrencyTest, ContendedUpdatesRetryUnlessARevisionIsExpected) {
  const std::string b = bridge();
  constexpr int kThreads = 6;
  std::atomic<int> ok{0}, aborted{0};
  std::vector<std::thread> threads;
  auto base = store().get(Kind::Bridge, b);
  ASSERT_TRUE(base.ok());
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      v1::StoredObject o = base->object;
      o.mutable_bridge()->set_name("writer " + std::to_string(t));
      // Half the writers insist on the revision they read.
      UpdateOptions options;
      if (t % 2 == 1) options.expected_mod_revision = base->mod_revision;
      auto r = store().update(o, options);
      if (r.ok()) {
        ++ok;
      } else {
        EXPECT_EQ(r.status().code(), StatusCode::Aborted) << r.status().toString();
        EXPECT_EQ(t % 2, 1);
        ++aborted;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok + aborted, kThreads);
  EXPECT_GE(ok, kThreads / 2);
  EXPECT_GE(aborted, kThreads / 2 - 1);  // At most one insisting writer can win.
}

}  // namespace
}  // namespace loom::store
