#pragma once
// Address value types: MAC, IPv4/IPv6 address, and prefixes.
//
// All are small, trivially copyable values. IpAddr keeps both families in 16 bytes (IPv4 as
// the v4-mapped form ::ffff:a.b.c.d) plus a family tag, so routing tables and flow keys use one
// type; v4() gives the IPv4 value in host byte order for fast comparisons.

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "base/hash.h"

namespace loom::packet {

class MacAddr {
 public:
  constexpr MacAddr() = default;
  // From the 48-bit value, most significant byte first on the wire.
  static constexpr MacAddr fromU64(uint64_t v) { return MacAddr(v & 0xffffffffffffULL); }
  static MacAddr fromBytes(const uint8_t* b);
  static std::optional<MacAddr> parse(std::string_view text);  // "02:00:00:00:00:01"
  static constexpr MacAddr broadcast() { return MacAddr(0xffffffffffffULL); }

  constexpr uint64_t toU64() const { return v_; }
  void toBytes(uint8_t* out) const;
  std::string toString() const;

  constexpr bool isZero() const { return v_ == 0; }
  constexpr bool isBroadcast() const { return v_ == 0xffffffffffffULL; }
  // Group bit (I/G) set: broadcast or multicast.
  constexpr bool isMulticast() const { return (v_ >> 40) & 1; }
  constexpr bool isUnicast() const { return !isMulticast(); }

  friend constexpr bool operator==(MacAddr, MacAddr) = default;
  friend constexpr auto operator<=>(MacAddr, MacAddr) = default;

 private:
  constexpr explicit MacAddr(uint64_t v) : v_(v) {}
  uint64_t v_ = 0;
};

enum class IpFamily : uint8_t { None = 0, V4 = 4, V6 = 6 };

class IpAddr {
 public:
  constexpr IpAddr() = default;
  static IpAddr v4(uint32_t host_order);
  static IpAddr v4Bytes(const uint8_t* b);  // 4 bytes, network order.
  static IpAddr v6Bytes(const uint8_t* b);  // 16 bytes, network order.
  // "10.0.0.1" or "fd00::1". Returns nullopt on anything else.
  static std::optional<IpAddr> parse(std::string_view text);

  IpFamily family() const { return family_; }
  bool isV4() const { return family_ == IpFamily::V4; }
  bool isV6() const { return family_ == IpFamily::V6; }
  bool isNone() const { return family_ == IpFamily::None; }
  // IPv4 value in host byte order (only meaningful when isV4()).
  uint32_t v4() const {
    return (uint32_t{b_[12]} << 24) | (uint32_t{b_[13]} << 16) | (uint32_t{b_[14]} << 8) | b_[15];
  }
  const std::array<uint8_t, 16>& bytes() const { return b_; }
  // Writes 4 (v4) or 16 (v6) network-order bytes.
  void toBytes(uint8_t* out) const;
  int bitLength() const { return isV4() ? 32 : (isV6() ? 128 : 0); }
  std::string toString() const;

  bool isMulticast() const;  // 224.0.0.0/4 or ff00::/8
  bool isLimitedBroadcast() const { return isV4() && v4() == 0xffffffffU; }
  bool isUnspecified() const;  // 0.0.0.0 or ::
  bool isLoopback() const;     // 127.0.0.0/8 or ::1

  // Keeps the first `len` bits (of the family's length) and zeroes the rest.
  IpAddr masked(int len) const;

  uint64_t hash() const;

  friend bool operator==(const IpAddr& a, const IpAddr& b) {
    return a.family_ == b.family_ && a.b_ == b.b_;
  }
  friend auto operator<=>(const IpAddr& a, const IpAddr& b) {
    if (auto c = a.family_ <=> b.family_; c != 0) return c;
    return a.b_ <=> b.b_;
  }

 private:
  std::array<uint8_t, 16> b_{};
  IpFamily family_ = IpFamily::None;
};

struct IpAddrHash {
  size_t operator()(const IpAddr& a) const { return static_cast<size_t>(a.hash()); }
};

// An address with a prefix length. For router port addresses, `addr` keeps the host bits
// (10.0.0.1/24 is the port's address in subnet 10.0.0.0/24); network() clears them.
struct IpPrefix {
  IpAddr addr;
  uint8_t len = 0;

  // "10.0.0.0/8", "fd00::/64"; a bare address means a host prefix (/32 or /128).
  static std::optional<IpPrefix> parse(std::string_view text);
  static IpPrefix host(const IpAddr& a) { return IpPrefix{a, static_cast<uint8_t>(a.bitLength())}; }

  IpAddr network() const { return addr.masked(len); }
  bool contains(const IpAddr& a) const;
  std::string toString() const;

  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};

}  // namespace loom::packet
