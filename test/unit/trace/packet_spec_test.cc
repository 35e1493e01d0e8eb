// trace::buildPacket against examples/topologies/one-tenant.json: protocols, defaults, keys and
// errors. Tests run from the repository root.
#include "trace/packet_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/json.h"
#include "packet/builder.h"
#include "packet/parser.h"

namespace loom::trace {
namespace {

using packet::FragType;
using packet::IpAddr;
using packet::L4Kind;
using packet::MacAddr;
using packet::ParsedPacket;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kTopology = "examples/topologies/one-tenant.json";

MacAddr mac(const char* text) { return MacAddr::parse(text).value(); }
IpAddr ip(const char* text) { return IpAddr::parse(text).value(); }

const MacAddr kVmA1Mac = mac("02:00:00:00:0a:0b");
const MacAddr kVmA2Mac = mac("02:00:00:00:0a:0c");
const MacAddr kR1AMac = mac("02:00:00:00:01:01");
const MacAddr kR1BMac = mac("02:00:00:00:01:02");
const MacAddr kR1UpMac = mac("02:00:00:00:01:03");

class PacketSpecTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    StatusOr<v1::Topology> t = model::loadTopologyFile(kTopology);
    ASSERT_TRUE(t.ok()) << t.status().toString();
    snap_ = new model::SnapshotPtr(model::buildSnapshot(*t, 1));
    ASSERT_TRUE((*snap_)->problems().empty());
  }
  static void TearDownTestSuite() {
    delete snap_;
    snap_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(snap_, nullptr) << kTopology << " did not load"; }

  static const model::TopologySnapshot& topo() { return **snap_; }
  static model::Index port(const char* name) {
    model::Index i = topo().findPortByName(name);
    EXPECT_NE(i, model::kNoIndex) << name;
    return i;
  }

  // Builds `spec` entering through `port_name` and parses it; the result points into frame_,
  // valid until the next call.
  ParsedPacket build(const std::string& spec, const char* port_name = "vm-a1") {
    StatusOr<std::vector<uint8_t>> f = buildPacket(spec, topo(), port(port_name));
    EXPECT_TRUE(f.ok()) << spec << ": " << f.status().toString();
    frame_ = f.ok() ? std::move(f).value() : std::vector<uint8_t>{};
    ParsedPacket p = packet::parsePacket(frame_);
    EXPECT_TRUE(p.ok()) << spec << ": " << packet::parseErrorName(p.error);
    return p;
  }
  // The status of building `spec`; must be an error.
  Status error(const std::string& spec, const char* port_name = "vm-a1") {
    StatusOr<std::vector<uint8_t>> f = buildPacket(spec, topo(), port(port_name));
    EXPECT_FALSE(f.ok()) << spec << " was accepted";
    return f.ok() ? okStatus() : f.status();
  }
  // The big-endian 16-bit word at `offset` of the last frame built (0 past its end).
  uint16_t u16At(size_t offset) const {
    if (offset + 1 >= frame_.size()) return 0;
    return static_cast<uint16_t>((frame_[offset] << 8) | frame_[offset + 1]);
  }
  size_t payloadSize(const ParsedPacket& p) const { return p.l3_end - p.payload_offset; }

  static model::SnapshotPtr* snap_;
  std::vector<uint8_t> frame_;
};

model::SnapshotPtr* PacketSpecTest::snap_ = nullptr;

// --- Protocol words ---

TEST_F(PacketSpecTest, EachProtocolWordBuildsItsPacket) {
  struct Case {
    const char* spec;
    uint16_t eth_type;
    uint8_t nw_proto;
    L4Kind l4;
  };
  const Case cases[] = {
      {"tcp dst=10.0.0.12", packet::kEthTypeIpv4, packet::kIpProtoTcp, L4Kind::Tcp},
      {"udp dst=10.0.0.12", packet::kEthTypeIpv4, packet::kIpProtoUdp, L4Kind::Udp},
      {"icmp dst=10.0.0.12", packet::kEthTypeIpv4, packet::kIpProtoIcmp, L4Kind::Icmp},
      {"ip dst=10.0.0.12", packet::kEthTypeIpv4, 253, L4Kind::None},
      {"ipv6 src=fd00::1 dst=fd00::2", packet::kEthTypeIpv6, 253, L4Kind::None},
  };
  for (const Case& c : cases) {
    ParsedPacket p = build(c.spec);
    EXPECT_EQ(p.fields.eth_type, c.eth_type) << c.spec;
    EXPECT_EQ(p.fields.nw_proto, c.nw_proto) << c.spec;
    EXPECT_EQ(p.l4, c.l4) << c.spec;
  }
}

