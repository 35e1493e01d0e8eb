// API write -> applied in N replica processes. Each loom-replica-host is its own process with
// its own etcd connection; it prints "applied <revision> <steady-clock ns>" when a snapshot of
// that revision is in place (the steady clock is shared by processes on one machine). Per write
// the figure is the slowest replica's apply time minus the time the write was sent. Then the
// same writes followed by POST /api/v1/sync (the operator's "wait until every host has it"),
// and a baseline: raw put -> watch event in this process.
#include <fcntl.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/server.h"
#include "etcd/client.h"
#include "etcd/watch.h"
#include "nsdb/bench_util.h"
#include "replica/replica.h"
#include "store/object_store.h"

namespace loom::bench {
namespace {

struct Child {
  pid_t pid = -1;
  int out = -1;
  std::string buffer;
  int64_t applied = 0;     // Newest revision applied.
  int64_t applied_ns = 0;  // When (child's steady clock), or when read if not printed.
  bool ready = false;
};

class ReplicaFleet {
 public:
  ~ReplicaFleet() {
    for (Child& c : children_) {
      if (c.pid > 0) kill(c.pid, SIGTERM);
    }
    for (Child& c : children_) {
      if (c.pid > 0) waitpid(c.pid, nullptr, 0);
      if (c.out >= 0) close(c.out);
    }
  }

  bool spawn(const std::string& bin, const std::string& endpoints, const std::string& root, int n) {
    for (int i = 0; i < n; ++i) {
      int fds[2];
      if (pipe(fds) != 0) return false;
      pid_t pid = fork();
      if (pid < 0) return false;
      if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        std::string host = "bench-host-" + std::to_string(i);
        execl(bin.c_str(), bin.c_str(), "--endpoints", endpoints.c_str(), "--root", root.c_str(),
              "--host-id", host.c_str(), "--ttl", "10", "--print-revisions",
              static_cast<char*>(nullptr));
        _exit(127);
      }
      close(fds[1]);
      fcntl(fds[0], F_SETFL, O_NONBLOCK);
      children_.push_back(Child{pid, fds[0], {}, 0, 0, false});
    }
    return true;
  }

  // Reads whatever the children printed, waiting up to `timeout_ms` for something.
  void pump(int timeout_ms) {
    std::vector<pollfd> fds;
    for (Child& c : children_) fds.push_back({c.out, POLLIN, 0});
    if (poll(fds.data(), fds.size(), timeout_ms) <= 0) return;
    const int64_t now = monotonicNs();
    char buf[4096];
    for (size_t i = 0; i < children_.size(); ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP)) == 0) continue;
      Child& c = children_[i];
      ssize_t n;
      while ((n = read(c.out, buf, sizeof(buf))) > 0) c.buffer.append(buf, static_cast<size_t>(n));
      size_t nl;
      while ((nl = c.buffer.find('\n')) != std::string::npos) {
        std::string line = c.buffer.substr(0, nl);
        c.buffer.erase(0, nl + 1);
        long long rev = 0, ns = 0;
        if (std::sscanf(line.c_str(), "ready %lld", &rev) == 1) {
          c.ready = true;
          c.applied = std::max<int64_t>(c.applied, rev);
        } else {
          int fields = std::sscanf(line.c_str(), "applied %lld %lld", &rev, &ns);
          if (fields >= 1 && rev > c.applied) {
            c.applied = rev;
            c.applied_ns = fields == 2 ? ns : now;
          }
        }
      }
    }
  }

  bool waitReady(double timeout_s) {
    auto t0 = Clock::now();
    while (secondsSince(t0) < timeout_s) {
      bool all = true;
      for (const Child& c : children_) all = all && c.ready;
      if (all) return true;
      pump(100);
    }
    return false;
  }

  // Waits until every child applied `revision`; returns the latest apply time (ns) or -1.
  int64_t waitApplied(int64_t revision, double timeout_s) {
    auto t0 = Clock::now();
    while (secondsSince(t0) < timeout_s) {
      bool all = true;
      int64_t last = 0;
      for (const Child& c : children_) {
        all = all && c.applied >= revision;
        last = std::max(last, c.applied_ns);
      }
      if (all) return last;
      pump(50);
    }
    return -1;
  }

 private:
  std::vector<Child> children_;
};

int64_t postBridge(httplib::Client& http, int i) {
  std::string body = "{\"tenant_id\":\"7e000000-0000-4000-8000-0000000000be\",\"name\":\"prop-" +
                     std::to_string(i) + "\"}";
  auto res = http.Post("/api/v1/bridges", body, "application/json");
  if (!res || res->status != 201) return -1;
  return std::atoll(res->get_header_value("X-Loom-Revision").c_str());
}

}  // namespace

