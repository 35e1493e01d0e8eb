// Cross-cutting behaviour: loop bounds, malformed packets, broken links, keys without frames,
// traces.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "packet/builder.h"
#include "packet/checksum.h"
#include "packet/parser.h"
#include "support/topo_builder.h"

namespace loom {
namespace {

using sim::DropReason;
using sim::Outcome;
using ::testing::HasSubstr;
using testing::ip;
using ::testing::IsEmpty;
using testing::mac;
using testing::SimHarness;

TEST(LoopBoundTest, BridgeLoopFloodTerminatesAtTheDeviceLimit) {
  SimHarness h;
  // Three bridges linked in a ring, each with one VM: a broadcast circles forever without a
  // bound.
  Uuid b[3];
  Uuid vm[3];
  for (int i = 0; i < 3; ++i) {
    b[i] = h.topo.bridge("b" + std::to_string(i));
    vm[i] = h.topo.vmPort(b[i], "vm" + std::to_string(i), "", "");
  }
  for (int i = 0; i < 3; ++i) {
    Uuid x = h.topo.bridgePort(b[i], "ring-out" + std::to_string(i));
    Uuid y = h.topo.bridgePort(b[(i + 1) % 3], "ring-in" + std::to_string(i));
    h.topo.link(x, y);
  }
  ASSERT_EQ(h.build(), "");
  auto r = h.send(vm[0], testing::udpFrame("02:00:00:00:00:01", "ff:ff:ff:ff:ff:ff", "10.0.0.1",
                                           "10.0.0.255", 1, 2));
  // The copies that reached VMs are delivered; the circling ones hit the bound.
  EXPECT_EQ(r.outcome, Outcome::Forward);
  EXPECT_EQ(r.drop_reason, DropReason::None);
  EXPECT_LE(r.devices_visited, h.simulator.config().max_total_devices);
  EXPECT_THAT(SimHarness::traceText(r), HasSubstr("device_limit"));
}

// vm -- net -- r1 == r2, where each router sends 203.0.113.0/24 to the other.
class RoutingLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Uuid net = h.topo.bridge("net");
    vm = h.topo.vmPort(net, "vm", "02:00:00:00:00:01", "10.0.0.11");
    Uuid r1 = h.topo.router("r1");
    Uuid r2 = h.topo.router("r2");
    h.topo.attach(r1, net, "r1-net", "02:00:00:00:01:01", "10.0.0.1/24");
    Uuid a = h.topo.routerPort(r1, "r1-l", "02:00:00:00:01:02", "169.254.0.1/30");
    Uuid b = h.topo.routerPort(r2, "r2-l", "02:00:00:00:02:02", "169.254.0.2/30");
    h.topo.link(a, b);
    h.topo.route(r1, "203.0.113.0/24", a, "169.254.0.2");
    h.topo.route(r2, "203.0.113.0/24", b, "169.254.0.1");
    h.topo.route(r2, "10.0.0.0/24", b, "169.254.0.1");  // So r2's ICMP errors find the VM.
    ASSERT_EQ(h.build(), "");
  }
  sim::SimResult send(uint8_t ttl) {
    return h.send(vm, testing::tcpFrame("02:00:00:00:00:01", "02:00:00:00:01:01", "10.0.0.11",
                                        "203.0.113.5", 1, 2, ttl));
  }
  SimHarness h;
  Uuid vm;
};

TEST_F(RoutingLoopTest, StopsAfterSixteenDevices) {
  auto r = send(/*ttl=*/255);
  EXPECT_EQ(r.outcome, Outcome::Drop);
  EXPECT_EQ(r.drop_reason, DropReason::DeviceLimit);
  EXPECT_EQ(r.devices_visited, 16u);
}

TEST_F(RoutingLoopTest, LowTtlStopsItFirstWithTimeExceeded) {
  auto r = send(/*ttl=*/4);
  EXPECT_EQ(r.drop_reason, DropReason::TtlExpired);
  ASSERT_EQ(r.generated.size(), 1u);
  EXPECT_EQ(packet::parsePacket(r.generated[0].frame).fields.icmp_type, packet::kIcmpTimeExceeded);
}

class MalformedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Uuid br = h.topo.bridge("br");
    p1 = h.topo.vmPort(br, "p1", "02:00:00:00:00:01", "10.0.0.1");
    h.topo.vmPort(br, "p2", "02:00:00:00:00:02", "10.0.0.2");
    ASSERT_EQ(h.build(), "");
  }
  SimHarness h;
  Uuid p1;
};

TEST_F(MalformedTest, TruncatedFrameIsDroppedWithTheParseError) {
  auto frame =
      testing::tcpFrame("02:00:00:00:00:01", "02:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  frame.resize(14 + 12);  // Half an IPv4 header.
  auto r = h.send(p1, frame);
  EXPECT_EQ(r.outcome, Outcome::Drop);
  EXPECT_EQ(r.drop_reason, DropReason::MalformedPacket);
  EXPECT_EQ(r.parse_error, packet::ParseError::TruncatedIpv4);
  EXPECT_THAT(r.writes, IsEmpty());
  EXPECT_THAT(r.tags, IsEmpty());
}

TEST_F(MalformedTest, InconsistentLengthIsDropped) {
  auto frame =
      testing::tcpFrame("02:00:00:00:00:01", "02:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  frame[14] = 0x44;  // IHL 4 (< 5).
  auto r = h.send(p1, frame);
  EXPECT_EQ(r.drop_reason, DropReason::MalformedPacket);
  EXPECT_EQ(r.parse_error, packet::ParseError::BadIpv4HeaderLength);
}

TEST_F(MalformedTest, RandomBytesNeverCrashTheSimulation) {
  std::mt19937 rng(12345);
  auto base =
      testing::tcpFrame("02:00:00:00:00:01", "02:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  int malformed = 0;
  for (int i = 0; i < 5000; ++i) {
    std::vector<uint8_t> f = base;
    // Corrupt a few bytes and cut the frame at a random length.
    for (int k = 0; k < 3; ++k) f[rng() % f.size()] = static_cast<uint8_t>(rng());
    f.resize(rng() % (f.size() + 1));
    auto r = h.send(p1, f, /*apply=*/false);
    malformed += r.drop_reason == DropReason::MalformedPacket;
    EXPECT_TRUE(r.outcome == Outcome::Drop || r.outcome == Outcome::Forward ||
                r.outcome == Outcome::Consumed)
        << sim::outcomeName(r.outcome);
  }
  EXPECT_GT(malformed, 1000);
}

TEST(LinkTest, BrokenLinkDropsTraffic) {
  SimHarness h;
  Uuid b1 = h.topo.bridge("b1");
  Uuid b2 = h.topo.bridge("b2");
  Uuid vm = h.topo.vmPort(b1, "vm", "02:00:00:00:00:01", "10.0.0.1");
  Uuid x = h.topo.bridgePort(b1, "x");
  Uuid y = h.topo.bridgePort(b2, "y");
  Uuid z = h.topo.bridgePort(b2, "z");
  h.topo.port(x).set_peer_id(y.toString());
  h.topo.port(y).set_peer_id(z.toString());  // Asymmetric.
  std::string problems = h.build();
  EXPECT_THAT(problems, HasSubstr("peer"));
  auto r = h.send(vm, testing::udpFrame("02:00:00:00:00:01", "ff:ff:ff:ff:ff:ff", "10.0.0.1",
                                        "10.0.0.255", 1, 2));
  EXPECT_EQ(r.outcome, Outcome::Drop);
  EXPECT_EQ(r.drop_reason, DropReason::BrokenLink);
}

TEST(KeyOnlyTest, IcmpErrorIsSynthesizedWithoutTheFrame) {
  SimHarness h;
  Uuid net = h.topo.bridge("net");
  Uuid vm = h.topo.vmPort(net, "vm", "02:00:00:00:00:01", "10.0.0.11");
  Uuid r1 = h.topo.router("r1");
  h.topo.attach(r1, net, "r1-net", "02:00:00:00:01:01", "10.0.0.1/24");
  ASSERT_EQ(h.build(), "");
  auto frame = testing::udpFrame("02:00:00:00:00:01", "02:00:00:00:01:01", "10.0.0.11",
                                 "203.0.113.5", 5353, 53);
  auto r = h.sendMatch(vm, packet::flowMatchOf(packet::parsePacket(frame)));
  EXPECT_EQ(r.drop_reason, DropReason::NoRoute);
  ASSERT_EQ(r.generated.size(), 1u);
  auto icmp = packet::parsePacket(r.generated[0].frame);
  ASSERT_TRUE(icmp.ok());
  EXPECT_TRUE(packet::l4ChecksumOk(icmp));
  // Quoted: the IPv4 header and the UDP ports.
  const auto& f = r.generated[0].frame;
  size_t q = size_t{icmp.l4_offset} + 8;
  ASSERT_GE(f.size(), q + 28);
  EXPECT_EQ(packet::IpAddr::v4Bytes(&f[q + 16]), ip("203.0.113.5"));
  EXPECT_EQ((f[q + 20] << 8) | f[q + 21], 5353);
}

TEST(TraceTest, TraceNamesEveryDeviceOnThePath) {
  SimHarness h;
  Uuid a = h.topo.bridge("net-a");
  Uuid b = h.topo.bridge("net-b");
  Uuid vm_a = h.topo.vmPort(a, "vm-a", "02:00:00:00:00:01", "10.0.0.11");
  h.topo.vmPort(b, "vm-b", "02:00:00:00:00:02", "10.0.1.11");
  Uuid r1 = h.topo.router("r1");
  h.topo.attach(r1, a, "r1-a", "02:00:00:00:01:01", "10.0.0.1/24");
  h.topo.attach(r1, b, "r1-b", "02:00:00:00:01:02", "10.0.1.1/24");
  ASSERT_EQ(h.build(), "");
  auto r = h.send(vm_a, testing::tcpFrame("02:00:00:00:00:01", "02:00:00:00:01:01", "10.0.0.11",
                                          "10.0.1.11", 1, 2));
  std::string t = SimHarness::traceText(r);
  EXPECT_THAT(t, HasSubstr("port vm-a: ingress"));
  EXPECT_THAT(t, HasSubstr("bridge net-a"));
  EXPECT_THAT(t, HasSubstr("router r1: route 10.0.1.0/24"));
  EXPECT_THAT(t, HasSubstr("bridge net-b"));
  EXPECT_THAT(t, HasSubstr("port vm-b: egress"));
  EXPECT_EQ(r.devices_visited, 3u);
}

TEST(TraceTest, NoTraceIsRecordedUnlessAsked) {
  SimHarness h;
  Uuid br = h.topo.bridge("br");
  Uuid p1 = h.topo.vmPort(br, "p1", "02:00:00:00:00:01", "10.0.0.1");
  h.topo.vmPort(br, "p2", "02:00:00:00:00:02", "10.0.0.2");
  ASSERT_EQ(h.build(), "");
  auto frame =
      testing::udpFrame("02:00:00:00:00:01", "02:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  sim::SimResult r;
  h.simulator.simulateFrame(frame, p1, /*trace=*/false, *h.snap, h.state.view(), r);
  EXPECT_EQ(r.outcome, Outcome::Forward);
  EXPECT_THAT(r.trace, IsEmpty());
}

TEST(PurityTest, SameInputsGiveTheSameResult) {
  SimHarness h;
  Uuid br = h.topo.bridge("br");
  Uuid p1 = h.topo.vmPort(br, "p1", "", "");
  h.topo.vmPort(br, "p2", "", "");
  h.topo.vmPort(br, "p3", "", "");
  ASSERT_EQ(h.build(), "");
  auto frame =
      testing::udpFrame("02:00:00:00:00:01", "02:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  auto a = h.send(p1, frame, /*apply=*/false);
  auto b = h.send(p1, frame, /*apply=*/false);
  EXPECT_EQ(a.toString(), b.toString());
  EXPECT_EQ(SimHarness::traceText(a), SimHarness::traceText(b));
  EXPECT_EQ(h.state.macs.size(), 0u) << "simulate() itself never writes state";
}

}  // namespace
}  // namespace loom