TEST_F(PacketSpecTest, ArpWordBuildsAnArpPacket) {
  ParsedPacket p = build("arp tpa=10.0.0.12");
  EXPECT_EQ(p.fields.eth_type, packet::kEthTypeArp);
  EXPECT_EQ(p.fields.arp_op, packet::kArpOpRequest);
  EXPECT_EQ(p.fields.arp_tpa, ip("10.0.0.12"));
}

TEST_F(PacketSpecTest, IcmpIsAnEchoRequest) {
  ParsedPacket p = build("icmp dst=10.0.0.12");
  EXPECT_EQ(p.fields.icmp_type, packet::kIcmpEchoRequest);
  EXPECT_EQ(p.fields.icmp_code, 0);
}

TEST_F(PacketSpecTest, WordsMayBeSeparatedBySpacesTabsAndCommas) {
  ParsedPacket p = build("  tcp,dst=10.0.0.12\tdport=22 ,, sport=1234  ");
  EXPECT_EQ(p.fields.nw_dst, ip("10.0.0.12"));
  EXPECT_EQ(p.fields.tp_dst, 22);
  EXPECT_EQ(p.fields.tp_src, 1234);
}

// --- Defaults ---

TEST_F(PacketSpecTest, TcpDefaults) {
  ParsedPacket p = build("tcp dst=10.0.0.12");
  EXPECT_EQ(p.fields.eth_src, kVmA1Mac);
  EXPECT_EQ(p.fields.nw_src, ip("10.0.0.11"));
  EXPECT_EQ(p.fields.nw_dst, ip("10.0.0.12"));
  EXPECT_FALSE(p.fields.vlan_present);
  EXPECT_EQ(p.fields.nw_ttl, 64);
  EXPECT_EQ(p.fields.nw_tos, 0);
  EXPECT_EQ(p.fields.nw_frag, FragType::None);
  EXPECT_EQ(p.fields.tp_src, 40000);
  EXPECT_EQ(p.fields.tp_dst, 80);
  EXPECT_EQ(p.fields.tcp_flags, packet::kTcpSyn);
  EXPECT_EQ(payloadSize(p), 16u);
}

TEST_F(PacketSpecTest, UdpDefaultPorts) {
  ParsedPacket p = build("udp dst=10.0.0.12");
  EXPECT_EQ(p.fields.tp_src, 40000);
  EXPECT_EQ(p.fields.tp_dst, 80);
  EXPECT_EQ(payloadSize(p), 16u);
}

TEST_F(PacketSpecTest, IcmpDefaultsToIdOneSeqOne) {
  ParsedPacket p = build("icmp dst=10.0.0.12");
  EXPECT_EQ(p.fields.icmp_id, 1);
  EXPECT_EQ(u16At(p.l4_offset + 4), 1);  // Identifier.
  EXPECT_EQ(u16At(p.l4_offset + 6), 1);  // Sequence number.
}

TEST_F(PacketSpecTest, SourcesDefaultToTheIngressPortsMacAndAddress) {
  ParsedPacket p = build("udp dst=10.0.1.11", "vm-b2");
  EXPECT_EQ(p.fields.eth_src, mac("02:00:00:00:0b:0c"));
  EXPECT_EQ(p.fields.nw_src, ip("10.0.1.12"));
}

TEST_F(PacketSpecTest, EthDstDefaultsToTheOnBridgeDestinationsMac) {
  EXPECT_EQ(build("tcp dst=10.0.0.12").fields.eth_dst, kVmA2Mac);
  EXPECT_EQ(build("tcp dst=10.0.0.11", "vm-a2").fields.eth_dst, kVmA1Mac);
}

