#pragma once
// loomctl's side of the REST contract (docs/api.md): requests over an injectable transport (the
// real one is cpp-httplib's client; unit tests use a fake), bearer auth, and the operator's
// reading of errors: "error: <status> <code>: <message>", the field at fault and a hint.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace loom::cli {

struct HttpRequest {
  std::string method;  // GET POST PUT DELETE
  std::string path;    // "/api/v1/bridges/<id>" with the query string already appended.
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct HttpResponse {
  int status = 0;  // 0: no response (connection error; see `transport_error`).
  std::string body;
  std::map<std::string, std::string> headers;  // Names in lower case.
  std::string transport_error;
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual HttpResponse send(const HttpRequest& request) = 0;
  // The base URL, for messages ("http://127.0.0.1:8080").
  virtual std::string describe() const = 0;
};

// cpp-httplib client to `base_url` ("http://host:port"). Timeouts apply to connect and to each
// read/write.
std::unique_ptr<Transport> makeHttpTransport(const std::string& base_url, int timeout_ms);

// A decoded reply. ok() for 2xx; otherwise an API error (status >= 300) or a connection error.
struct Reply {
  int status = 0;
  nlohmann::json body;  // Parsed JSON body (null if empty or not JSON).
  std::string raw_body;
  std::map<std::string, std::string> headers;
  std::string transport_error;

  bool ok() const { return status >= 200 && status < 300; }
  bool connectionError() const { return status == 0; }
  std::string errorCode() const;     // body.error.code, "" when absent.
  std::string errorMessage() const;  // body.error.message (or the raw body).
  std::string errorField() const;    // body.error.field.
  int64_t revision() const;          // body.revision, else X-Loom-Revision, else 0.
};

// "a b/c" -> "a%20b%2Fc".
std::string urlEncode(const std::string& text);
// "?k=v&k2=v2" of the non-empty values ("" when none).
std::string queryString(const std::vector<std::pair<std::string, std::string>>& params);

class ApiClient {
 public:
  ApiClient(Transport& transport, std::string token)
      : transport_(transport), token_(std::move(token)) {}

  Reply get(const std::string& path) { return call("GET", path, "", ""); }
  Reply post(const std::string& path, const nlohmann::json& body) {
    return call("POST", path, body.dump(), "");
  }
  Reply put(const std::string& path, const nlohmann::json& body, const std::string& if_match = "") {
    return call("PUT", path, body.dump(), if_match);
  }
  Reply del(const std::string& path, const std::string& if_match = "") {
    return call("DELETE", path, "", if_match);
  }
  // GET of a collection, following next_page_token; {"items": [...], "revision": R} or the
  // first failing reply.
  Reply listAll(const std::string& collection_path,
                std::vector<std::pair<std::string, std::string>> params);

  std::string baseUrl() const { return transport_.describe(); }

 private:
  Reply call(const std::string& method, const std::string& path, const std::string& body,
             const std::string& if_match);
  Transport& transport_;
  std::string token_;
};

// What the failing call was doing, for hints.
enum class Operation { Other, Create, Read, Update, Delete };

// The lines loomctl prints for a failed reply (without trailing newline):
//   error: 409 FAILED_PRECONDITION: bridge ... is referenced by ...
//     field: condition.nw_src
//     hint: ...
// `detail` (lines, already indented) goes between the field and the hint.
std::string formatError(const Reply& reply, Operation op, const std::string& base_url,
                        const std::string& detail = "");

// Exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitApiError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitConnection = 3;
int exitCodeFor(const Reply& reply);

}  // namespace loom::cli
