// Regressions found by the whole-simulation fuzz target (test/fuzz/sim_frame_fuzz.cc), one
// scenario per bug. The crashing inputs are in test/fuzz/sim_frame_corpus/regression_*.bin.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/topo_builder.h"

namespace loom {
namespace {

using sim::Outcome;
using ::testing::Contains;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::SimHarness;

// regression_not_ready_flood_keeps_arp_reply.bin: a flood whose first branch reached a router
// that answered an ARP request, and whose later branch was not ready (a filter naming a missing
// address group), returned NotReady with the router's arp_reply in `generated`. A not-ready
// result may carry only the ARP requests that make progress: the re-run after the wait answers
// again, so the answer was sent twice.
TEST(FuzzRegressionTest, NotReadyFloodKeepsNoAnswerFromAnEarlierBranch) {
  SimHarness h;
  Uuid net = h.topo.bridge("net");
  h.topo.bridgeMsg(net).set_arp_suppression(false);  // The router answers, not the bridge.
  Uuid vm1 = h.topo.vmPort(net, "vm1", "02:00:00:00:00:01", "10.0.0.11");
  Uuid r = h.topo.router("r");
  h.topo.attach(r, net, "r-net", "02:00:00:00:01:01", "10.0.0.1/24");
  Uuid vm2 = h.topo.vmPort(net, "vm2", "02:00:00:00:00:02", "10.0.0.12");
  Uuid chain = h.topo.chain("vm2-out");
  h.topo.rule(chain, v1::Rule::DROP, [](v1::Condition& c) {
    c.set_ip_addr_group_src_id("0bad0000-0000-4000-8000-000000000001");
  });
  h.topo.port(vm2).set_outbound_filter_id(chain.toString());
  ASSERT_THAT(h.build(), HasSubstr("dangling reference to ip_addr_group"));

  auto res = h.send(vm1, testing::arpRequest("02:00:00:00:00:01", "10.0.0.11", "10.0.0.1"));
  EXPECT_EQ(res.outcome, Outcome::NotReady);
  EXPECT_EQ(res.not_ready.kind, sim::NotReadyCause::Kind::MissingObject);
  EXPECT_EQ(res.not_ready.object_kind, model::ObjectKind::IpAddrGroup);
  // The router's branch ran and answered before the filter of vm2 was reached...
  EXPECT_THAT(SimHarness::traceText(res), HasSubstr("ARP reply: 10.0.0.1 is-at"));
  // ...but its answer does not leave with a result that did not complete.
  EXPECT_THAT(res.generated, IsEmpty());
  EXPECT_THAT(res.writes, IsEmpty());
}

// regression_mask_lacks_unchanged_eth_src.bin: a packet from an uplink routed back out of the
// uplink, whose source MAC already was the uplink port's MAC. The router's rewrite of eth_src
// changed nothing, so the actions (a diff) had no set(eth_src), and nothing had read eth_src, so
// the mask lacked it: the flow would also match packets with another source MAC and send them
// out with it. A field a device writes is now always in the mask.
TEST(FuzzRegressionTest, FieldWrittenWithItsOwnValueIsInTheMask) {
  SimHarness h;
  Uuid r = h.topo.router("r");
  Uuid up = h.topo.routerPort(r, "up", "02:00:00:00:01:03", "192.0.2.2/30");
  h.topo.bind(up, h.topo.host("edge"));
  h.topo.route(r, "0.0.0.0/0", up, "192.0.2.1");
  ASSERT_EQ(h.build(), "");
  // The gateway's MAC is known.
  auto learned = h.send(
      up, testing::arpReply("02:99:00:00:00:01", "192.0.2.1", "02:00:00:00:01:03", "192.0.2.2"));
  ASSERT_EQ(learned.outcome, Outcome::Consumed);

  auto same = h.send(up, testing::udpFrame("02:00:00:00:01:03", "02:00:00:00:01:03", "192.0.2.77",
                                           "8.8.4.4", 1000, 53));
  ASSERT_EQ(same.outcome, Outcome::Forward);
  ASSERT_EQ(same.egress.size(), 1u);
  EXPECT_THAT(same.egress[0].actions,
              Not(Contains(Field(&packet::SetField::kind, packet::SetFieldKind::EthSrc))));
  EXPECT_NE(same.mask & packet::fieldBit(packet::Field::EthSrc), 0u)
      << packet::fieldMaskToString(same.mask);

  // Any other source MAC is rewritten: a flow without eth_src in its match would not do it.
  auto other = h.send(up, testing::udpFrame("02:99:00:00:00:07", "02:00:00:00:01:03", "192.0.2.77",
                                            "8.8.4.4", 1000, 53));
  ASSERT_EQ(other.outcome, Outcome::Forward);
  EXPECT_THAT(other.egress[0].actions,
              Contains(packet::SetField{.kind = packet::SetFieldKind::EthSrc,
                                        .mac = testing::mac("02:00:00:00:01:03")}));
}

}  // namespace
}  // namespace loom
