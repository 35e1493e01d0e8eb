// Creates per second: raw etcd puts (baseline), ObjectStore::create, and POST /api/v1/ports.
#include <httplib.h>

#include <cstdio>
#include <memory>
#include <string>

#include "api/server.h"
#include "base/uuid.h"
#include "etcd/client.h"
#include "nsdb/bench_util.h"
#include "store/keys.h"
#include "store/object_store.h"

namespace loom::bench {
namespace {

constexpr int kBridges = 16;
const char* kTenant = "7e000000-0000-4000-8000-0000000000be";

std::string macOf(int i) {
  char buf[18];
  std::snprintf(buf, sizeof(buf), "02:00:%02x:%02x:%02x:%02x", (i >> 24) & 0xff, (i >> 16) & 0xff,
                (i >> 8) & 0xff, i & 0xff);
  return buf;
}
std::string ipOf(int i) {
  return "10." + std::to_string((i >> 16) & 0xff) + "." + std::to_string((i >> 8) & 0xff) + "." +
         std::to_string(i & 0xff);
}

v1::StoredObject portObject(int i, const std::string& bridge_id) {
  v1::StoredObject o;
  v1::Port* p = o.mutable_port();
  p->set_tenant_id(kTenant);
  p->set_name("vm-" + std::to_string(i));
  p->set_bridge_id(bridge_id);
  p->set_mac(macOf(i));
  p->add_addresses(ipOf(i));
  return o;
}

std::string portJson(int i, const std::string& bridge_id) {
  return "{\"tenant_id\":\"" + std::string(kTenant) + "\",\"name\":\"vm-" + std::to_string(i) +
         "\",\"bridge_id\":\"" + bridge_id + "\",\"mac\":\"" + macOf(i) + "\",\"addresses\":[\"" +
         ipOf(i) + "\"]}";
}

}  // namespace

int runCreates(testing::EtcdCluster& etcd, bool quick, Report& report) {
  const int total = quick ? 400 : 6000;
  auto client_or = etcd::EtcdClient::create(etcd.clientOptions());
  if (!client_or.ok()) {
    std::fprintf(stderr, "client: %s\n", client_or.status().toString().c_str());
    return 1;
  }
  etcd::EtcdClient& client = **client_or;
  const std::string root = "/bench-creates";
  store::ObjectStore store(client, root);
  std::vector<std::string> bridges;
  for (int b = 0; b < kBridges; ++b) {
    v1::StoredObject o;
    o.mutable_bridge()->set_tenant_id(kTenant);
    o.mutable_bridge()->set_name("net-" + std::to_string(b));
    auto r = store.create(o);
    if (!r.ok()) {
      std::fprintf(stderr, "bridge: %s\n", r.status().toString().c_str());
      return 1;
    }
    bridges.push_back(store::objectId(r->record.object));
  }

  api::ApiServerOptions options;
  options.port = 0;
  options.threads = 32;
  api::ApiServer server(options, client, store, nullptr);
  if (Status s = server.start(); !s.ok()) {
    std::fprintf(stderr, "api: %s\n", s.toString().c_str());
    return 1;
  }
  const int port = server.port();
  int next_port = 0;  // Each create names a new VM.
  bool ok = true;
  for (int threads : quick ? std::vector<int>{8} : std::vector<int>{8, 32}) {
    const std::string t = ", " + std::to_string(threads) + " threads";
    // Baseline: the same values put at fresh keys, one put per create, same threads.
    const double raw = runParallel(threads, total, [&](int i) {
      v1::StoredObject o = portObject(i, bridges[i % kBridges]);
      o.mutable_port()->set_id(Uuid::random().toString());
      return client.put(root + "/raw/" + o.port().id(), store::encodeObject(o)).ok();
    });
    report.add("etcd raw put" + t, raw, "ops/s");

    const int base_store = next_port;
    next_port += total;
    const double via_store = runParallel(threads, total, [&](int i) {
      auto r = store.create(portObject(base_store + i, bridges[i % kBridges]));
      if (!r.ok()) std::fprintf(stderr, "store create: %s\n", r.status().toString().c_str());
      return r.ok();
    });
    report.add("port creates via ObjectStore" + t, via_store, "ops/s", "etcd raw put" + t);

    const int base_api = next_port;
    next_port += total;
    const double via_api = runParallel(threads, total, [&](int i) {
      thread_local std::unique_ptr<httplib::Client> http;
      thread_local int http_port = 0;
      if (!http || http_port != port) {
        http = std::make_unique<httplib::Client>("127.0.0.1", port);
        http->set_keep_alive(true);
        http->set_tcp_nodelay(true);
        http->set_read_timeout(30, 0);
        http_port = port;
      }
      const auto t0 = Clock::now();
      auto res = http->Post("/api/v1/ports", portJson(base_api + i, bridges[i % kBridges]),
                            "application/json");
      if (!res) std::fprintf(stderr, "after %.3f s: ", secondsSince(t0));
      if (!res || res->status != 201) {
        std::fprintf(stderr, "api create: %d %s\n", res ? res->status : -1,
                     res ? res->body.c_str() : httplib::to_string(res.error()).c_str());
        return false;
      }
      return true;
    });
    report.add("port creates via REST API" + t, via_api, "ops/s",
               "port creates via ObjectStore" + t);
    ok = ok && raw > 0 && via_store > 0 && via_api > 0;
  }
  server.stop();
  return ok ? 0 : 1;
}

}  // namespace loom::bench
