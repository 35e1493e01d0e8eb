#pragma once
// The only way loom code below the agent reads a clock. Tests inject a ManualTimeSource.

#include <chrono>

namespace loom {

using MonoTime = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;

class TimeSource {
 public:
  virtual ~TimeSource() = default;
  virtual MonoTime now() const = 0;
};

class SystemTimeSource final : public TimeSource {
 public:
  MonoTime now() const override { return std::chrono::steady_clock::now(); }
};

class ManualTimeSource final : public TimeSource {
 public:
  explicit ManualTimeSource(MonoTime start = MonoTime{}) : now_(start) {}
  MonoTime now() const override { return now_; }
  void advance(Duration d) { now_ += d; }
  void set(MonoTime t) { now_ = t; }

 private:
  MonoTime now_;
};

}  // namespace loom
