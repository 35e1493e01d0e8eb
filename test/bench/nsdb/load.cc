// A replica's initial load: P ports on P/100 bridges written straight into etcd, then (baseline)
// the raw paged list of the prefix (100 hosts, every port bound to one), and Replica::start() (list
// + decode + snapshot), with the heap the replica holds per port.
#include <malloc.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "base/uuid.h"
#include "etcd/client.h"
#include "nsdb/bench_util.h"
#include "replica/replica.h"
#include "store/keys.h"

namespace loom::bench {
namespace {

size_t heapInUse() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

std::string uid(int kind, int n) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08x-0000-4000-8000-%012x", kind, n);
  return buf;
}

}  // namespace

int runLoad(testing::EtcdCluster& etcd, int ports, Report& report) {
  auto client_or = etcd::EtcdClient::create(etcd.clientOptions());
  if (!client_or.ok()) return 1;
  etcd::EtcdClient& client = **client_or;
  const std::string root = "/bench-load";
  store::Keys keys(root);
  const int bridges = std::max(1, ports / 100);
  const std::string tenant = uid(0x7e, 1);

  // Write the objects in transactions of 128 puts, 4 writers.
  std::vector<std::pair<std::string, std::string>> kvs;
  kvs.reserve(static_cast<size_t>(ports + bridges));
  for (int b = 0; b < bridges; ++b) {
    v1::StoredObject o;
    o.set_format(store::kStoredFormat);
    v1::Bridge* br = o.mutable_bridge();
    br->set_id(uid(0xb1, b));
    br->set_tenant_id(tenant);
    br->set_name("net-" + std::to_string(b));
    kvs.emplace_back(keys.object(store::Kind::Bridge, br->id()), store::encodeObject(o));
  }
  for (int h = 0; h < 100; ++h) {
    v1::StoredObject o;
    o.set_format(store::kStoredFormat);
    o.mutable_host()->set_id(uid(0xd1, h));
    o.mutable_host()->set_name("host-" + std::to_string(h));
    kvs.emplace_back(keys.object(store::Kind::Host, o.host().id()), store::encodeObject(o));
  }
  for (int i = 0; i < ports; ++i) {
    v1::StoredObject o;
    o.set_format(store::kStoredFormat);
    v1::Port* p = o.mutable_port();
    p->set_id(uid(0xb2, i));
    p->set_tenant_id(tenant);
    p->set_name("vm-" + std::to_string(i));
    p->set_bridge_id(uid(0xb1, i % bridges));
    char mac[18];
    std::snprintf(mac, sizeof(mac), "02:00:%02x:%02x:%02x:%02x", (i >> 24) & 0xff, (i >> 16) & 0xff,
                  (i >> 8) & 0xff, i & 0xff);
    p->set_mac(mac);
    p->add_addresses("10." + std::to_string((i >> 16) & 0xff) + "." +
                     std::to_string((i >> 8) & 0xff) + "." + std::to_string(i & 0xff));
    p->set_host_id(uid(0xd1, i % 100));
    p->set_interface_name("tap" + std::to_string(i));
    kvs.emplace_back(keys.object(store::Kind::Port, p->id()), store::encodeObject(o));
  }
  const int batches = static_cast<int>((kvs.size() + 127) / 128);
  const double rate = runParallel(4, batches, [&](int b) {
    etcd::Txn txn;
    for (size_t i = static_cast<size_t>(b) * 128; i < kvs.size() && i < (b + 1) * 128u; ++i) {
      txn.success.push_back(etcd::Op::put(kvs[i].first, kvs[i].second));
    }
    auto r = client.txn(txn);
    if (!r.ok()) std::fprintf(stderr, "populate: %s\n", r.status().toString().c_str());
    return r.ok();
  });
  if (rate < 0) return 1;
  size_t bytes = 0;
  for (auto& kv : kvs) bytes += kv.first.size() + kv.second.size();
  std::printf("populated %d ports + %d bridges (%.1f MB of keys+values)\n", ports, bridges,
              static_cast<double>(bytes) / 1e6);
  kvs.clear();
  kvs.shrink_to_fit();

  const std::string label = std::to_string(ports / 1000) + "k ports";
  auto t0 = Clock::now();
  auto listing = client.listPrefix(keys.all());
  const double list_s = secondsSince(t0);
  if (!listing.ok()) return 1;
  const size_t listed = listing->kvs.size();
  listing = etcd::RangeResult{};
  report.add("raw paged list of " + label + " (baseline)", list_s * 1000, "ms");

  malloc_trim(0);
  const size_t heap0 = heapInUse();
  t0 = Clock::now();
  replica::ReplicaOptions options;
  options.root = root;
  auto replica = replica::Replica::start(client, options);
  const double load_s = secondsSince(t0);
  if (!replica.ok()) {
    std::fprintf(stderr, "replica: %s\n", replica.status().toString().c_str());
    return 1;
  }
  malloc_trim(0);
  const size_t heap1 = heapInUse();
  auto snap = (*replica)->snapshot();
  std::printf("replica: %zu keys listed, snapshot v%llu with %zu ports, %zu problems\n", listed,
              static_cast<unsigned long long>(snap->version()), snap->ports().size(),
              snap->problems().size());
  report.add("replica initial load of " + label, load_s * 1000, "ms",
             "raw paged list of " + label + " (baseline)");
  report.add("replica heap per port (objects + snapshot)",
             static_cast<double>(heap1 - heap0) / ports, "B/port");

  // What one more change costs a replica this size: the replica copies its objects and rebuilds
  // the snapshot whole (no incremental update yet). Baseline: the raw put alone.
  std::vector<double> apply_ms, put_ms;
  for (int i = 0; i < 10; ++i) {
    v1::StoredObject o;
    o.set_format(store::kStoredFormat);
    o.mutable_bridge()->set_id(uid(0xb3, i));
    o.mutable_bridge()->set_tenant_id(tenant);
    o.mutable_bridge()->set_name("extra-" + std::to_string(i));
    const auto t_put = Clock::now();
    auto rev =
        client.put(keys.object(store::Kind::Bridge, o.bridge().id()), store::encodeObject(o));
    if (!rev.ok()) return 1;
    put_ms.push_back(secondsSince(t_put) * 1000);
    if (!(*replica)->waitForRevision(*rev, std::chrono::seconds(30))) return 1;
    apply_ms.push_back(secondsSince(t_put) * 1000);
  }
  report.add("etcd put, replica of " + label + " watching (baseline)", percentile(put_ms, 50),
             "ms");
  report.add("one change applied by a replica of " + label + ", p50", percentile(apply_ms, 50),
             "ms", "etcd put, replica of " + label + " watching (baseline)");
  return snap->ports().size() == static_cast<size_t>(ports) ? 0 : 1;
}

}  // namespace loom::bench
