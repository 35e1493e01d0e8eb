#pragma once
// Internal to src/api: what a route handler returns, the one mapping of Status codes to HTTP
// statuses, and the JSON forms of objects and errors shared by every route.

#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/message.h>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "loom/v1/store.pb.h"
#include "store/object_store.h"

namespace loom::api {

using Json = nlohmann::json;

struct ApiReply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// 400 InvalidArgument / OutOfRange / ResourceExhausted, 403 PermissionDenied, 404 NotFound,
// 409 AlreadyExists / FailedPrecondition / Aborted, 501 Unimplemented, 503 Unavailable /
// DeadlineExceeded / Cancelled, 500 otherwise. (401, 405 and 413 are decided by the server
// before any handler runs.)
int httpStatusOf(StatusCode code);

// {"error": {"code": "INVALID_ARGUMENT", "message": "...", "field": "..."}}
Json errorJson(const Status& status);
ApiReply errorReply(const Status& status);
ApiReply errorReply(int http_status, const Status& status);
ApiReply jsonReply(int http_status, const Json& body);

// A message in the API's JSON form (proto3 mapping, lower_snake_case names, defaults omitted).
Json messageJson(const google::protobuf::Message& message);
// The object an envelope holds, in that form ({} if none).
Json objectJson(const v1::StoredObject& object);
// "\"<mod_revision>\"".
std::string etag(int64_t mod_revision);

}  // namespace loom::api
