// ApiServer: HTTP plumbing (cpp-httplib), authentication, routing to the handlers in
// routes_*.cc, error bodies for what httplib answers itself (413, 400), and metrics.
#include "api/server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "api/openapi.h"
#include "api/reply.h"
#include "api/routes.h"

namespace loom::api {
namespace {

constexpr std::string_view kApiPrefix = "/api/v1/";
constexpr std::array<double, 11> kLatencyBuckets = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                    0.25,  0.5,   1.0,  2.5,   5.0};

std::vector<std::string> splitPath(std::string_view rest) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t slash = rest.find('/', start);
    out.emplace_back(rest.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

// What a path allows: one handler per method.
struct Match {
  bool found = false;
  std::map<std::string, std::function<ApiReply()>> methods;  // "GET", "POST", ...

  std::string allow() const {
    std::string out;
    for (const auto& [m, h] : methods) out += (out.empty() ? "" : ", ") + m;
    return out;
  }
};

ApiReply notFoundReply(const std::string& path) {
  return errorReply(404, notFound("no such path '" + path + "'"));
}

std::string methodLabel(const std::string& m) {
  static const char* kKnown[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
  for (const char* k : kKnown) {
    if (m == k) return m;
  }
  return "OTHER";
}

}  // namespace

bool constantTimeEquals(const std::string& a, const std::string& b) {
  size_t n = std::max(a.size(), b.size());
  unsigned diff = a.size() == b.size() ? 0U : 1U;
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned>(x ^ y);
  }
  return diff == 0;
}

struct ApiServer::Impl {
  Impl(ApiServerOptions o, etcd::EtcdClient& client, store::ObjectStore& store,
       replica::Replica* replica)
      : options(std::move(o)),
        context{client, store, replica, options.call_timeout},
        openapi(buildOpenApiDocument()) {}

  ApiServerOptions options;
  RouteContext context;
  std::string openapi;
  httplib::Server http;
  std::thread thread;
  int bound_port = 0;
  int listen_fd = -1;
  bool running = false;

  // Metrics.
  mutable std::mutex metrics_mu;
  std::map<std::pair<std::string, int>, uint64_t> requests;  // (method, status) -> count
  std::array<uint64_t, kLatencyBuckets.size()> latency_buckets{};
  uint64_t latency_count = 0;
  double latency_sum = 0;

  void countRequest(const std::string& method, int status) {
    std::lock_guard<std::mutex> lock(metrics_mu);
    ++requests[{methodLabel(method), status}];
  }
  void observeLatency(double seconds) {
    std::lock_guard<std::mutex> lock(metrics_mu);
    for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      if (seconds <= kLatencyBuckets[i]) ++latency_buckets[i];
    }
    ++latency_count;
    latency_sum += seconds;
  }

