#pragma once
// Internal to src/api: the route handlers behind ApiServer, one function per endpoint. Each
// takes the decoded request and returns a reply; none touches HTTP, and each bounds its own
// waits (etcd calls by the client's call timeout, replica waits by ApiServerOptions).

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "api/reply.h"
#include "api/request_decoder.h"
#include "etcd/client.h"
#include "replica/replica.h"
#include "store/keys.h"
#include "store/object_store.h"

namespace loom::api {

struct RouteContext {
  etcd::EtcdClient& client;
  store::ObjectStore& store;
  replica::Replica* replica;  // Null: sync, trace and liveness answer 503.
  std::chrono::milliseconds call_timeout;
};

struct RouteRequest {
  std::string body;
  QueryParams params;
  std::string if_match;  // The If-Match header, "" if absent.
};

// Objects (routes_objects.cc).
ApiReply listObjects(RouteContext& c, store::Kind kind, const RouteRequest& r);
ApiReply createObject(RouteContext& c, store::Kind kind, const RouteRequest& r);
ApiReply getObject(RouteContext& c, store::Kind kind, const std::string& id, const RouteRequest& r);
ApiReply updateObject(RouteContext& c, store::Kind kind, const std::string& id,
                      const RouteRequest& r);
ApiReply deleteObject(RouteContext& c, store::Kind kind, const std::string& id,
                      const RouteRequest& r);
ApiReply getReferrers(RouteContext& c, store::Kind kind, const std::string& id,
                      const RouteRequest& r);
ApiReply putBinding(RouteContext& c, const std::string& port_id, const RouteRequest& r);
ApiReply deleteBinding(RouteContext& c, const std::string& port_id, const RouteRequest& r);

// Live state, sync and trace (routes_live.cc).
ApiReply listBindings(RouteContext& c, const RouteRequest& r);
ApiReply portStatus(RouteContext& c, const std::string& port_id, const RouteRequest& r);
ApiReply hostStatusList(RouteContext& c, const RouteRequest& r);
ApiReply hostStatus(RouteContext& c, const std::string& host_id, const RouteRequest& r);
ApiReply sync(RouteContext& c, const RouteRequest& r);
ApiReply trace(RouteContext& c, const RouteRequest& r);
ApiReply healthz(RouteContext& c);

// The etcd cluster's current revision (a count-only range under the root).
StatusOr<int64_t> currentRevision(RouteContext& c);

}  // namespace loom::api
