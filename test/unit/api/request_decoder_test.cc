// The request decoder: JSON bodies into objects with errors that name the field at fault.
#include "api/request_decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace loom::api {
namespace {

using store::Kind;
using ::testing::HasSubstr;

constexpr const char* kRule = R"({
  "id": "c2000000-0001-4000-8000-000000000002",
  "chain_id": "c1000000-0001-4000-8000-000000000001",
  "name": "accept-ssh",
  "condition": {"ethertype": 2048, "nw_proto": 6, "nw_src": "10.0.0.0/24",
                "tp_dst": {"start": 22}},
  "action": "ACCEPT"
})";

TEST(RequestDecoderTest, DecodesARuleWithNestedMessagesAndEnums) {
  auto o = decodeObject(Kind::Rule, kRule);
  ASSERT_TRUE(o.ok()) << o.status().toString();
  EXPECT_EQ(o->format(), store::kStoredFormat);
  ASSERT_TRUE(o->has_rule());
  const v1::Rule& r = o->rule();
  EXPECT_EQ(r.name(), "accept-ssh");
  EXPECT_EQ(r.action(), v1::Rule::ACCEPT);
  EXPECT_EQ(r.condition().ethertype(), 2048U);
  EXPECT_TRUE(r.condition().has_nw_proto());
  EXPECT_EQ(r.condition().nw_src(), "10.0.0.0/24");
  EXPECT_EQ(r.condition().tp_dst().start(), 22U);
}

TEST(RequestDecoderTest, DecodesRepeatedFieldsAndRepeatedMessages) {
  auto port = decodeObject(Kind::Port, R"({"name": "vm", "bridge_id":
      "b1000000-0001-4000-8000-000000000001", "mac": "02:00:00:00:0a:0b",
      "addresses": ["10.0.0.11/24", "10.0.0.12/24"]})");
  ASSERT_TRUE(port.ok()) << port.status().toString();
  EXPECT_EQ(port->port().addresses_size(), 2);
  auto zone = decodeObject(Kind::TunnelZone, R"({"name": "u", "type": "VXLAN", "members": [
      {"host_id": "d1000000-0000-4000-8000-000000000001", "address": "192.168.100.1"}]})");
  ASSERT_TRUE(zone.ok()) << zone.status().toString();
  ASSERT_EQ(zone->tunnel_zone().members_size(), 1);
  EXPECT_EQ(zone->tunnel_zone().members(0).address(), "192.168.100.1");
}

TEST(RequestDecoderTest, AcceptsJsonNamesQuotedIntegersEnumNumbersAndNull) {
  auto o = decodeObject(Kind::Rule, R"({"chainId": "c1000000-0001-4000-8000-000000000001",
      "condition": {"nwProto": "6", "tp_dst": {"start": 22.0}}, "action": 2, "name": null})");
  ASSERT_TRUE(o.ok()) << o.status().toString();
  EXPECT_EQ(o->rule().chain_id(), "c1000000-0001-4000-8000-000000000001");
  EXPECT_EQ(o->rule().condition().nw_proto(), 6U);
  EXPECT_EQ(o->rule().condition().tp_dst().start(), 22U);
  EXPECT_EQ(o->rule().action(), v1::Rule::DROP);
  EXPECT_EQ(o->rule().name(), "");
}

TEST(RequestDecoderTest, AcceptsAnEmptyObjectForKindsWithoutRequiredFields) {
  auto o = decodeObject(Kind::Bridge, "{}");
  ASSERT_TRUE(o.ok()) << o.status().toString();
  EXPECT_TRUE(o->has_bridge());
}

struct ErrorCase {
  const char* name;
  Kind kind;
  const char* json;
  const char* field;    // Expected field() ("" = none).
  const char* message;  // Expected substring of the message.
};

class RequestDecoderErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(RequestDecoderErrorTest, IsInvalidArgumentNamingTheField) {
  const ErrorCase& c = GetParam();
  auto o = decodeObject(c.kind, c.json);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), StatusCode::InvalidArgument) << o.status().toString();
  EXPECT_EQ(o.status().field(), c.field) << o.status().toString();
  EXPECT_THAT(o.status().message(), HasSubstr(c.message));
}

