#pragma once
// 128-bit object identifiers. Every topology object is named by one.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/hash.h"

namespace loom {

class Uuid {
 public:
  constexpr Uuid() = default;
  constexpr Uuid(uint64_t msb, uint64_t lsb) : msb_(msb), lsb_(lsb) {}

  // Parses the canonical 8-4-4-4-12 hex form (either case). Returns nullopt on anything else.
  static std::optional<Uuid> parse(std::string_view text);
  // A deterministic name-based id (RFC 4122 version 5 layout over a 64-bit FNV/mix hash, not
  // SHA-1): used for objects the snapshot derives itself, e.g. implicit routes.
  static Uuid derive(const Uuid& base, std::string_view name);
  // A random (version 4) id from a per-thread generator seeded from std::random_device.
  static Uuid random();

  constexpr uint64_t msb() const { return msb_; }
  constexpr uint64_t lsb() const { return lsb_; }
  constexpr bool isNil() const { return msb_ == 0 && lsb_ == 0; }
  std::string toString() const;
  // The first 8 hex digits: enough for people reading a trace.
  std::string shortString() const;

  constexpr uint64_t hash() const { return hashCombine(mix64(msb_), lsb_); }

  friend constexpr bool operator==(const Uuid&, const Uuid&) = default;
  friend constexpr auto operator<=>(const Uuid&, const Uuid&) = default;

 private:
  uint64_t msb_ = 0;
  uint64_t lsb_ = 0;
};

struct UuidHash {
  size_t operator()(const Uuid& u) const { return static_cast<size_t>(u.hash()); }
};

}  // namespace loom

template <>
struct std::hash<loom::Uuid> {
  size_t operator()(const loom::Uuid& u) const { return static_cast<size_t>(u.hash()); }
};
