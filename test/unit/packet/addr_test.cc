#include "packet/addr.h"

#include <gtest/gtest.h>

namespace loom::packet {
namespace {

TEST(MacAddr, ParsesAndFormatsLowercase) {
  auto m = MacAddr::parse("02:00:0A:bc:dE:ff");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->toU64(), 0x02000abcdeffULL);
  EXPECT_EQ(m->toString(), "02:00:0a:bc:de:ff");
}

TEST(MacAddr, RejectsMalformedText) {
  for (const char* text : {"", "02:00:00:00:00", "02:00:00:00:00:01:02", "02-00-00-00-00-01",
                           "02:00:00:00:00:0g", "0200:00:00:00:01", "02:00:00:00:00:1 "}) {
    EXPECT_FALSE(MacAddr::parse(text).has_value()) << text;
  }
}

TEST(MacAddr, RoundTripsThroughBytes) {
  const uint8_t bytes[6] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab};
  MacAddr m = MacAddr::fromBytes(bytes);
  uint8_t out[6];
  m.toBytes(out);
  EXPECT_EQ(0, std::memcmp(bytes, out, 6));
  EXPECT_EQ(m, MacAddr::fromU64(0x0123456789abULL));
}

TEST(MacAddr, ClassifiesBroadcastMulticastAndZero) {
  EXPECT_TRUE(MacAddr::broadcast().isBroadcast());
  EXPECT_TRUE(MacAddr::broadcast().isMulticast());
  EXPECT_TRUE(MacAddr::parse("01:00:5e:00:00:01")->isMulticast());
  EXPECT_TRUE(MacAddr::parse("02:00:00:00:00:01")->isUnicast());
  EXPECT_TRUE(MacAddr().isZero());
  EXPECT_EQ(MacAddr::fromU64(0xffff000000000001ULL).toU64(), 0x000000000001ULL);
}

TEST(IpAddr, ParsesAndFormatsIpv4) {
  auto a = IpAddr::parse("10.1.2.3");
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->isV4());
  EXPECT_EQ(a->v4(), 0x0a010203U);
  EXPECT_EQ(a->toString(), "10.1.2.3");
  EXPECT_EQ(a->bitLength(), 32);
  uint8_t out[4];
  a->toBytes(out);
  EXPECT_EQ(out[0], 10);
  EXPECT_EQ(out[3], 3);
}

TEST(IpAddr, ParsesAndFormatsIpv6Canonically) {
  auto a = IpAddr::parse("FD00:0:0::0001");
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->isV6());
  EXPECT_EQ(a->toString(), "fd00::1");
  EXPECT_EQ(a->bitLength(), 128);
  EXPECT_EQ(a->bytes()[0], 0xfd);
  EXPECT_EQ(a->bytes()[15], 1);
}

TEST(IpAddr, RejectsMalformedText) {
  for (const char* text :
       {"", "10.0.0", "10.0.0.256", "10.0.0.1.2", "fd00::1::2", "fd00:::1", "hello", "10.0.0.1/24",
        " 10.0.0.1", "1234:5678:9abc:def0:1234:5678:9abc:def0:1"}) {
    EXPECT_FALSE(IpAddr::parse(text).has_value()) << text;
  }
}

TEST(IpAddr, DefaultIsNoneAndPrintsNone) {
  IpAddr a;
  EXPECT_TRUE(a.isNone());
  EXPECT_EQ(a.toString(), "none");
  EXPECT_EQ(a.bitLength(), 0);
}

TEST(IpAddr, V4AndV6OfSameBytesDiffer) {
  IpAddr v4 = IpAddr::parse("10.0.0.1").value();
  IpAddr mapped = IpAddr::parse("::ffff:10.0.0.1").value();
  EXPECT_NE(v4, mapped);
  EXPECT_NE(v4.hash(), mapped.hash());
  EXPECT_LT(v4, mapped);  // Family orders first.
}