const ErrorCase kErrors[] = {
    {"MalformedJsonWithOffset", Kind::Bridge, R"({"name": "x",})", "",
     "malformed JSON at line 1, column 14 (offset 13)"},
    {"TruncatedJson", Kind::Bridge, R"({"name": )", "", "malformed JSON"},
    {"EmptyBody", Kind::Bridge, "", "", "malformed JSON"},
    {"NotAnObject", Kind::Bridge, "[1, 2]", "", "expected a JSON object, got an array"},
    {"UnknownTopLevelField", Kind::Bridge, R"({"nmae": "x"})", "nmae", "unknown field"},
    {"UnknownNestedField", Kind::Rule,
     R"({"chain_id": "c1000000-0001-4000-8000-000000000001", "condition": {"nw_srcc": "x"}})",
     "condition.nw_srcc", "unknown field"},
    {"UnknownFieldInRepeatedMessage", Kind::TunnelZone,
     R"({"members": [{"host_id": "d1000000-0000-4000-8000-000000000001", "adress": "x"}]})",
     "members[0].adress", "unknown field"},
    {"ReservedFieldIsUnknown", Kind::Rule, R"({"nat_target": 1})", "nat_target", "unknown field"},
    {"StringInsteadOfNumber", Kind::Rule,
     R"({"chain_id": "c1000000-0001-4000-8000-000000000001", "condition": {"tp_dst": {"start": "x"}}})",
     "condition.tp_dst.start", "expected a number"},
    {"NumberInsteadOfString", Kind::Bridge, R"({"name": 5})", "name",
     "expected a string, got a number"},
    {"StringInsteadOfBool", Kind::Bridge, R"({"admin_state_up": "yes"})", "admin_state_up",
     "expected a boolean"},
    {"ScalarInsteadOfList", Kind::Port, R"({"addresses": "10.0.0.1/24"})", "addresses",
     "expected an array"},
    {"NullInList", Kind::Port, R"({"addresses": [null]})", "addresses[0]", "null"},
    {"ScalarInsteadOfMessage", Kind::Rule, R"({"condition": 3})", "condition",
     "expected an object"},
    {"NegativeUnsigned", Kind::Port, R"({"mtu": -1})", "mtu", "out of range for uint32"},
    {"TooLargeForUint32", Kind::Port, R"({"mtu": 4294967296})", "mtu", "out of range"},
    {"FractionForInteger", Kind::Port, R"({"mtu": 1.5})", "mtu", "expected an integer"},
    {"UnknownEnumName", Kind::Rule, R"({"action": "ALLOW"})", "action",
     "expected one of ACTION_UNSPECIFIED, ACCEPT"},
    {"UnknownEnumNumber", Kind::Rule, R"({"action": 99})", "action", "expected one of"},
    {"FieldGivenTwiceByBothNames", Kind::Bridge, R"({"tenant_id": "a", "tenantId": "b"})",
     "tenant_id", "given more than once"},
    {"BadCidr", Kind::Port,
     R"({"bridge_id": "b1000000-0001-4000-8000-000000000001", "addresses": ["10.0.0.300/24"]})",
     "addresses[0]", ""},
    {"BadMac", Kind::Port,
     R"({"bridge_id": "b1000000-0001-4000-8000-000000000001", "mac": "02:00:zz:00:00:01"})", "mac",
     ""},
};

INSTANTIATE_TEST_SUITE_P(Table, RequestDecoderErrorTest, ::testing::ValuesIn(kErrors),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(RequestDecoderTest, RejectsBodiesNestedTooDeep) {
  std::string deep(kMaxJsonDepth + 5, '[');
  deep += std::string(kMaxJsonDepth + 5, ']');
  auto o = decodeObject(Kind::Bridge, "{\"name\": " + deep + "}");
  ASSERT_FALSE(o.ok());
  EXPECT_THAT(o.status().message(), HasSubstr("nested deeper than"));
}

// Found by fuzzing: the parser quotes the bytes it last read, and an error message holding
// invalid UTF-8 could not be sent back as JSON.
TEST(RequestDecoderTest, MalformedJsonMessageIsPrintableWhateverTheBytes) {
  auto o = decodeObject(Kind::Bridge, "{\"name\": \"ab\x80\xff\"}");
  ASSERT_FALSE(o.ok());
  EXPECT_THAT(o.status().message(), HasSubstr("malformed JSON"));
  for (char ch : o.status().message()) {
    EXPECT_TRUE(ch >= 0x20 && ch < 0x7f) << "byte " << int{static_cast<unsigned char>(ch)};
  }
}

TEST(RequestDecoderTest, ValidatesFieldRangesAfterTypes) {
  auto o = decodeObject(Kind::Rule, R"({"chain_id": "c1000000-0001-4000-8000-000000000001",
      "condition": {"tp_dst": {"start": 70000}}, "action": "ACCEPT"})");
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), StatusCode::InvalidArgument);
  EXPECT_THAT(o.status().field(), HasSubstr("tp_dst")) << o.status().toString();
}