TEST_F(PacketSpecTest, EthDstDefaultsToTheRouterPortsMacForItsOwnAddress) {
  EXPECT_EQ(build("icmp dst=10.0.0.1").fields.eth_dst, kR1AMac);
}

TEST_F(PacketSpecTest, EthDstDefaultsToTheGatewayMacForOffSubnetDestinations) {
  struct Case {
    const char* port;
    const char* spec;
    MacAddr eth_dst;
  };
  const Case cases[] = {
      {"vm-a1", "tcp dst=10.0.1.11", kR1AMac},   {"vm-a1", "icmp dst=10.0.1.1", kR1AMac},
      {"vm-a1", "udp dst=203.0.113.9", kR1AMac}, {"vm-b1", "tcp dst=10.0.0.11", kR1BMac},
      {"vm-b2", "ip dst=8.8.8.8", kR1BMac},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(build(c.spec, c.port).fields.eth_dst, c.eth_dst) << c.port << ": " << c.spec;
  }
}

TEST_F(PacketSpecTest, EthDstDefaultsToBroadcastForUnknownOnLinkDestinations) {
  EXPECT_EQ(build("tcp dst=10.0.0.99").fields.eth_dst, MacAddr::broadcast());
  EXPECT_EQ(build("udp dst=10.0.0.255").fields.eth_dst, MacAddr::broadcast());
}

TEST_F(PacketSpecTest, EthDstIsBroadcastWhenNoRouterPortHoldsTheSource) {
  // The gateway is the router port whose subnet holds the source: none does for 172.16.0.5.
  EXPECT_EQ(build("tcp src=172.16.0.5 dst=203.0.113.9").fields.eth_dst, MacAddr::broadcast());
}

TEST_F(PacketSpecTest, EthDstIsBroadcastForIpv6WithoutAnIpv6Gateway) {
  EXPECT_EQ(build("ipv6 src=fd00::1 dst=fd00:1::2").fields.eth_dst, MacAddr::broadcast());
}

TEST_F(PacketSpecTest, EthDstDefaultsToTheRouterPortsMacOnARouterIngressPort) {
  ParsedPacket p = build("tcp eth_src=02:00:00:00:99:01 src=198.51.100.7 dst=10.0.0.11", "r1-up");
  EXPECT_EQ(p.fields.eth_dst, kR1UpMac);
  EXPECT_EQ(p.fields.eth_src, mac("02:00:00:00:99:01"));
}

TEST_F(PacketSpecTest, ArpDefaultsToARequestFromThePort) {
  ParsedPacket p = build("arp tpa=10.0.0.12");
  EXPECT_EQ(p.fields.eth_src, kVmA1Mac);
  EXPECT_EQ(p.fields.eth_dst, MacAddr::broadcast());
  EXPECT_EQ(p.fields.arp_op, packet::kArpOpRequest);
  EXPECT_EQ(p.fields.arp_sha, kVmA1Mac);
  EXPECT_EQ(p.fields.arp_spa, ip("10.0.0.11"));
  EXPECT_TRUE(p.fields.arp_tha.isZero());
  EXPECT_EQ(p.fields.arp_tpa, ip("10.0.0.12"));
}

TEST_F(PacketSpecTest, ArpTakesSrcAndDstAsSenderAndTargetAddresses) {
  ParsedPacket p = build("arp src=10.0.0.50 dst=10.0.0.12");
  EXPECT_EQ(p.fields.arp_spa, ip("10.0.0.50"));
  EXPECT_EQ(p.fields.arp_tpa, ip("10.0.0.12"));
}

TEST_F(PacketSpecTest, ArpSenderMacFollowsEthSrc) {
  ParsedPacket p = build("arp eth_src=02:00:00:00:aa:01 tpa=10.0.0.12");
  EXPECT_EQ(p.fields.eth_src, mac("02:00:00:00:aa:01"));
  EXPECT_EQ(p.fields.arp_sha, mac("02:00:00:00:aa:01"));
}

TEST_F(PacketSpecTest, ArpReplyIsSentToTheTargetMac) {
  ParsedPacket p = build("arp op=reply tpa=10.0.0.12 tha=02:00:00:00:0a:0c");
  EXPECT_EQ(p.fields.arp_op, packet::kArpOpReply);
  EXPECT_EQ(p.fields.eth_dst, kVmA2Mac);
  EXPECT_EQ(p.fields.arp_tha, kVmA2Mac);
}

