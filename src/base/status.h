#pragma once
// Status and StatusOr: the control-plane error model.
//
// Control-plane code (schema loading, snapshot building, tools, later the store and the API)
// returns Status / StatusOr<T>. The data path (parser, simulation) never does: it returns
// outcome values with named reasons instead (see packet/parse_error.h, sim/result.h).
//
// Codes follow the canonical gRPC/absl set so the API can map them to HTTP in one place.

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace loom {

enum class StatusCode : int {
  Ok = 0,
  Cancelled = 1,
  Unknown = 2,
  InvalidArgument = 3,
  DeadlineExceeded = 4,
  NotFound = 5,
  AlreadyExists = 6,
  PermissionDenied = 7,
  ResourceExhausted = 8,
  FailedPrecondition = 9,
  Aborted = 10,
  OutOfRange = 11,
  Unimplemented = 12,
  Internal = 13,
  Unavailable = 14,
  DataLoss = 15,
};

std::string_view statusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::Ok; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "INVALID_ARGUMENT: port 'p1': bad mac 'zz'".
  std::string toString() const;

  // Returns a copy whose message is "<prefix>: <message>".
  Status withContext(std::string_view prefix) const;

  // The input field at fault, for errors a caller can fix ("condition.nw_src",
  // "addresses[1]"); empty when the error is not about one field. The API reports it.
  const std::string& field() const { return field_; }
  Status withField(std::string field) const {
    Status s = *this;
    s.field_ = std::move(field);
    return s;
  }

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_ && a.field_ == b.field_;
  }

 private:
  StatusCode code_ = StatusCode::Ok;
  std::string message_;
  std::string field_;
};

inline Status okStatus() { return Status(); }
inline Status invalidArgument(std::string m) { return {StatusCode::InvalidArgument, std::move(m)}; }
inline Status notFound(std::string m) { return {StatusCode::NotFound, std::move(m)}; }
inline Status failedPrecondition(std::string m) {
  return {StatusCode::FailedPrecondition, std::move(m)};
}
inline Status internalError(std::string m) { return {StatusCode::Internal, std::move(m)}; }
inline Status unavailable(std::string m) { return {StatusCode::Unavailable, std::move(m)}; }
inline Status aborted(std::string m) { return {StatusCode::Aborted, std::move(m)}; }
inline Status alreadyExists(std::string m) { return {StatusCode::AlreadyExists, std::move(m)}; }
inline Status deadlineExceeded(std::string m) {
  return {StatusCode::DeadlineExceeded, std::move(m)};
}
inline Status resourceExhausted(std::string m) {
  return {StatusCode::ResourceExhausted, std::move(m)};
}
// InvalidArgument about one input field: "<field>: <message>", with field() set.
inline Status invalidField(std::string field, std::string m) {
  return Status(StatusCode::InvalidArgument, field + ": " + m).withField(std::move(field));
}

// Holds either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design.
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design.
    assert(!status_.ok() && "StatusOr built from an OK status without a value");
    if (status_.ok()) status_ = Status(StatusCode::Internal, "StatusOr from OK status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace loom

#define LOOM_STATUS_CONCAT_INNER(a, b) a##b
#define LOOM_STATUS_CONCAT(a, b) LOOM_STATUS_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                    \
  do {                                           \
    ::loom::Status loom_status_ = (expr);        \
    if (!loom_status_.ok()) return loom_status_; \
  } while (0)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(LOOM_STATUS_CONCAT(loom_statusor_, __LINE__), lhs, expr)