  bool authorized(const httplib::Request& req) const {
    if (options.token.empty()) return true;
    std::string header = req.get_header_value("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (header.size() < kBearer.size() ||
        !std::equal(kBearer.begin(), kBearer.end(), header.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return false;
    }
    return constantTimeEquals(header.substr(kBearer.size()), options.token);
  }

  Match route(const httplib::Request& req, const RouteRequest& r) {
    Match m;
    const std::string& path = req.path;
    RouteContext& c = context;
    if (path == "/healthz") {
      m.found = true;
      m.methods["GET"] = [&c] { return healthz(c); };
      return m;
    }
    if (path == "/metrics") {
      m.found = true;
      m.methods["GET"] = [this] {
        ApiReply reply;
        reply.body = metricsText();
        reply.content_type = "text/plain; version=0.0.4";
        return reply;
      };
      return m;
    }
    if (path.rfind(kApiPrefix, 0) != 0) return m;
    std::vector<std::string> seg = splitPath(std::string_view(path).substr(kApiPrefix.size()));
    for (const std::string& s : seg) {
      if (s.empty()) return m;
    }
    const size_t n = seg.size();
    if (n == 1) {
      if (seg[0] == "openapi.json") {
        m.found = true;
        m.methods["GET"] = [this] {
          ApiReply reply;
          reply.body = openapi;
          return reply;
        };
        return m;
      }
      if (seg[0] == "sync") {
        m.found = true;
        m.methods["POST"] = [&c, &r] { return sync(c, r); };
        return m;
      }
      if (seg[0] == "trace") {
        m.found = true;
        m.methods["POST"] = [&c, &r] { return trace(c, r); };
        return m;
      }
      if (seg[0] == "bindings") {
        m.found = true;
        m.methods["GET"] = [&c, &r] { return listBindings(c, r); };
        return m;
      }
      if (seg[0] == "host_status") {
        m.found = true;
        m.methods["GET"] = [&c, &r] { return hostStatusList(c, r); };
        return m;
      }
    }
    // Collections: "<kind>s".
    if (seg[0].size() < 2 || seg[0].back() != 's') return m;
    std::optional<store::Kind> kind =
        store::kindFromName(std::string_view(seg[0]).substr(0, seg[0].size() - 1));
    if (!kind || n > 3) return m;
    store::Kind k = *kind;
    if (n == 1) {
      m.found = true;
      m.methods["GET"] = [&c, &r, k] { return listObjects(c, k, r); };
      m.methods["POST"] = [&c, &r, k] { return createObject(c, k, r); };
      return m;
    }
    const std::string id = seg[1];
    if (n == 2) {
      m.found = true;
      m.methods["GET"] = [&c, &r, k, id] { return getObject(c, k, id, r); };
      m.methods["PUT"] = [&c, &r, k, id] { return updateObject(c, k, id, r); };
      m.methods["DELETE"] = [&c, &r, k, id] { return deleteObject(c, k, id, r); };
      return m;
    }
    const std::string& sub = seg[2];
    if (sub == "referrers") {
      m.found = true;
      m.methods["GET"] = [&c, &r, k, id] { return getReferrers(c, k, id, r); };
    } else if (k == store::Kind::Port && sub == "binding") {
      m.found = true;
      m.methods["PUT"] = [&c, &r, id] { return putBinding(c, id, r); };
      m.methods["DELETE"] = [&c, &r, id] { return deleteBinding(c, id, r); };
    } else if (k == store::Kind::Port && sub == "status") {
      m.found = true;
      m.methods["GET"] = [&c, &r, id] { return portStatus(c, id, r); };
    } else if (k == store::Kind::Host && sub == "status") {
      m.found = true;
      m.methods["GET"] = [&c, &r, id] { return hostStatus(c, id, r); };
    }
    return m;
  }

  void dispatch(const httplib::Request& req, httplib::Response& res) {
    auto start = std::chrono::steady_clock::now();
    RouteRequest r;
    r.body = req.body;
    // From the URL only: httplib also files the fields of a form-encoded body under params
    // (curl -d sends one), and a JSON body is not a form.
    if (size_t q = req.target.find('?'); q != std::string::npos) {
      httplib::Params params;
      httplib::detail::parse_query_text(req.target.substr(q + 1), params);
      for (const auto& [name, value] : params) r.params.emplace_back(name, value);
    }
    r.if_match = req.get_header_value("If-Match");

    ApiReply reply;
    Match m = route(req, r);
    std::string method = req.method == "HEAD" ? "GET" : req.method;
    if (!m.found) {
      reply = notFoundReply(req.path);
    } else if (auto it = m.methods.find(method); it == m.methods.end()) {
      reply = errorReply(
          405, Status(StatusCode::Unimplemented, "method " + req.method + " not allowed on " +
                                                     req.path + " (allowed: " + m.allow() + ")"));
      reply.headers.emplace_back("Allow", m.allow());
    } else {
      reply = it->second();
    }
    res.status = reply.status;
    for (auto& [name, value] : reply.headers) res.set_header(name, value);
    res.set_content(std::move(reply.body), reply.content_type);
    observeLatency(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }

  std::string metricsText() const {
    std::lock_guard<std::mutex> lock(metrics_mu);
    std::string out =
        "# HELP loom_api_requests_total HTTP requests by method and status.\n"
        "# TYPE loom_api_requests_total counter\n";
    for (const auto& [key, count] : requests) {
      out += "loom_api_requests_total{method=\"" + key.first + "\",status=\"" +
             std::to_string(key.second) + "\"} " + std::to_string(count) + "\n";
    }
    out +=
        "# HELP loom_api_request_duration_seconds Time spent in route handlers.\n"
        "# TYPE loom_api_request_duration_seconds histogram\n";
    for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      char le[32];
      std::snprintf(le, sizeof le, "%g", kLatencyBuckets[i]);
      out += std::string("loom_api_request_duration_seconds_bucket{le=\"") + le + "\"} " +
             std::to_string(latency_buckets[i]) + "\n";
    }
    out += "loom_api_request_duration_seconds_bucket{le=\"+Inf\"} " +
           std::to_string(latency_count) + "\n";
    char sum[64];
    std::snprintf(sum, sizeof sum, "%.6f", latency_sum);
    out += std::string("loom_api_request_duration_seconds_sum ") + sum + "\n";
    out += "loom_api_request_duration_seconds_count " + std::to_string(latency_count) + "\n";
    return out;
  }

  void configure() {
    int threads = std::max(1, options.threads);
    http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http.set_payload_max_length(options.max_body_bytes);
    http.set_keep_alive_timeout(options.keep_alive.count());
    // Small JSON replies on kept-alive connections: without TCP_NODELAY, Nagle's algorithm and
    // the peer's delayed ACK add ~40 ms to a request whose reply spans two writes.
    http.set_tcp_nodelay(true);
    http.set_socket_options([this](socket_t sock) {
      httplib::default_socket_options(sock);
      listen_fd = sock;  // The listening socket: start() raises its backlog.
    });
    // cpp-httplib closes a kept-alive connection after 5 requests by default, so a busy client
    // reconnects every 5 requests; let connections live until they are idle instead.
    http.set_keep_alive_max_count(100000);
    http.set_read_timeout(5, 0);
    http.set_write_timeout(5, 0);

    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (req.path == "/healthz" || authorized(req))
        return httplib::Server::HandlerResponse::Unhandled;
      ApiReply reply = errorReply(
          401, Status(StatusCode::PermissionDenied, req.has_header("Authorization")
                                                        ? "wrong bearer token"
                                                        : "missing Authorization: Bearer <token>"));
      res.status = 401;
      res.set_header("WWW-Authenticate", "Bearer");
      res.set_content(reply.body, reply.content_type);
      return httplib::Server::HandlerResponse::Handled;
    });
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      dispatch(req, res);
    };
    http.Get(".*", handler);
    http.Post(".*", handler);
    http.Put(".*", handler);
    http.Delete(".*", handler);
    http.Patch(".*", handler);
    http.Options(".*", handler);
    // Responses httplib makes itself (413 body too large, 400 unparsable request) get the
    // API's error body.
    http.set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const httplib::Request&, httplib::Response& res) {
          if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
          Status s = res.status == 413
                         ? resourceExhausted("request body larger than " +
                                             std::to_string(options.max_body_bytes) + " bytes")
                         : invalidArgument("bad HTTP request");
          ApiReply reply = errorReply(res.status, s);
          res.set_content(reply.body, reply.content_type);
          return httplib::Server::HandlerResponse::Handled;
        }));
    http.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
          std::string what = "unknown exception";
          try {
            std::rethrow_exception(ep);
          } catch (const std::exception& e) {
            what = e.what();
          } catch (...) {
          }
          ApiReply reply = errorReply(500, internalError(what));
          res.status = 500;
          res.set_content(reply.body, reply.content_type);
        });
    // Counted before the response is written (httplib's logger runs after it, so a client could
    // read /metrics before its previous request was counted).
    http.set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      countRequest(req.method, res.status);
    });
  }
};