TEST(RequestDecoderTest, ValidatesCidrInsideTheCondition) {
  auto o = decodeObject(Kind::Rule, R"({"chain_id": "c1000000-0001-4000-8000-000000000001",
      "condition": {"nw_src": "10.0.0.0/33"}, "action": "ACCEPT"})");
  ASSERT_FALSE(o.ok());
  EXPECT_THAT(o.status().field(), HasSubstr("nw_src")) << o.status().toString();
}

TEST(RequestBodiesTest, SyncDefaultsAndLimits) {
  auto empty = decodeSyncRequest("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->revision, 0);
  EXPECT_EQ(empty->timeout_ms, kDefaultSyncTimeoutMs);
  auto given = decodeSyncRequest(R"({"revision": "42", "timeout_ms": 500})");
  ASSERT_TRUE(given.ok()) << given.status().toString();
  EXPECT_EQ(given->revision, 42);
  EXPECT_EQ(given->timeout_ms, 500);
  EXPECT_EQ(decodeSyncRequest(R"({"timeout_ms": 60001})").status().field(), "timeout_ms");
  EXPECT_EQ(decodeSyncRequest(R"({"revision": -1})").status().field(), "revision");
  EXPECT_EQ(decodeSyncRequest(R"({"rev": 1})").status().field(), "rev");
}

TEST(RequestBodiesTest, TraceNeedsAPortAndPackets) {
  auto ok = decodeTraceRequest(
      R"({"port": "vm-a1", "packets": ["tcp dst=10.0.1.11 dport=22"], "follow": false})");
  ASSERT_TRUE(ok.ok()) << ok.status().toString();
  EXPECT_EQ(ok->port, "vm-a1");
  EXPECT_FALSE(ok->follow);
  EXPECT_EQ(decodeTraceRequest(R"({"packets": ["tcp"]})").status().field(), "port");
  EXPECT_EQ(decodeTraceRequest(R"({"port": "p"})").status().field(), "packets");
  EXPECT_EQ(decodeTraceRequest(R"({"port": "p", "packets": ["tcp", 1]})").status().field(),
            "packets[1]");
  EXPECT_EQ(decodeTraceRequest(R"({"port": "p", "packets": ["tcp"], "x": 1})").status().field(),
            "x");
}

TEST(RequestBodiesTest, TracePacketsMayNameTheirOwnPort) {
  auto ok = decodeTraceRequest(
      R"({"port": "a", "packets": ["tcp", {"port": "b", "spec": "udp"}, {"spec": "icmp"}]})");
  ASSERT_TRUE(ok.ok()) << ok.status().toString();
  ASSERT_EQ(ok->packets.size(), 3u);
  EXPECT_EQ(ok->packets[0].port, "");
  EXPECT_EQ(ok->packets[1].port, "b");
  EXPECT_EQ(ok->packets[1].spec, "udp");
  EXPECT_EQ(ok->packets[2].spec, "icmp");
  // Without a request-wide port every packet needs its own.
  EXPECT_TRUE(decodeTraceRequest(R"({"packets": [{"port": "b", "spec": "udp"}]})").ok());
  EXPECT_EQ(decodeTraceRequest(R"({"packets": [{"spec": "udp"}]})").status().field(),
            "packets[0].port");
  EXPECT_EQ(decodeTraceRequest(R"({"port": "a", "packets": [{"port": "b"}]})").status().field(),
            "packets[0].spec");
  EXPECT_EQ(
      decodeTraceRequest(R"({"port": "a", "packets": [{"spec": "x", "ttl": 1}]})").status().field(),
      "packets[0].ttl");
  EXPECT_EQ(decodeTraceRequest(R"({"port": "a", "packets": [{"spec": 5}]})").status().field(),
            "packets[0].spec");
}

TEST(RequestBodiesTest, BindingNeedsHostAndInterface) {
  auto ok = decodeBindingRequest(R"({"host_id": "h", "interface_name": "tap0"})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->interface_name, "tap0");
  EXPECT_EQ(decodeBindingRequest(R"({"interface_name": "tap0"})").status().field(), "host_id");
  EXPECT_EQ(decodeBindingRequest(R"({"host_id": "h"})").status().field(), "interface_name");
}

}  // namespace
}  // namespace loom::api
