#pragma once
// Shared pieces of loom-nsdb-bench (nsdb_bench.cc): the report, timing helpers and the three
// scenarios.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "support/etcd_process.h"

namespace loom::bench {

using Clock = std::chrono::steady_clock;

inline double secondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}
inline int64_t monotonicNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// The p-th percentile (0..100) of `v` (sorted in place); 0 for an empty vector.
double percentile(std::vector<double>& v, double p);

class Report {
 public:
  // `baseline` names an earlier figure of the same unit; the ratio value/baseline is printed.
  void add(const std::string& name, double value, const std::string& unit,
           const std::string& baseline = {});
  void printTable() const;

 private:
  struct Row {
    std::string name, unit, baseline;
    double value;
  };
  const Row* find(const std::string& name) const;
  std::vector<Row> rows_;
};

// Runs fn(i) for i in [0, total) on `threads` threads; returns operations per second. Stops
// (and returns -1) at the first failure fn reports by returning false.
double runParallel(int threads, int total, const std::function<bool(int)>& fn);

int runCreates(testing::EtcdCluster& etcd, bool quick, Report& report);
int runPropagation(testing::EtcdCluster& etcd, const std::string& replica_host,
                   const std::vector<int>& replica_counts, bool quick, Report& report);
int runLoad(testing::EtcdCluster& etcd, int ports, Report& report);

}  // namespace loom::bench