// --- Every key ---

TEST_F(PacketSpecTest, EthSrcAndEthDstOverrideTheDefaults) {
  ParsedPacket p = build("tcp eth_src=02:00:00:00:aa:01 eth_dst=02:00:00:00:aa:02 dst=10.0.0.12");
  EXPECT_EQ(p.fields.eth_src, mac("02:00:00:00:aa:01"));
  EXPECT_EQ(p.fields.eth_dst, mac("02:00:00:00:aa:02"));
}

TEST_F(PacketSpecTest, SrcAndDstSetTheAddresses) {
  ParsedPacket p = build("udp src=10.0.0.77 dst=10.0.1.12");
  EXPECT_EQ(p.fields.nw_src, ip("10.0.0.77"));
  EXPECT_EQ(p.fields.nw_dst, ip("10.0.1.12"));
  ParsedPacket v6 = build("ipv6 src=fd00::7 dst=fd00::8");
  EXPECT_EQ(v6.fields.nw_src, ip("fd00::7"));
  EXPECT_EQ(v6.fields.nw_dst, ip("fd00::8"));
}

TEST_F(PacketSpecTest, VlanAddsATag) {
  for (const char* spec : {"tcp dst=10.0.0.12 vlan=100", "arp tpa=10.0.0.12 vlan=100"}) {
    ParsedPacket p = build(spec);
    EXPECT_TRUE(p.fields.vlan_present) << spec;
    EXPECT_EQ(p.fields.vlan_id, 100) << spec;
    EXPECT_EQ(p.vlan_tags, 1) << spec;
  }
  EXPECT_EQ(build("ip dst=10.0.0.12 vlan=4095").fields.vlan_id, 4095);
}

TEST_F(PacketSpecTest, TtlAndTosSetTheIpHeader) {
  ParsedPacket p = build("tcp dst=10.0.0.12 ttl=1 tos=46");
  EXPECT_EQ(p.fields.nw_ttl, 1);
  EXPECT_EQ(p.fields.nw_tos, 46);
  ParsedPacket v6 = build("ipv6 src=fd00::1 dst=fd00::2 ttl=255 tos=0");
  EXPECT_EQ(v6.fields.nw_ttl, 255);
}

TEST_F(PacketSpecTest, NumbersMayBeHexadecimal) {
  ParsedPacket p = build("tcp dst=10.0.0.12 tos=0x2e dport=0X50 vlan=0x0ff");
  EXPECT_EQ(p.fields.nw_tos, 0x2e);
  EXPECT_EQ(p.fields.tp_dst, 80);
  EXPECT_EQ(p.fields.vlan_id, 0xff);
}

TEST_F(PacketSpecTest, FragFirstIsTheFirstFragmentWithItsL4Header) {
  ParsedPacket p = build("tcp dst=10.0.0.12 dport=22 frag=first");
  EXPECT_EQ(p.fields.nw_frag, FragType::First);
  EXPECT_TRUE(p.ip_more_fragments);
  EXPECT_EQ(p.ip_fragment_offset, 0);
  EXPECT_EQ(p.l4, L4Kind::Tcp);
  EXPECT_EQ(p.fields.tp_dst, 22);
}

TEST_F(PacketSpecTest, FragLaterIsALaterFragmentWithoutL4HeaderKeepingTheProtocol) {
  struct Case {
    const char* spec;
    uint8_t nw_proto;
  };
  const Case cases[] = {
      {"tcp dst=10.0.0.12 frag=later", packet::kIpProtoTcp},
      {"udp dst=10.0.0.12 frag=later", packet::kIpProtoUdp},
      {"icmp dst=10.0.0.12 frag=later", packet::kIpProtoIcmp},
      {"ip dst=10.0.0.12 frag=later", 253},
  };
  for (const Case& c : cases) {
    ParsedPacket p = build(c.spec);
    EXPECT_EQ(p.fields.nw_frag, FragType::Later) << c.spec;
    EXPECT_GT(p.ip_fragment_offset, 0) << c.spec;
    EXPECT_EQ(p.l4, L4Kind::None) << c.spec;
    EXPECT_EQ(p.fields.nw_proto, c.nw_proto) << c.spec;
    EXPECT_EQ(p.fields.tp_dst, 0) << c.spec;
  }
}