TEST(IpAddr, ClassifiesSpecialAddresses) {
  EXPECT_TRUE(IpAddr::parse("224.0.0.5")->isMulticast());
  EXPECT_TRUE(IpAddr::parse("ff02::1")->isMulticast());
  EXPECT_FALSE(IpAddr::parse("10.0.0.1")->isMulticast());
  EXPECT_TRUE(IpAddr::parse("255.255.255.255")->isLimitedBroadcast());
  EXPECT_TRUE(IpAddr::parse("0.0.0.0")->isUnspecified());
  EXPECT_TRUE(IpAddr::parse("::")->isUnspecified());
  EXPECT_TRUE(IpAddr::parse("127.1.2.3")->isLoopback());
  EXPECT_TRUE(IpAddr::parse("::1")->isLoopback());
  EXPECT_FALSE(IpAddr::parse("::2")->isLoopback());
}

TEST(IpAddr, MaskedKeepsLeadingBits) {
  EXPECT_EQ(IpAddr::parse("10.1.2.3")->masked(16), IpAddr::parse("10.1.0.0").value());
  EXPECT_EQ(IpAddr::parse("10.1.2.3")->masked(0), IpAddr::parse("0.0.0.0").value());
  EXPECT_EQ(IpAddr::parse("10.1.2.3")->masked(32), IpAddr::parse("10.1.2.3").value());
  EXPECT_EQ(IpAddr::parse("10.1.2.255")->masked(25), IpAddr::parse("10.1.2.128").value());
  EXPECT_EQ(IpAddr::parse("fd00:1:2:3::1")->masked(48), IpAddr::parse("fd00:1:2::").value());
  EXPECT_EQ(IpAddr::parse("fd00::ffff")->masked(121), IpAddr::parse("fd00::ff80").value());
}

TEST(IpPrefix, ParsesAndFormats) {
  auto p = IpPrefix::parse("10.0.0.1/24");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->len, 24);
  EXPECT_EQ(p->toString(), "10.0.0.1/24");
  EXPECT_EQ(p->network(), IpAddr::parse("10.0.0.0").value());
  auto v6 = IpPrefix::parse("fd00:1::/64");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->toString(), "fd00:1::/64");
}

TEST(IpPrefix, BareAddressIsHostPrefix) {
  EXPECT_EQ(IpPrefix::parse("10.0.0.1")->len, 32);
  EXPECT_EQ(IpPrefix::parse("fd00::1")->len, 128);
}

TEST(IpPrefix, RejectsMalformedText) {
  for (const char* text : {"10.0.0.0/33", "fd00::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x",
                           "10.0.0/8", "/8", "10.0.0.0/ 8"}) {
    EXPECT_FALSE(IpPrefix::parse(text).has_value()) << text;
  }
}

TEST(IpPrefix, ContainsAddressesOfSameFamilyOnly) {
  IpPrefix p = IpPrefix::parse("10.0.0.0/8").value();
  EXPECT_TRUE(p.contains(IpAddr::parse("10.255.0.1").value()));
  EXPECT_FALSE(p.contains(IpAddr::parse("11.0.0.1").value()));
  EXPECT_FALSE(p.contains(IpAddr::parse("::ffff:10.0.0.1").value()));
  EXPECT_TRUE(IpPrefix::parse("0.0.0.0/0")->contains(IpAddr::parse("1.2.3.4").value()));
  IpPrefix v6 = IpPrefix::parse("fd00:1::/32").value();
  EXPECT_TRUE(v6.contains(IpAddr::parse("fd00:1:ffff::1").value()));
  EXPECT_FALSE(v6.contains(IpAddr::parse("fd00:2::1").value()));
  EXPECT_TRUE(IpPrefix::parse("::/0")->contains(IpAddr::parse("fd00::1").value()));
}

TEST(IpPrefix, HostPrefixContainsOnlyItself) {
  IpPrefix h = IpPrefix::host(IpAddr::parse("10.0.0.1").value());
  EXPECT_TRUE(h.contains(IpAddr::parse("10.0.0.1").value()));
  EXPECT_FALSE(h.contains(IpAddr::parse("10.0.0.2").value()));
}

}  // namespace
}  // namespace loom::packet
