#include "packet/addr.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstdio>

namespace loom::packet {

MacAddr MacAddr::fromBytes(const uint8_t* b) {
  uint64_t v = 0;
  for (int i = 0; i < 6; ++i) v = (v << 8) | b[i];
  return MacAddr(v);
}

std::optional<MacAddr> MacAddr::parse(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  uint64_t v = 0;
  for (int i = 0; i < 6; ++i) {
    std::string_view part = text.substr(static_cast<size_t>(i) * 3, 2);
    if (i < 5 && text[static_cast<size_t>(i) * 3 + 2] != ':') return std::nullopt;
    unsigned byte = 0;
    auto [p, ec] = std::from_chars(part.data(), part.data() + 2, byte, 16);
    if (ec != std::errc() || p != part.data() + 2) return std::nullopt;
    v = (v << 8) | byte;
  }
  return MacAddr(v);
}

void MacAddr::toBytes(uint8_t* out) const {
  for (int i = 0; i < 6; ++i) out[i] = static_cast<uint8_t>(v_ >> (40 - 8 * i));
}

std::string MacAddr::toString() const {
  uint8_t b[6];
  toBytes(b);
  char buf[18];
  std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4],
                b[5]);
  return std::string(buf, 17);
}

IpAddr IpAddr::v4(uint32_t host_order) {
  IpAddr a;
  a.family_ = IpFamily::V4;
  a.b_[10] = 0xff;
  a.b_[11] = 0xff;
  a.b_[12] = static_cast<uint8_t>(host_order >> 24);
  a.b_[13] = static_cast<uint8_t>(host_order >> 16);
  a.b_[14] = static_cast<uint8_t>(host_order >> 8);
  a.b_[15] = static_cast<uint8_t>(host_order);
  return a;
}

IpAddr IpAddr::v4Bytes(const uint8_t* b) {
  return v4((uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3]);
}

IpAddr IpAddr::v6Bytes(const uint8_t* b) {
  IpAddr a;
  a.family_ = IpFamily::V6;
  std::memcpy(a.b_.data(), b, 16);
  return a;
}

std::optional<IpAddr> IpAddr::parse(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  char buf[46];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  uint8_t out[16];
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buf, out) != 1) return std::nullopt;
    return v4Bytes(out);
  }
  if (inet_pton(AF_INET6, buf, out) != 1) return std::nullopt;
  return v6Bytes(out);
}

void IpAddr::toBytes(uint8_t* out) const {
  if (isV4()) {
    std::memcpy(out, b_.data() + 12, 4);
  } else {
    std::memcpy(out, b_.data(), 16);
  }
}

std::string IpAddr::toString() const {
  char buf[INET6_ADDRSTRLEN];
  if (isV4()) {
    inet_ntop(AF_INET, b_.data() + 12, buf, sizeof(buf));
  } else if (isV6()) {
    inet_ntop(AF_INET6, b_.data(), buf, sizeof(buf));
  } else {
    return "none";
  }
  return buf;
}

bool IpAddr::isMulticast() const {
  if (isV4()) return (b_[12] & 0xf0) == 0xe0;
  if (isV6()) return b_[0] == 0xff;
  return false;
}

bool IpAddr::isUnspecified() const {
  if (isV4()) return v4() == 0;
  if (isV6()) {
    for (uint8_t x : b_) {
      if (x != 0) return false;
    }
    return true;
  }
  return false;
}

bool IpAddr::isLoopback() const {
  if (isV4()) return b_[12] == 127;
  if (isV6()) {
    for (int i = 0; i < 15; ++i) {
      if (b_[static_cast<size_t>(i)] != 0) return false;
    }
    return b_[15] == 1;
  }
  return false;
}

IpAddr IpAddr::masked(int len) const {
  IpAddr r = *this;
  int total = bitLength();
  if (len >= total) return r;
  if (len < 0) len = 0;
  int start = isV4() ? 96 : 0;  // Bit offset of the family's first address bit.
  for (int bit = start + len; bit < 128; ++bit) {
    r.b_[static_cast<size_t>(bit / 8)] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  }
  return r;
}

uint64_t IpAddr::hash() const {
  uint64_t hi;
  uint64_t lo;
  std::memcpy(&hi, b_.data(), 8);
  std::memcpy(&lo, b_.data() + 8, 8);
  return hashCombine(hashCombine(static_cast<uint64_t>(family_), hi), lo);
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text) {
  size_t slash = text.find('/');
  auto addr = IpAddr::parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  if (slash == std::string_view::npos) return host(*addr);
  std::string_view len_text = text.substr(slash + 1);
  unsigned len = 0;
  auto [p, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  if (ec != std::errc() || p != len_text.data() + len_text.size() || len_text.empty()) {
    return std::nullopt;
  }
  if (len > static_cast<unsigned>(addr->bitLength())) return std::nullopt;
  return IpPrefix{*addr, static_cast<uint8_t>(len)};
}

bool IpPrefix::contains(const IpAddr& a) const {
  if (a.family() != addr.family()) return false;
  if (a.isV4()) {
    if (len == 0) return true;
    uint32_t mask = len >= 32 ? 0xffffffffU : ~(0xffffffffU >> len);
    return (a.v4() & mask) == (addr.v4() & mask);
  }
  return a.masked(len) == addr.masked(len);
}

std::string IpPrefix::toString() const { return addr.toString() + "/" + std::to_string(len); }

}  // namespace loom::packet