ApiServer::ApiServer(ApiServerOptions options, etcd::EtcdClient& client, store::ObjectStore& store,
                     replica::Replica* replica)
    : impl_(std::make_unique<Impl>(std::move(options), client, store, replica)) {
  impl_->configure();
}

ApiServer::~ApiServer() { stop(); }

Status ApiServer::start() {
  Impl& i = *impl_;
  if (i.running) return failedPrecondition("already started");
  const std::string& host = i.options.bind_address;
  if (i.options.port == 0) {
    i.bound_port = i.http.bind_to_any_port(host);
    if (i.bound_port <= 0) return unavailable("cannot bind " + host + " to a free port");
  } else {
    if (!i.http.bind_to_port(host, i.options.port)) {
      return unavailable("cannot bind " + host + ":" + std::to_string(i.options.port));
    }
    i.bound_port = i.options.port;
  }
  // cpp-httplib listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG, fixed when Debian built
  // the library): too few for an API server that many agents and tools connect to at once (the
  // kernel drops handshakes beyond it until a SYN retransmit). Linux lets a listening socket's
  // backlog be raised by calling listen() again.
  if (i.listen_fd >= 0 && ::listen(i.listen_fd, 1024) != 0) {
    return unavailable("cannot raise the listen backlog: " + std::string(std::strerror(errno)));
  }
  i.running = true;
  i.thread = std::thread([&i] { i.http.listen_after_bind(); });
  return okStatus();
}

void ApiServer::stop() {
  Impl& i = *impl_;
  if (!i.running) return;
  i.http.stop();
  if (i.thread.joinable()) i.thread.join();
  i.running = false;
}

int ApiServer::port() const { return impl_->bound_port; }
const std::string& ApiServer::bindAddress() const { return impl_->options.bind_address; }
const std::string& ApiServer::openApiDocument() const { return impl_->openapi; }
std::string ApiServer::metricsText() const { return impl_->metricsText(); }

}  // namespace loom::api
