#include "api/reply.h"

#include <google/protobuf/util/json_util.h>

#include <exception>

#include "store/keys.h"

namespace loom::api {

int httpStatusOf(StatusCode code) {
  switch (code) {
    case StatusCode::Ok: return 200;
    case StatusCode::InvalidArgument:
    case StatusCode::OutOfRange:
    // ResourceExhausted from the store is one object whose own write needs more than etcd's
    // 128 operations per transaction (too many references): a property of the content the
    // client has to change, not of the body's size in bytes (that is 413, decided before the
    // body is read), so it is a 400.
    case StatusCode::ResourceExhausted: return 400;
    case StatusCode::PermissionDenied: return 403;
    case StatusCode::NotFound: return 404;
    case StatusCode::AlreadyExists:
    case StatusCode::FailedPrecondition:
    case StatusCode::Aborted: return 409;
    case StatusCode::Unimplemented: return 501;
    case StatusCode::Cancelled:
    case StatusCode::Unavailable:
    case StatusCode::DeadlineExceeded: return 503;
    case StatusCode::Unknown:
    case StatusCode::Internal:
    case StatusCode::DataLoss: return 500;
  }
  return 500;
}

Json errorJson(const Status& status) {
  Json e = {{"code", std::string(statusCodeName(status.code()))}, {"message", status.message()}};
  if (!status.field().empty()) e["field"] = status.field();
  return Json{{"error", e}};
}

ApiReply jsonReply(int http_status, const Json& body) {
  ApiReply r;
  r.status = http_status;
  // Strings from etcd or a client might not be valid UTF-8: replace rather than throw.
  r.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return r;
}

ApiReply errorReply(int http_status, const Status& status) {
  ApiReply r = jsonReply(http_status, errorJson(status));
  if (http_status == 503) r.headers.emplace_back("Retry-After", "1");
  return r;
}

ApiReply errorReply(const Status& status) {
  return errorReply(httpStatusOf(status.code()), status);
}

Json messageJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = false;
  std::string text;
  try {
    if (!google::protobuf::util::MessageToJsonString(message, &text, options).ok()) {
      return Json::object();
    }
    return Json::parse(text);
  } catch (const std::exception&) {
    return Json::object();
  }
}

Json objectJson(const v1::StoredObject& object) {
  const google::protobuf::Message* m = store::payload(object);
  return m == nullptr ? Json::object() : messageJson(*m);
}

std::string etag(int64_t mod_revision) { return "\"" + std::to_string(mod_revision) + "\""; }

}  // namespace loom::api
