#pragma once
// The REST API's request decoder: untrusted request bytes (JSON bodies, query parameters,
// headers) into typed values, with errors a client can act on. Pure: no I/O, no clock, no
// store; the server calls it before anything touches etcd, and a fuzz target feeds it bytes.
//
// JSON bodies follow the schema's proto3 JSON mapping (docs/api.md): lower_snake_case names
// (the lowerCamel JSON names are accepted too), enums by name (or number), 64-bit and 32-bit
// integers as numbers or decimal strings, null = the field's default. Errors are
// InvalidArgument, in this order of checks:
//   - malformed JSON: "malformed JSON at line L, column C (offset O): ...", no field;
//   - a body nested deeper than kMaxJsonDepth: no field;
//   - an unknown field: field() = its path ("condition.nw_srcc", "members[1].adress");
//   - a value of the wrong type: "tp_dst.start: expected a number", field() = the path;
//   - then store::validateFields (bad CIDR, MAC, range, missing required field), whose
//     field() is the path within the object.
// Query parameters: an unknown or repeated parameter, or a value out of its domain, is
// InvalidArgument with field() = the parameter's name.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <google/protobuf/message.h>

#include "base/status.h"
#include "loom/v1/store.pb.h"
#include "store/keys.h"
#include "store/object_store.h"

namespace loom::api {

inline constexpr int kMaxJsonDepth = 32;
inline constexpr int64_t kMaxListLimit = 1000;
inline constexpr int64_t kMaxSyncTimeoutMs = 60000;
inline constexpr int64_t kDefaultSyncTimeoutMs = 10000;

// JSON text into `out` (cleared first) with the strictness above; no validateFields.
Status decodeMessage(std::string_view json, google::protobuf::Message& out);

// A request body for a `kind` object into its envelope (format set), then validateFields.
StatusOr<v1::StoredObject> decodeObject(store::Kind kind, std::string_view json);

// Query parameters in request order, as received (already percent-decoded).
using QueryParams = std::vector<std::pair<std::string, std::string>>;

// GET /api/v1/{coll}: tenant_id, parent_id, limit (1..1000), page_token, revision (>= 0).
StatusOr<store::ListOptions> decodeListQuery(const QueryParams& params);
// POST /api/v1/{coll}: position (>= 0), for rules only.
StatusOr<store::CreateOptions> decodeCreateQuery(store::Kind kind, const QueryParams& params);
// DELETE /api/v1/{coll}/{id}: cascade (true|false).
StatusOr<store::DeleteOptions> decodeDeleteQuery(const QueryParams& params);
// GET /api/v1/bindings: host_id. Returns the host id filter ("" = all).
StatusOr<std::string> decodeBindingsQuery(const QueryParams& params);
// Endpoints that take no parameters.
Status decodeNoQuery(const QueryParams& params);

// If-Match: "<mod_revision>" (quotes optional, W/ tolerated); "" or "*" -> 0 (no condition).
// InvalidArgument with field "If-Match" otherwise.
StatusOr<int64_t> decodeIfMatch(std::string_view header);

// Single-parameter parsers, exposed for tests: field = `name`.
StatusOr<int64_t> parseIntParam(std::string_view name, std::string_view value, int64_t min,
                                int64_t max);
StatusOr<bool> parseBoolParam(std::string_view name, std::string_view value);

// POST /api/v1/sync.
struct SyncRequest {
  int64_t revision = 0;  // 0: the current revision.
  int64_t timeout_ms = kDefaultSyncTimeoutMs;
};
StatusOr<SyncRequest> decodeSyncRequest(std::string_view json);

// POST /api/v1/trace. Each entry of "packets" is a spec string (sent from "port") or an object
// {"port": P, "spec": S} (sent from P), so one trace can follow a conversation between ports.
struct TracePacket {
  std::string port;  // Empty: the request's port.
  std::string spec;
};
struct TraceRequestBody {
  std::string port;
  std::vector<TracePacket> packets;  // At least one.
  std::vector<std::string> arp;
  bool follow = true;
};
StatusOr<TraceRequestBody> decodeTraceRequest(std::string_view json);

// PUT /api/v1/ports/{id}/binding.
struct BindingRequest {
  std::string host_id;
  std::string interface_name;
};
StatusOr<BindingRequest> decodeBindingRequest(std::string_view json);

}  // namespace loom::api