int runPropagation(testing::EtcdCluster& etcd, const std::string& replica_host,
                   const std::vector<int>& replica_counts, bool quick, Report& report) {
  const int writes = quick ? 10 : 100;
  auto client_or = etcd::EtcdClient::create(etcd.clientOptions());
  if (!client_or.ok()) return 1;
  etcd::EtcdClient& client = **client_or;
  std::string endpoints;
  for (const std::string& e : etcd.endpoints()) endpoints += (endpoints.empty() ? "" : ",") + e;

  // Baseline: raw put -> watch event, one watcher in this process.
  {
    const std::string prefix = "/bench-watch/";
    std::mutex mu;
    std::condition_variable cv;
    int64_t seen = 0;
    auto watcher = etcd::Watcher::start(etcd.clientOptions(), prefix, 1,
                                        etcd::WatchHandler{[&](etcd::WatchBatch&& b) {
                                                             std::lock_guard<std::mutex> lock(mu);
                                                             seen = b.revision;
                                                             cv.notify_all();
                                                           },
                                                           nullptr, nullptr});
    if (!watcher.ok()) return 1;
    std::vector<double> lat;
    for (int i = 0; i < writes * 2; ++i) {
      auto t0 = Clock::now();
      auto rev = client.put(prefix + "k", std::to_string(i));
      if (!rev.ok()) return 1;
      std::unique_lock<std::mutex> lock(mu);
      if (!cv.wait_for(lock, std::chrono::seconds(5), [&] { return seen >= *rev; })) return 1;
      lat.push_back(secondsSince(t0) * 1000);
    }
    report.add("etcd put -> watch event p50 (baseline)", percentile(lat, 50), "ms");
    report.add("etcd put -> watch event p99 (baseline)", percentile(lat, 99), "ms");
  }

  for (int n : replica_counts) {
    const std::string root = "/bench-prop-" + std::to_string(n);
    store::ObjectStore store(client, root);
    replica::ReplicaOptions ropts;
    ropts.root = root;
    ropts.track_progress = true;  // The API's replica: sync needs the hosts' progress.
    auto replica = replica::Replica::start(client, ropts);
    if (!replica.ok()) return 1;
    api::ApiServerOptions options;
    options.port = 0;
    api::ApiServer server(options, client, store, replica->get());
    if (!server.start().ok()) return 1;
    ReplicaFleet fleet;
    if (!fleet.spawn(replica_host, endpoints, root, n) || !fleet.waitReady(60)) {
      std::fprintf(stderr, "replicas did not come up (N=%d)\n", n);
      return 1;
    }
    httplib::Client http("127.0.0.1", server.port());
    http.set_keep_alive(true);
    http.set_tcp_nodelay(true);
    http.set_read_timeout(30, 0);
    std::vector<double> applied, synced;
    for (int i = 0; i < writes; ++i) {
      const int64_t t0 = monotonicNs();
      const int64_t rev = postBridge(http, i);
      if (rev <= 0) return 1;
      const int64_t done = fleet.waitApplied(rev, 30);
      if (done < 0) {
        std::fprintf(stderr, "N=%d: revision %lld not applied everywhere\n", n,
                     static_cast<long long>(rev));
        return 1;
      }
      applied.push_back(static_cast<double>(done - t0) / 1e6);
    }
    for (int i = 0; i < writes; ++i) {
      auto t0 = Clock::now();
      const int64_t rev = postBridge(http, writes + i);
      if (rev <= 0) return 1;
      auto res = http.Post("/api/v1/sync",
                           "{\"revision\":" + std::to_string(rev) + ",\"timeout_ms\":30000}",
                           "application/json");
      if (!res || res->status != 200) {
        std::fprintf(stderr, "sync: %d %s\n", res ? res->status : -1, res ? res->body.c_str() : "");
        return 1;
      }
      synced.push_back(secondsSince(t0) * 1000);
      fleet.pump(0);
    }
    const std::string tag = "N=" + std::to_string(n);
    report.add("API write -> applied in " + tag + " replicas p50", percentile(applied, 50), "ms",
               "etcd put -> watch event p50 (baseline)");
    report.add("API write -> applied in " + tag + " replicas p99", percentile(applied, 99), "ms",
               "etcd put -> watch event p99 (baseline)");
    report.add("API write + /sync answered, " + tag + " p50", percentile(synced, 50), "ms");
    report.add("API write + /sync answered, " + tag + " p99", percentile(synced, 99), "ms");
    server.stop();
  }
  return 0;
}

}  // namespace loom::bench
