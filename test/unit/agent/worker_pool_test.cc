// WorkerPool with two workers: ports are owned by different workers, and what one worker learns
// reaches the other before the other handles a reply.

#include "agent/worker_pool.h"

#include <gtest/gtest.h>

#include <thread>

#include "support/topo_builder.h"
#include "unit/agent/fakes.h"

namespace loom::agent {
namespace {

using testing::FakeDatapath;
using testing::FakeTx;

// Three interfaces such that the first two belong to different workers of two.
struct Ifindexes {
  uint32_t p1 = 0, p2 = 0, p3 = 0;
};
Ifindexes pick() {
  Ifindexes ix;
  ix.p1 = 10;
  for (uint32_t i = 11; i < 100; ++i) {
    if (WorkerPool::shardOf(i, 2) != WorkerPool::shardOf(ix.p1, 2)) {
      ix.p2 = i;
      break;
    }
  }
  ix.p3 = ix.p2 + 1;
  return ix;
}

template <typename Pred>
bool waitFor(Pred pred) {
  for (int i = 0; i < 400; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

TEST(WorkerPoolTest, StateLearnedOnOneWorkerIsUsedByAnother) {
  const Ifindexes ix = pick();
  ASSERT_NE(ix.p2, 0u);
  loom::testing::TopoBuilder topo;
  Uuid h1 = topo.host("h1");
  Uuid br = topo.bridge("br");
  // p1's MAC is not configured: the bridge must learn it from traffic.
  Uuid p1 = topo.vmPort(br, "p1", "", "", h1);
  Uuid p2 = topo.vmPort(br, "p2", "02:00:00:00:00:02", "10.0.0.2/24", h1);
  Uuid p3 = topo.vmPort(br, "p3", "02:00:00:00:00:03", "10.0.0.3/24", h1);
  auto view = std::make_shared<AgentView>();
  view->generation = 1;
  view->topo = topo.snapshot(1);
  for (auto [port, ifindex] : {std::pair{p1, ix.p1}, {p2, ix.p2}, {p3, ix.p3}}) {
    LocalPort lp{port, "if", ifindex, ifindex};
    view->local_by_ifindex[ifindex] = lp;
    view->local_by_port[port] = lp;
  }

  FakeDatapath dp;
  FakeTx tx;
  AgentCounters counters;
  AgentConfig config;
  config.workers = 2;
  WorkerPool pool(dp, tx, counters, config);
  ASSERT_EQ(pool.workers(), 2);
  pool.publishView(view);
  pool.start();

  // p1 (worker A) talks to p2: its MAC is learned and broadcast.
  dp.upcall(ix.p1, loom::testing::udpFrame("02:00:00:00:00:01", "02:00:00:00:00:02", "10.0.0.1",
                                           "10.0.0.2", 5000, 53));
  ASSERT_TRUE(waitFor([&] { return counters.flows_installed.load() >= 1; }));
  // p2 (worker B) answers: unicast to p1, not a flood to p1 and p3.
  auto reply = loom::testing::udpFrame("02:00:00:00:00:02", "02:00:00:00:00:01", "10.0.0.2",
                                       "10.0.0.1", 53, 5000);
  dp.upcall(ix.p2, reply);
  ASSERT_TRUE(waitFor([&] { return counters.flows_installed.load() >= 2; }));
  pool.stop();
  const datapath::FlowValue* v = dp.lookup(ix.p2, reply);
  ASSERT_NE(v, nullptr);
  ASSERT_EQ(v->n_outputs, 1);
  EXPECT_EQ(v->outputs[0].ifindex, ix.p1);
  // Each worker holds the flows of its own ports.
  std::string flows = pool.flowsText();
  EXPECT_NE(flows.find("worker 0:"), std::string::npos);
  EXPECT_NE(flows.find("worker 1:"), std::string::npos);
  EXPECT_EQ(pool.flowCount(), 2u);
}

}  // namespace
}  // namespace loom::agent