TEST_F(PacketSpecTest, SizeSetsThePayloadLength) {
  EXPECT_EQ(payloadSize(build("tcp dst=10.0.0.12 size=100")), 100u);
  EXPECT_EQ(payloadSize(build("udp dst=10.0.0.12 size=0")), 0u);
  EXPECT_EQ(payloadSize(build("icmp dst=10.0.0.12 size=1")), 1u);
  ParsedPacket p = build("ip dst=10.0.0.12 size=9000");
  EXPECT_EQ(p.l3_end - p.l3_offset, 20u + 9000u);
}

TEST_F(PacketSpecTest, SportAndDportSetThePorts) {
  for (const char* proto : {"tcp", "udp"}) {
    ParsedPacket p = build(std::string(proto) + " dst=10.0.0.12 sport=0 dport=65535");
    EXPECT_EQ(p.fields.tp_src, 0) << proto;
    EXPECT_EQ(p.fields.tp_dst, 65535) << proto;
  }
}

TEST_F(PacketSpecTest, FlagsSetTheTcpFlags) {
  struct Case {
    const char* flags;
    uint16_t bits;
  };
  const Case cases[] = {
      {"S", packet::kTcpSyn},
      {"A", packet::kTcpAck},
      {"F", packet::kTcpFin},
      {"R", packet::kTcpRst},
      {"P", packet::kTcpPsh},
      {"SA", packet::kTcpSyn | packet::kTcpAck},
      {"FPA", packet::kTcpFin | packet::kTcpPsh | packet::kTcpAck},
      {"RA", packet::kTcpRst | packet::kTcpAck},
  };
  for (const Case& c : cases) {
    ParsedPacket p = build(std::string("tcp dst=10.0.0.12 flags=") + c.flags);
    EXPECT_EQ(p.fields.tcp_flags, c.bits) << c.flags;
  }
}

TEST_F(PacketSpecTest, IdAndSeqSetTheEchoFields) {
  ParsedPacket p = build("icmp dst=10.0.0.12 id=7 seq=65535");
  EXPECT_EQ(p.fields.icmp_type, packet::kIcmpEchoRequest);
  EXPECT_EQ(p.fields.icmp_id, 7);
  EXPECT_EQ(u16At(p.l4_offset + 4), 7);
  EXPECT_EQ(u16At(p.l4_offset + 6), 65535);
}

TEST_F(PacketSpecTest, TypeAndCodeSetTheIcmpHeader) {
  ParsedPacket p = build("icmp dst=10.0.0.12 type=3 code=1");
  EXPECT_EQ(p.fields.icmp_type, packet::kIcmpDestUnreachable);
  EXPECT_EQ(p.fields.icmp_code, packet::kIcmpCodeHostUnreachable);
  ParsedPacket reply = build("icmp dst=10.0.0.12 type=0 id=5 seq=6");
  EXPECT_EQ(reply.fields.icmp_type, packet::kIcmpEchoReply);
  EXPECT_EQ(reply.fields.icmp_id, 5);
  EXPECT_EQ(u16At(reply.l4_offset + 6), 6);
  EXPECT_EQ(build("icmp dst=10.0.0.12 code=9").fields.icmp_type, packet::kIcmpEchoRequest);
  EXPECT_EQ(build("icmp dst=10.0.0.12 code=9").fields.icmp_code, 9);
}

TEST_F(PacketSpecTest, ArpKeysSetEveryArpField) {
  ParsedPacket p = build(
      "arp op=reply spa=10.0.0.12 tpa=10.0.0.11 sha=02:00:00:00:aa:01 tha=02:00:00:00:aa:02 "
      "eth_dst=02:00:00:00:aa:03");
  EXPECT_EQ(p.fields.arp_op, packet::kArpOpReply);
  EXPECT_EQ(p.fields.arp_spa, ip("10.0.0.12"));
  EXPECT_EQ(p.fields.arp_tpa, ip("10.0.0.11"));
  EXPECT_EQ(p.fields.arp_sha, mac("02:00:00:00:aa:01"));
  EXPECT_EQ(p.fields.arp_tha, mac("02:00:00:00:aa:02"));
  EXPECT_EQ(p.fields.eth_dst, mac("02:00:00:00:aa:03"));
  EXPECT_EQ(p.fields.eth_src, kVmA1Mac);
  EXPECT_EQ(build("arp op=request tpa=10.0.0.12").fields.arp_op, packet::kArpOpRequest);
}

