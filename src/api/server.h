#pragma once
// ApiServer: loom's REST API (docs/api.md) over HTTP/1.1, served by cpp-httplib's thread pool.
//
// Contract:
//  - CRUD goes through the ObjectStore, so every read is served by etcd (a client reads its own
//    writes); sync, trace and liveness come from the Replica, which trace first brings up to
//    etcd's current revision.
//  - Every request is bounded in time: etcd calls by the EtcdClient's call timeout (an
//    unreachable etcd is 503 UNAVAILABLE / DEADLINE_EXCEEDED with Retry-After: 1), replica
//    waits by `call_timeout` (sync by its own timeout_ms, at most 60 s).
//  - Checks before any handler runs, in order: bearer token (401, except /healthz), body size
//    (413, without reading the body), route (404), method (405 with Allow).
//  - The server never throws to its caller; an exception in a handler is a 500.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "base/status.h"
#include "etcd/client.h"
#include "replica/replica.h"
#include "store/object_store.h"

namespace loom::api {

struct ApiServerOptions {
  std::string bind_address = "127.0.0.1";
  int port = 8080;  // 0: any free port; port() reports it.
  // Non-empty: every request except /healthz needs "Authorization: Bearer <token>".
  std::string token;
  size_t max_body_bytes = 1 << 20;
  int threads = 8;
  // Bound on waiting for the replica (trace); etcd calls are bounded by the client.
  std::chrono::milliseconds call_timeout{2000};
  // Idle keep-alive connections are closed after this long.
  std::chrono::seconds keep_alive{5};
};

class ApiServer {
 public:
  // `client`, `store` and `replica` must outlive the server; `replica` may be null (sync,
  // trace and liveness then answer 503). The replica must be started with
  // ReplicaOptions::track_progress, or sync never sees a host's applied revision.
  ApiServer(ApiServerOptions options, etcd::EtcdClient& client, store::ObjectStore& store,
            replica::Replica* replica);
  ~ApiServer();  // Stops.
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds and starts serving on a background thread; returns once the socket is listening.
  // Unavailable if the address cannot be bound.
  Status start();
  // Stops accepting, finishes requests in flight, joins. Idempotent.
  void stop();

  int port() const;
  const std::string& bindAddress() const;
  const std::string& openApiDocument() const;
  // Prometheus text exposition of the request counters (also at GET /metrics).
  std::string metricsText() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Compares without an early exit on the first differing byte.
bool constantTimeEquals(const std::string& a, const std::string& b);

}  // namespace loom::api
