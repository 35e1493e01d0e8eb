// loom-nsdb-bench: end-to-end figures of the control plane on a real etcd (docs/benchmarks.md).
//
// Starts its own single-member etcd (test fixture timings) and measures, each against a
// baseline taken in the same run on the same etcd:
//   creates      ports created per second through ObjectStore and through the REST API, vs raw
//                etcd puts of the same values by the same number of threads;
//   propagation  API write -> applied in N replica processes (loom-replica-host, each its own
//                process and connection), p50/p99 of the slowest replica per write, and write ->
//                /sync answered; vs raw put -> watch event in this process;
//   load         a replica's initial load of P ports: list + decode + snapshot, time and heap per
//                port, vs the raw paged list alone.
//
//   loom-nsdb-bench --replica-host PATH [--quick] [--only creates|propagation|load]
//                   [--replicas 1,10,100] [--ports 100000]
//
// Output: one line per figure, "name value unit [ratio]", then a markdown table.

#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "nsdb/bench_util.h"

namespace loom::bench {
namespace {

struct Flags {
  std::string replica_host;
  bool quick = false;
  std::string only;
  std::vector<int> replicas = {1, 3, 10, 100};
  int ports = 100000;
};

Flags parseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "missing value for %s\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--replica-host") {
      f.replica_host = next();
    } else if (a == "--quick") {
      f.quick = true;
    } else if (a == "--only") {
      f.only = next();
    } else if (a == "--ports") {
      f.ports = std::atoi(next().c_str());
    } else if (a == "--replicas") {
      f.replicas.clear();
      std::string v = next();
      size_t pos = 0;
      while (pos <= v.size()) {
        size_t comma = v.find(',', pos);
        if (comma == std::string::npos) comma = v.size();
        f.replicas.push_back(std::atoi(v.substr(pos, comma - pos).c_str()));
        pos = comma + 1;
      }
    } else {
      std::fprintf(stderr, "unknown flag %s\n", a.c_str());
      std::exit(2);
    }
  }
  if (f.quick) {
    f.replicas = {1, 3};
    f.ports = 2000;
  }
  return f;
}

}  // namespace
}  // namespace loom::bench

int main(int argc, char** argv) {
  using namespace loom::bench;
  signal(SIGPIPE, SIG_IGN);
  Flags flags = parseFlags(argc, argv);
  Report report;
  auto etcd = loom::testing::EtcdCluster::start(1);
  if (!etcd) {
    std::fprintf(stderr, "etcd did not start\n");
    return 1;
  }
  auto want = [&](const char* name) { return flags.only.empty() || flags.only == name; };
  int rc = 0;
  if (want("creates")) rc |= runCreates(*etcd, flags.quick, report);
  if (want("propagation")) {
    if (flags.replica_host.empty()) {
      std::fprintf(stderr, "propagation needs --replica-host\n");
      return 2;
    }
    rc |= runPropagation(*etcd, flags.replica_host, flags.replicas, flags.quick, report);
  }
  if (want("load")) rc |= runLoad(*etcd, flags.ports, report);
  report.printTable();
  return rc;
}
