#include "base/uuid.h"

#include <cstdio>
#include <random>

namespace loom {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<Uuid> Uuid::parse(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  uint64_t words[2] = {0, 0};
  int nibble = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return std::nullopt;
      continue;
    }
    int v = hexValue(text[i]);
    if (v < 0) return std::nullopt;
    uint64_t& w = words[nibble / 16];
    w = (w << 4) | static_cast<uint64_t>(v);
    ++nibble;
  }
  return Uuid(words[0], words[1]);
}

Uuid Uuid::random() {
  thread_local std::mt19937_64 gen{[] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }()};
  uint64_t msb = gen();
  uint64_t lsb = gen();
  msb = (msb & ~0xf000ULL) | 0x4000ULL;              // version 4
  lsb = (lsb & ~(0xc0ULL << 56)) | (0x80ULL << 56);  // RFC 4122 variant
  return Uuid(msb, lsb);
}

Uuid Uuid::derive(const Uuid& base, std::string_view name) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a over the name, then mixed with the base.
  for (char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  uint64_t msb = hashCombine(base.msb(), h);
  uint64_t lsb = hashCombine(base.lsb(), mix64(h));
  msb = (msb & ~0xf000ULL) | 0x5000ULL;              // Version 5 nibble.
  lsb = (lsb & ~(0xc0ULL << 56)) | (0x80ULL << 56);  // RFC 4122 variant.
  return Uuid(msb, lsb);
}

std::string Uuid::toString() const {
  char buf[37];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(msb_ >> 32),
                static_cast<unsigned>((msb_ >> 16) & 0xffff), static_cast<unsigned>(msb_ & 0xffff),
                static_cast<unsigned>(lsb_ >> 48),
                static_cast<unsigned long long>(lsb_ & 0xffffffffffffULL));
  return std::string(buf, 36);
}

std::string Uuid::shortString() const { return toString().substr(0, 8); }

}  // namespace loom
