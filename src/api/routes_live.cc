// Live-state routes: bindings and port/host status (config from etcd, liveness from the
// replica), wait-for-sync, trace against the replica's snapshot, and the health check.
#include <algorithm>
#include <cstdlib>
#include <map>
#include <sstream>

#include "api/routes.h"
#include "trace/trace_runner.h"

namespace loom::api {
namespace {

Status noReplica() { return unavailable("this server has no replica of the topology"); }

Json hostItem(const std::string& id, const std::string& name, const v1::HostLiveness* live) {
  Json item{{"host_id", id}, {"name", name}, {"alive", live != nullptr}};
  item["applied_revision"] = live != nullptr ? live->applied_revision() : 0;
  item["tunnel_address"] = live != nullptr ? live->tunnel_address() : "";
  return item;
}

std::map<std::string, v1::HostLiveness> liveById(const replica::Replica& r) {
  std::map<std::string, v1::HostLiveness> out;
  for (v1::HostLiveness& h : r.liveHosts()) out[h.host_id()] = std::move(h);
  return out;
}

// The runner's fields in the request body's terms: "packets[i].port" -> "port" (or itself when
// the packet named its own port), "packets[i].spec" -> "packets[i]" (a string entry) or
// "packets[i].spec", "arp_seeds[i]" -> "arp[i]".
std::string traceField(const std::string& field, const TraceRequestBody& request) {
  if (field.rfind("packets[", 0) == 0) {
    const size_t close = field.find(']');
    const size_t i = close == std::string::npos ? 0 : std::strtoul(field.c_str() + 8, nullptr, 10);
    const bool own_port = i < request.packets.size() && !request.packets[i].port.empty();
    if (field.size() > 5 && field.compare(field.size() - 5, 5, ".port") == 0) {
      return own_port ? field : "port";
    }
    if (own_port) return field;
    if (size_t dot = field.find('.'); dot != std::string::npos) return field.substr(0, dot);
    return field;
  }
  if (field.rfind("arp_seeds", 0) == 0) return "arp" + field.substr(9);
  return field;
}

}  // namespace

StatusOr<int64_t> currentRevision(RouteContext& c) {
  etcd::RangeOptions o;
  o.range_end = etcd::prefixEnd(c.store.keys().all());
  o.count_only = true;
  ASSIGN_OR_RETURN(etcd::RangeResult r, c.client.range(c.store.keys().all(), o));
  return r.revision;
}

ApiReply listBindings(RouteContext& c, const RouteRequest& r) {
  auto host = decodeBindingsQuery(r.params);
  if (!host.ok()) return errorReply(host.status());
  auto ports = c.store.list(store::Kind::Port);
  if (!ports.ok()) return errorReply(ports.status());
  Json items = Json::array();
  for (const store::Record& rec : ports->items) {
    const v1::Port& p = rec.object.port();
    if (p.host_id().empty() || (!host->empty() && p.host_id() != *host)) continue;
    bool active = false;
    if (c.replica != nullptr) {
      auto a = c.replica->portActive(p.id());
      active = a.has_value() && a->host_id() == p.host_id();
    }
    items.push_back(Json{{"port_id", p.id()},
                         {"host_id", p.host_id()},
                         {"interface_name", p.interface_name()},
                         {"active", active}});
  }
  return jsonReply(200, Json{{"items", std::move(items)}, {"revision", ports->revision}});
}

ApiReply portStatus(RouteContext& c, const std::string& port_id, const RouteRequest& r) {
  if (Status s = decodeNoQuery(r.params); !s.ok()) return errorReply(s);
  if (c.replica == nullptr) return errorReply(noReplica());
  auto rec = c.store.get(store::Kind::Port, port_id);
  if (!rec.ok()) return errorReply(rec.status());
  const v1::Port& p = rec->object.port();
  auto a = c.replica->portActive(port_id);
  return jsonReply(200, Json{{"port_id", port_id},
                             {"bound", !p.host_id().empty()},
                             {"host_id", p.host_id()},
                             {"interface_name", p.interface_name()},
                             {"active", a.has_value()},
                             {"active_host_id", a.has_value() ? a->host_id() : ""}});
}

ApiReply hostStatusList(RouteContext& c, const RouteRequest& r) {
  if (Status s = decodeNoQuery(r.params); !s.ok()) return errorReply(s);
  if (c.replica == nullptr) return errorReply(noReplica());
  auto hosts = c.store.list(store::Kind::Host);
  if (!hosts.ok()) return errorReply(hosts.status());
  std::map<std::string, v1::HostLiveness> live = liveById(*c.replica);
  Json items = Json::array();
  for (const store::Record& rec : hosts->items) {
    const v1::Host& h = rec.object.host();
    auto it = live.find(h.id());
    items.push_back(hostItem(h.id(), h.name(), it == live.end() ? nullptr : &it->second));
    if (it != live.end()) live.erase(it);
  }
  // Live hosts without a configuration object (an agent started before its host was created).
  for (const auto& [id, l] : live) items.push_back(hostItem(id, "", &l));
  return jsonReply(200, Json{{"items", std::move(items)}});
}

ApiReply hostStatus(RouteContext& c, const std::string& host_id, const RouteRequest& r) {
  if (Status s = decodeNoQuery(r.params); !s.ok()) return errorReply(s);
  if (c.replica == nullptr) return errorReply(noReplica());
  std::map<std::string, v1::HostLiveness> live = liveById(*c.replica);
  auto it = live.find(host_id);
  const v1::HostLiveness* l = it == live.end() ? nullptr : &it->second;
  auto rec = c.store.get(store::Kind::Host, host_id);
  if (!rec.ok()) {
    if (rec.status().code() != StatusCode::NotFound || l == nullptr) {
      return errorReply(rec.status());
    }
    return jsonReply(200, hostItem(host_id, "", l));
  }
  return jsonReply(200, hostItem(host_id, rec->object.host().name(), l));
}

ApiReply sync(RouteContext& c, const RouteRequest& r) {
  if (Status s = decodeNoQuery(r.params); !s.ok()) return errorReply(s);
  auto request = decodeSyncRequest(r.body);
  if (!request.ok()) return errorReply(request.status());
  if (c.replica == nullptr) return errorReply(noReplica());
  int64_t revision = request->revision;
  if (revision == 0) {
    auto current = currentRevision(c);
    if (!current.ok()) return errorReply(current.status());
    revision = *current;
  }
  replica::Replica& rep = *c.replica;
  // Hosts report the version of their snapshot (the revision of the last topology change they
  // applied, liveness.h), so `revision` is applied by a host whose version is at least the last
  // topology change at or before `revision`. Once this server's replica has reached `revision`
  // and its snapshot is no newer than it, that change is the snapshot's version; otherwise
  // (a later change exists) `revision` itself is the conservative target.
  int64_t target = revision;
  auto synced = [&] {
    if (rep.appliedRevision() < revision) return false;
    model::SnapshotPtr snap = rep.snapshot();
    int64_t version = snap == nullptr ? revision : static_cast<int64_t>(snap->version());
    target = std::min(version, revision);
    for (const v1::HostLiveness& h : rep.liveHosts()) {
      if (h.applied_revision() < target) return false;
    }
    return true;
  };
  bool done = rep.waitUntil(synced, std::chrono::milliseconds(request->timeout_ms));
  Json hosts = Json::array();
  Json lagging = Json::array();
  for (const v1::HostLiveness& h : rep.liveHosts()) {
    Json item{{"host_id", h.host_id()}, {"applied_revision", h.applied_revision()}};
    if (h.applied_revision() < target) lagging.push_back(item);
    hosts.push_back(std::move(item));
  }
  if (!done) {
    Json body = errorJson(deadlineExceeded(
        "not every live host applied revision " + std::to_string(revision) + " within " +
        std::to_string(request->timeout_ms) + " ms (" + std::to_string(lagging.size()) +
        " lagging; this server's replica is at " + std::to_string(rep.appliedRevision()) + ")"));
    body["lagging"] = std::move(lagging);
    body["revision"] = revision;
    return jsonReply(504, body);
  }
  return jsonReply(200, Json{{"revision", revision}, {"hosts", std::move(hosts)}});
}

ApiReply trace(RouteContext& c, const RouteRequest& r) {
  if (Status s = decodeNoQuery(r.params); !s.ok()) return errorReply(s);
  auto request = decodeTraceRequest(r.body);
  if (!request.ok()) return errorReply(request.status());
  if (c.replica == nullptr) return errorReply(noReplica());
  // Read-your-writes: trace against a snapshot at least as new as etcd is now.
  auto current = currentRevision(c);
  if (!current.ok()) return errorReply(current.status());
  if (!c.replica->waitForRevision(*current, c.call_timeout)) {
    return errorReply(unavailable("the replica has not reached revision " +
                                  std::to_string(*current) + " (at " +
                                  std::to_string(c.replica->appliedRevision()) + ")"));
  }
  model::SnapshotPtr snap = c.replica->snapshot();
  trace::TraceOptions options;
  for (const TracePacket& p : request->packets) {
    options.packets.push_back({p.port.empty() ? request->port : p.port, p.spec});
  }
  options.arp_seeds = request->arp;
  options.follow_generated = request->follow;
  std::ostringstream out;
  Status s = trace::runTrace(snap, options, out);
  if (!s.ok()) {
    // Everything the runner rejects is about the request: a port, a spec or an ARP seed.
    Json body = errorJson(Status(StatusCode::InvalidArgument, s.message())
                              .withField(traceField(s.field(), *request)));
    body["text"] = out.str();
    return jsonReply(400, body);
  }
  return jsonReply(200,
                   Json{{"revision", snap == nullptr ? 0 : static_cast<int64_t>(snap->version())},
                        {"text", out.str()}});
}

ApiReply healthz(RouteContext& c) {
  int64_t replica_revision = c.replica == nullptr ? 0 : c.replica->appliedRevision();
  auto current = currentRevision(c);
  if (!current.ok()) {
    ApiReply reply = jsonReply(503, Json{{"status", "unavailable"},
                                         {"etcd", current.status().toString()},
                                         {"replica_revision", replica_revision}});
    reply.headers.emplace_back("Retry-After", "1");
    return reply;
  }
  return jsonReply(200,
                   Json{{"status", "ok"}, {"etcd", "ok"}, {"replica_revision", replica_revision}});
}

}  // namespace loom::api
