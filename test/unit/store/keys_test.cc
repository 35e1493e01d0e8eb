#include "store/keys.h"

#include <gtest/gtest.h>

namespace loom::store {
namespace {

constexpr const char* kId = "6f1c0000-0000-4000-8000-000000000001";
constexpr const char* kOther = "6f1c0000-0000-4000-8000-000000000002";

TEST(KindTest, NamesRoundTrip) {
  for (size_t i = 0; i < kKindCount; ++i) {
    auto kind = static_cast<Kind>(i);
    EXPECT_EQ(kindFromName(kindName(kind)), kind);
  }
  EXPECT_EQ(kindName(Kind::IpAddrGroup), "ip_addr_group");
  EXPECT_EQ(kindFromName("bridges"), std::nullopt);
}

TEST(KeysTest, LayoutUnderRoot) {
  Keys keys("/loom/");
  EXPECT_EQ(keys.root(), "/loom");
  EXPECT_EQ(keys.all(), "/loom/v1/");
  EXPECT_EQ(keys.objects(Kind::Port), "/loom/v1/obj/port/");
  EXPECT_EQ(keys.object(Kind::TunnelZone, kId), std::string("/loom/v1/obj/tunnel_zone/") + kId);
  EXPECT_EQ(keys.refs(Kind::Bridge, kId), std::string("/loom/v1/ref/bridge/") + kId + "/");
  EXPECT_EQ(keys.ref(Kind::Bridge, kId, Kind::Port, kOther),
            std::string("/loom/v1/ref/bridge/") + kId + "/port/" + kOther);
  EXPECT_EQ(keys.liveHost(kId), std::string("/loom/v1/live/host/") + kId);
  EXPECT_EQ(keys.livePort(kId), std::string("/loom/v1/live/port/") + kId);
}

TEST(KeysTest, ParsesWhatItBuilds) {
  Keys keys("/t/x");
  for (size_t i = 0; i < kKindCount; ++i) {
    auto kind = static_cast<Kind>(i);
    auto o = keys.parseObject(keys.object(kind, kId));
    ASSERT_TRUE(o);
    EXPECT_EQ(o->kind, kind);
    EXPECT_EQ(o->id, kId);
    auto src = keys.parseRefSource(keys.ref(Kind::Chain, kOther, kind, kId));
    ASSERT_TRUE(src);
    EXPECT_EQ(src->kind, kind);
    EXPECT_EQ(src->id, kId);
  }
  EXPECT_EQ(keys.parseLiveHost(keys.liveHost(kId)), kId);
  EXPECT_EQ(keys.parseLivePort(keys.livePort(kId)), kId);
}

TEST(KeysTest, RefusesForeignAndMalformedKeys) {
  Keys keys("/loom");
  EXPECT_FALSE(keys.parseObject("/other/v1/obj/port/x"));
  EXPECT_FALSE(keys.parseObject("/loom/v1/obj/widget/x"));
  EXPECT_FALSE(keys.parseObject("/loom/v1/obj/port/"));
  EXPECT_FALSE(keys.parseObject("/loom/v1/obj/port/a/b"));
  EXPECT_FALSE(keys.parseObject("/loom/v1/obj/port"));
  EXPECT_FALSE(keys.parseRefSource("/loom/v1/ref/port/a/widget/b"));
  EXPECT_FALSE(keys.parseRefSource("/loom/v1/ref/port/a/port/"));
  EXPECT_FALSE(keys.parseRefSource("/loom/v1/ref/port//port/b"));
  EXPECT_FALSE(keys.parseRefSource("/loom/v1/obj/port/a"));
  EXPECT_FALSE(keys.parseLiveHost("/loom/v1/live/port/a"));
  EXPECT_FALSE(keys.parseLiveHost("/loom/v1/live/host/"));
}

TEST(EnvelopeTest, RoundTripsEveryKind) {
  v1::StoredObject o;
  o.set_format(kStoredFormat);
  o.mutable_port()->set_id(kId);
  o.mutable_port()->set_tenant_id(kOther);
  o.mutable_port()->add_addresses("10.0.0.1/24");
  v1::StoredObject back;
  ASSERT_TRUE(decodeObject(encodeObject(o), back));
  EXPECT_EQ(back.SerializeAsString(), o.SerializeAsString());
  EXPECT_EQ(kindOf(back), Kind::Port);
  EXPECT_EQ(objectId(back), kId);
  EXPECT_EQ(tenantId(back), kOther);
  for (size_t i = 0; i < kKindCount; ++i) {
    v1::StoredObject e;
    e.set_format(kStoredFormat);
    mutablePayload(e, static_cast<Kind>(i));
    EXPECT_EQ(kindOf(e), static_cast<Kind>(i));
    EXPECT_NE(payload(e), nullptr);
    v1::StoredObject d;
    EXPECT_TRUE(decodeObject(encodeObject(e), d));
  }
}

TEST(EnvelopeTest, RefusesNewerFormatEmptyAndGarbage) {
  v1::StoredObject o;
  o.mutable_bridge()->set_id(kId);
  v1::StoredObject out;
  o.set_format(kStoredFormat + 1);
  EXPECT_FALSE(decodeObject(encodeObject(o), out));
  o.set_format(0);
  EXPECT_FALSE(decodeObject(encodeObject(o), out));
  v1::StoredObject empty;
  empty.set_format(kStoredFormat);
  EXPECT_FALSE(decodeObject(encodeObject(empty), out));
  EXPECT_FALSE(decodeObject("", out));
  EXPECT_FALSE(decodeObject("\xff\xff\xff\xff garbage", out));
  EXPECT_EQ(payload(empty), nullptr);
  EXPECT_EQ(kindOf(empty), std::nullopt);
}

}  // namespace
}  // namespace loom::store
