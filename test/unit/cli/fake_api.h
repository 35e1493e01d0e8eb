#pragma once
// An in-memory stand-in for loom-api that follows the REST contract (docs/api.md) closely
// enough for loomctl's commands: CRUD with revisions and If-Match, paging, rule order and
// symmetric port links kept by the server, referrers, trace and sync. Test-only.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/client.h"

namespace loom::cli::testing {

class FakeApi : public Transport {
 public:
  HttpResponse send(const HttpRequest& request) override;
  std::string describe() const override { return "http://fake:1"; }

  // Objects by collection ("bridges") and id.
  std::map<std::string, std::map<std::string, nlohmann::json>> objects;
  std::map<std::string, int64_t> mod_revision;  // By id.
  int64_t revision = 1;
  std::vector<HttpRequest> requests;
  std::string token;                          // Required bearer token when non-empty.
  std::optional<HttpResponse> next_response;  // Returned (once) instead of handling.
  bool unreachable = false;
  bool sync_lagging = false;
  size_t page_size = 3;

 private:
  HttpResponse handle(const HttpRequest& request);
};

HttpResponse jsonResponse(int status, const nlohmann::json& body);
HttpResponse errorResponse(int status, const std::string& code, const std::string& message,
                           const std::string& field = "");

}  // namespace loom::cli::testing