TEST_F(PacketSpecTest, ExplicitAddressesWorkOnAPortWithoutMacOrAddress) {
  ParsedPacket p = build("udp eth_src=02:00:00:00:aa:01 src=10.0.0.50 dst=10.0.0.12", "net-a-r1");
  EXPECT_EQ(p.fields.eth_src, mac("02:00:00:00:aa:01"));
  EXPECT_EQ(p.fields.nw_src, ip("10.0.0.50"));
  EXPECT_EQ(p.fields.eth_dst, kVmA2Mac);
}

// --- Errors: InvalidArgument naming the token at fault ---

TEST_F(PacketSpecTest, EmptyDescriptionIsAnError) {
  for (const char* spec : {"", "   ", " , \t"}) {
    Status s = error(spec);
    EXPECT_EQ(s.code(), StatusCode::InvalidArgument) << "'" << spec << "'";
    EXPECT_THAT(s.message(), HasSubstr("empty")) << "'" << spec << "'";
  }
}

TEST_F(PacketSpecTest, UnknownProtocolIsNamed) {
  for (const char* spec : {"sctp dst=10.0.0.12", "TCP dst=10.0.0.12", "dst=10.0.0.12 tcp"}) {
    Status s = error(spec);
    EXPECT_EQ(s.code(), StatusCode::InvalidArgument) << spec;
    std::string word(spec, std::string_view(spec).find(' '));
    EXPECT_THAT(s.message(), HasSubstr("'" + word + "' is not a protocol")) << spec;
  }
}

TEST_F(PacketSpecTest, UnknownKeyIsNamed) {
  Status s = error("tcp dst=10.0.0.12 colour=red");
  EXPECT_EQ(s.code(), StatusCode::InvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("unknown key 'colour'"));
  EXPECT_THAT(s.message(), HasSubstr("dport"));  // Lists the known keys.
  EXPECT_THAT(error("tcp dst=10.0.0.12 DPORT=1").message(), HasSubstr("'DPORT'"));
}

TEST_F(PacketSpecTest, KeyGivenTwiceIsNamed) {
  for (const char* key : {"dst", "dport", "eth_src"}) {
    std::string spec =
        std::string("tcp dst=10.0.0.12 dport=1 eth_src=02:00:00:00:aa:01 ") + key + "=10.0.0.13";
    Status s = error(spec);
    EXPECT_EQ(s.code(), StatusCode::InvalidArgument) << spec;
    EXPECT_THAT(s.message(), HasSubstr(std::string("'") + key + "' given twice")) << spec;
  }
}

TEST_F(PacketSpecTest, WordThatIsNotKeyEqualsValueIsNamed) {
  struct Case {
    const char* spec;
    const char* word;
  };
  const Case cases[] = {
      {"tcp dport=1 dst", "dst"},
      {"tcp dst=10.0.0.12 =5", "=5"},
      {"tcp dst=10.0.0.12 10.0.0.13", "10.0.0.13"},
  };
  for (const Case& c : cases) {
    Status s = error(c.spec);
    EXPECT_EQ(s.code(), StatusCode::InvalidArgument) << c.spec;
    EXPECT_THAT(s.message(), HasSubstr(std::string("'") + c.word + "' is not key=value")) << c.spec;
  }
}

