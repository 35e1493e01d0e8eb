#include "nsdb/bench_util.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <thread>

namespace loom::bench {

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double rank = p / 100.0 * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(rank));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (rank - static_cast<double>(lo));
}

void Report::add(const std::string& name, double value, const std::string& unit,
                 const std::string& baseline) {
  rows_.push_back({name, unit, baseline, value});
  const Row& r = rows_.back();
  const Row* b = baseline.empty() ? nullptr : find(baseline);
  if (b != nullptr && b->value != 0) {
    std::printf("%-48s %12.3f %-8s ratio %.2f vs %s\n", name.c_str(), value, unit.c_str(),
                value / b->value, baseline.c_str());
  } else {
    std::printf("%-48s %12.3f %s\n", r.name.c_str(), r.value, r.unit.c_str());
  }
  std::fflush(stdout);
}

const Report::Row* Report::find(const std::string& name) const {
  for (const Row& r : rows_) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

void Report::printTable() const {
  std::printf("\n| figure | value | unit | ratio to baseline |\n|---|---:|---|---|\n");
  for (const Row& r : rows_) {
    const Row* b = r.baseline.empty() ? nullptr : find(r.baseline);
    std::string ratio = "baseline";
    if (b != nullptr && b->value != 0) {
      char buf[96];
      std::snprintf(buf, sizeof(buf), "%.2f× %s", r.value / b->value, b->name.c_str());
      ratio = buf;
    } else if (!r.baseline.empty()) {
      ratio = "-";
    }
    std::printf("| %s | %.3f | %s | %s |\n", r.name.c_str(), r.value, r.unit.c_str(),
                ratio.c_str());
  }
}

double runParallel(int threads, int total, const std::function<bool(int)>& fn) {
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  const auto t0 = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = next++; i < total && !failed; i = next++) {
        if (!fn(i)) failed = true;
      }
    });
  }
  for (auto& t : pool) t.join();
  if (failed) return -1;
  return total / secondsSince(t0);
}

}  // namespace loom::bench
