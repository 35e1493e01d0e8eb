#include "cli/client.h"

#include <httplib.h>

#include <cctype>
#include <cstdio>

namespace loom::cli {
namespace {

using nlohmann::json;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class HttpTransport : public Transport {
 public:
  HttpTransport(std::string base_url, int timeout_ms)
      : base_url_(std::move(base_url)), client_(base_url_) {
    auto t = std::chrono::milliseconds(timeout_ms);
    client_.set_connection_timeout(t);
    client_.set_read_timeout(t);
    client_.set_write_timeout(t);
    client_.set_keep_alive(true);
    client_.set_tcp_nodelay(true);
  }

  HttpResponse send(const HttpRequest& request) override {
    HttpResponse out;
    if (!client_.is_valid()) {
      out.transport_error = "invalid URL";
      return out;
    }
    httplib::Request req;
    req.method = request.method;
    req.path = request.path;
    for (const auto& [k, v] : request.headers) req.headers.emplace(k, v);
    if (request.method == "POST" || request.method == "PUT" || !request.body.empty()) {
      req.body = request.body;
      req.headers.emplace("Content-Type", "application/json");
    }
    httplib::Result res = client_.send(req);
    if (!res) {
      out.transport_error = httplib::to_string(res.error());
      return out;
    }
    out.status = res->status;
    out.body = res->body;
    for (const auto& [k, v] : res->headers) out.headers[lower(k)] = v;
    return out;
  }

  std::string describe() const override { return base_url_; }

 private:
  std::string base_url_;
  httplib::Client client_;
};

std::string hintFor(const Reply& reply, Operation op) {
  const std::string code = reply.errorCode();
  switch (reply.status) {
    case 401:
      return "the API needs a bearer token: pass --token T or --token-file F (or set LOOM_TOKEN)";
    case 403: return "the token is not allowed to do this";
    case 404: return "no such object or path; check the id (list the kind to see what exists)";
    case 409:
      if (code == "ABORTED") {
        return "the object changed since it was read (concurrent modification); show it again "
               "and retry";
      }
      if (code == "ALREADY_EXISTS") return "an object with this id already exists";
      if (op == Operation::Delete) {
        return "the object is still referenced; delete or change the referrers first, or use "
               "--cascade (it removes ports, routes, rules, memberships and bindings; never "
               "filters, jump targets or rule conditions)";
      }
      return "the change conflicts with other objects";
    case 413: return "the request body is too large";
    case 503: return "etcd unreachable; retry";
    case 504: return "timed out; retry or use a longer --timeout";
    default: return "";
  }
}

}  // namespace

std::unique_ptr<Transport> makeHttpTransport(const std::string& base_url, int timeout_ms) {
  return std::make_unique<HttpTransport>(base_url, timeout_ms);
}

std::string Reply::errorCode() const {
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const json& e = body["error"];
    if (e.contains("code") && e["code"].is_string()) return e["code"].get<std::string>();
  }
  return "";
}

std::string Reply::errorMessage() const {
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const json& e = body["error"];
    if (e.contains("message") && e["message"].is_string()) return e["message"].get<std::string>();
  }
  std::string s = raw_body;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string Reply::errorField() const {
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const json& e = body["error"];
    if (e.contains("field") && e["field"].is_string()) return e["field"].get<std::string>();
  }
  return "";
}

int64_t Reply::revision() const {
  if (body.is_object() && body.contains("revision") && body["revision"].is_number_integer()) {
    return body["revision"].get<int64_t>();
  }
  if (body.is_object() && body.contains("revision") && body["revision"].is_string()) {
    return std::strtoll(body["revision"].get<std::string>().c_str(), nullptr, 10);
  }
  auto it = headers.find("x-loom-revision");
  return it == headers.end() ? 0 : std::strtoll(it->second.c_str(), nullptr, 10);
}

std::string urlEncode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string queryString(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (v.empty()) continue;
    out += out.empty() ? "?" : "&";
    out += urlEncode(k) + "=" + urlEncode(v);
  }
  return out;
}

Reply ApiClient::call(const std::string& method, const std::string& path, const std::string& body,
                      const std::string& if_match) {
  HttpRequest req{method, path, body, {}};
  req.headers.emplace_back("Accept", "application/json");
  if (!token_.empty()) req.headers.emplace_back("Authorization", "Bearer " + token_);
  if (!if_match.empty()) req.headers.emplace_back("If-Match", "\"" + if_match + "\"");
  HttpResponse res = transport_.send(req);
  Reply r;
  r.status = res.status;
  r.raw_body = res.body;
  r.headers = std::move(res.headers);
  r.transport_error = res.transport_error;
  if (!res.body.empty()) {
    r.body = json::parse(res.body, nullptr, false);
    if (r.body.is_discarded()) r.body = nullptr;
  }
  return r;
}

Reply ApiClient::listAll(const std::string& collection_path,
                         std::vector<std::pair<std::string, std::string>> params) {
  json items = json::array();
  int64_t revision = 0;
  std::string token;
  for (;;) {
    auto p = params;
    p.emplace_back("page_token", token);
    bool has_revision = false;
    for (const auto& [k, v] : params) has_revision |= (k == "revision" && !v.empty());
    if (revision != 0 && !has_revision) p.emplace_back("revision", std::to_string(revision));
    Reply r = get(collection_path + queryString(p));
    if (!r.ok()) return r;
    if (!r.body.is_object()) {
      r.status = 502;
      r.raw_body = "malformed list reply (not a JSON object)";
      return r;
    }
    if (r.body.contains("items") && r.body["items"].is_array()) {
      for (auto& it : r.body["items"]) items.push_back(std::move(it));
    }
    if (revision == 0) revision = r.revision();
    token.clear();
    if (r.body.contains("next_page_token") && r.body["next_page_token"].is_string()) {
      token = r.body["next_page_token"].get<std::string>();
    }
    if (token.empty()) {
      r.body = json{{"items", std::move(items)}, {"revision", revision}};
      return r;
    }
  }
}

std::string formatError(const Reply& reply, Operation op, const std::string& base_url,
                        const std::string& detail) {
  if (reply.connectionError()) {
    return "error: cannot reach loom-api at " + base_url + ": " + reply.transport_error +
           "\n  hint: is loom-api running? set --api URL or LOOM_API";
  }
  std::string code = reply.errorCode();
  std::string out = "error: " + std::to_string(reply.status);
  if (!code.empty()) out += " " + code;
  std::string msg = reply.errorMessage();
  if (!msg.empty()) out += ": " + msg;
  std::string field = reply.errorField();
  if (!field.empty()) out += "\n  field: " + field;
  if (!detail.empty()) out += "\n" + detail;
  std::string hint = hintFor(reply, op);
  if (!hint.empty()) out += "\n  hint: " + hint;
  return out;
}

int exitCodeFor(const Reply& reply) {
  if (reply.connectionError()) return kExitConnection;
  return reply.ok() ? kExitOk : kExitApiError;
}

}  // namespace loom::cli