TEST_F(PacketSpecTest, BadValuesAreInvalidArgumentsNamingTheirKey) {
  struct Case {
    const char* spec;
    const char* key;
  };
  const Case cases[] = {
      // Numbers: not numbers, signs, fractions, empty, out of range.
      {"tcp dst=10.0.0.12 sport=abc", "sport"},
      {"tcp dst=10.0.0.12 sport=", "sport"},
      {"tcp dst=10.0.0.12 sport=-1", "sport"},
      {"tcp dst=10.0.0.12 sport=+1", "sport"},
      {"tcp dst=10.0.0.12 sport=1.5", "sport"},
      {"tcp dst=10.0.0.12 sport=0x", "sport"},
      {"tcp dst=10.0.0.12 sport=0xg1", "sport"},
      {"tcp dst=10.0.0.12 sport=99999999999", "sport"},
      {"tcp dst=10.0.0.12 sport=65536", "sport"},
      {"udp dst=10.0.0.12 dport=65536", "dport"},
      {"udp dst=10.0.0.12 dport=22x", "dport"},
      {"tcp dst=10.0.0.12 ttl=256", "ttl"},
      {"tcp dst=10.0.0.12 tos=256", "tos"},
      {"tcp dst=10.0.0.12 tos=0x100", "tos"},
      {"tcp dst=10.0.0.12 vlan=4096", "vlan"},
      {"arp tpa=10.0.0.12 vlan=4096", "vlan"},
      {"tcp dst=10.0.0.12 size=9001", "size"},
      {"icmp dst=10.0.0.12 id=65536", "id"},
      {"icmp dst=10.0.0.12 seq=65536", "seq"},
      {"icmp dst=10.0.0.12 type=256", "type"},
      {"icmp dst=10.0.0.12 code=256", "code"},
      // Addresses.
      {"tcp dst=10.0.0.256", "dst"},
      {"tcp dst=host", "dst"},
      {"tcp src=10.0.0 dst=10.0.0.12", "src"},
      {"arp spa=1.2.3 tpa=10.0.0.12", "spa"},
      {"arp tpa=10.0.0.x", "tpa"},
      // MACs.
      {"tcp eth_src=zz dst=10.0.0.12", "eth_src"},
      {"tcp eth_dst=02:00:00:00:00 dst=10.0.0.12", "eth_dst"},
      {"arp eth_dst=02:00:00:00:00:0g tpa=10.0.0.12", "eth_dst"},
      {"arp sha=02-00-00-00-00-01 tpa=10.0.0.12", "sha"},
      {"arp tha=broadcast tpa=10.0.0.12", "tha"},
      // Words from a fixed set.
      {"tcp dst=10.0.0.12 frag=middle", "frag"},
      {"tcp dst=10.0.0.12 flags=SX", "flags"},
      {"tcp dst=10.0.0.12 flags=s", "flags"},
      {"arp tpa=10.0.0.12 op=ask", "op"},
  };
  for (const Case& c : cases) {
    Status s = error(c.spec);
    EXPECT_EQ(s.code(), StatusCode::InvalidArgument) << c.spec << ": " << s.toString();
    EXPECT_THAT(s.message(), StartsWith(std::string(c.key) + ": ")) << c.spec;
  }
}

TEST_F(PacketSpecTest, BadValueErrorsQuoteTheValue) {
  EXPECT_THAT(error("tcp dst=10.0.0.12 sport=abc").message(), HasSubstr("'abc'"));
  EXPECT_THAT(error("tcp dst=10.0.0.12 ttl=300").message(), HasSubstr("'300'"));
  EXPECT_THAT(error("tcp dst=10.0.0.12 ttl=300").message(), HasSubstr("255"));
  EXPECT_THAT(error("tcp dst=host").message(), HasSubstr("'host'"));
  EXPECT_THAT(error("tcp dst=10.0.0.12 flags=SX").message(), HasSubstr("'SX'"));
}

TEST_F(PacketSpecTest, BadHexValueErrorsQuoteTheValueAsWritten) {
  EXPECT_THAT(error("tcp dst=10.0.0.12 tos=0x100").message(), HasSubstr("'0x100'"));
}

TEST_F(PacketSpecTest, KeysThatDoNotApplyToTheProtocolAreErrors) {
  struct Case {
    const char* spec;
    const char* key;
  };
  const Case cases[] = {
      {"udp dst=10.0.0.12 flags=S", "flags"},
      {"arp tpa=10.0.0.12 ttl=9", "ttl"},
      {"arp tpa=10.0.0.12 size=10", "size"},
      {"arp tpa=10.0.0.12 dport=80", "dport"},
      {"tcp dst=10.0.0.12 id=3", "id"},
      {"tcp dst=10.0.0.12 type=8", "type"},
      {"icmp dst=10.0.0.12 sport=9", "sport"},
      {"ip dst=10.0.0.12 dport=80", "dport"},
      {"ipv6 dst=fd00::1 src=fd00::2 flags=S", "flags"},
      {"tcp dst=10.0.0.12 op=reply", "op"},
  };
  for (const Case& c : cases) {
    Status s = error(c.spec);
    EXPECT_EQ(s.code(), StatusCode::InvalidArgument) << c.spec;
    EXPECT_THAT(s.message(), HasSubstr(std::string("'") + c.key + "' does not apply"))
        << c.spec << ": " << s.message();
  }
}

TEST_F(PacketSpecTest, ArpReplyWithoutTargetIsABroadcastGratuitousReply) {
  ParsedPacket p = build("arp op=reply src=10.0.0.11 tpa=10.0.0.11");
  EXPECT_EQ(p.fields.arp_op, packet::kArpOpReply);
  EXPECT_TRUE(p.fields.eth_dst.isBroadcast());
}

TEST_F(PacketSpecTest, AddressFamilyMismatchNamesTheAddresses) {
  struct Case {
    const char* spec;
    const char* named;
  };
  const Case cases[] = {
      {"tcp dst=fd00::1", "dst"},
      {"udp src=fd00::1 dst=10.0.0.12", "src"},
      {"ip dst=fd00::1", "dst"},
      {"ipv6 src=10.0.0.11 dst=fd00::2", "src"},
      {"ipv6 src=fd00::1 dst=10.0.0.12", "dst"},
      {"arp tpa=fd00::1", "tpa"},
      {"arp spa=fd00::1 tpa=10.0.0.12", "spa"},
  };
  for (const Case& c : cases) {
    Status s = error(c.spec);
    EXPECT_EQ(s.code(), StatusCode::InvalidArgument) << c.spec << ": " << s.toString();
    EXPECT_THAT(s.message(), HasSubstr(c.named)) << c.spec;
  }
}

TEST_F(PacketSpecTest, MissingDestinationIsNamed) {
  Status s = error("tcp dport=22");
  EXPECT_EQ(s.code(), StatusCode::InvalidArgument);
  EXPECT_THAT(s.message(), StartsWith("dst: "));
  Status arp = error("arp");
  EXPECT_EQ(arp.code(), StatusCode::InvalidArgument);
  EXPECT_THAT(arp.message(), HasSubstr("tpa"));
}

TEST_F(PacketSpecTest, PortWithoutWorkloadMacNeedsEthSrc) {
  // net-a-r1 has no MAC; r1-up is a router port, whose MAC is not a sender's.
  for (const char* port_name : {"net-a-r1", "r1-up"}) {
    Status s = error("tcp src=10.0.0.50 dst=10.0.0.12", port_name);
    EXPECT_EQ(s.code(), StatusCode::InvalidArgument) << port_name;
    EXPECT_THAT(s.message(), StartsWith("eth_src: ")) << port_name;
    EXPECT_THAT(s.message(), HasSubstr(port_name));
  }
}

TEST_F(PacketSpecTest, PortWithoutWorkloadAddressNeedsSrc) {
  struct Case {
    const char* port;
    const char* spec;
    const char* named;
  };
  const Case cases[] = {
      {"net-a-r1", "tcp eth_src=02:00:00:00:aa:01 dst=10.0.0.12", "src"},
      {"r1-up", "tcp eth_src=02:00:00:00:aa:01 dst=10.0.0.12", "src"},
      {"vm-a1", "ipv6 dst=fd00::2", "src"},  // No IPv6 address on the port.
      {"net-a-r1", "arp eth_src=02:00:00:00:aa:01 tpa=10.0.0.12", "spa"},
  };
  for (const Case& c : cases) {
    Status s = error(c.spec, c.port);
    EXPECT_EQ(s.code(), StatusCode::InvalidArgument) << c.port << ": " << c.spec;
    EXPECT_THAT(s.message(), HasSubstr(c.named)) << c.port << ": " << c.spec;
  }
}

}  // namespace
}  // namespace loom::trace
