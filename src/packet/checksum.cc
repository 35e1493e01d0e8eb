#include "packet/checksum.h"

#include <bit>
#include <cstring>

#include "packet/parser.h"

namespace loom::packet {

namespace {

// Folds a wide one's-complement accumulator to 16 bits (end-around carry).
constexpr uint16_t fold(uint64_t sum) {
  sum = (sum & 0xffffffffULL) + (sum >> 32);
  sum = (sum & 0xffffULL) + (sum >> 16);
  sum = (sum & 0xffffULL) + (sum >> 16);
  sum = (sum & 0xffffULL) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

constexpr uint16_t byteSwap16(uint16_t v) { return static_cast<uint16_t>((v << 8) | (v >> 8)); }

uint16_t load16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

// Sum of the data as native-order words. By RFC 1071's byte-order independence the folded result
// is the big-endian sum, byte-swapped on little-endian hosts.
uint16_t nativeSum(const uint8_t* data, size_t size) {
  uint64_t sum = 0;
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t w;
    std::memcpy(&w, data + i, 8);
    sum += w & 0xffffffffULL;
    sum += w >> 32;
  }
  if (i + 4 <= size) {
    uint32_t w;
    std::memcpy(&w, data + i, 4);
    sum += w;
    i += 4;
  }
  if (i + 2 <= size) {
    uint16_t w;
    std::memcpy(&w, data + i, 2);
    sum += w;
    i += 2;
  }
  if (i < size) {
    // A trailing odd byte is the high byte of a big-endian word padded with zero.
    uint16_t w = 0;
    std::memcpy(&w, data + i, 1);
    sum += w;
  }
  return fold(sum);
}

}  // namespace

uint16_t onesComplementSum(std::span<const uint8_t> data, uint32_t initial) {
  uint16_t native = data.empty() ? 0 : nativeSum(data.data(), data.size());
  uint16_t be = std::endian::native == std::endian::little ? byteSwap16(native) : native;
  return fold(uint64_t{be} + initial);
}

uint16_t internetChecksum(std::span<const uint8_t> data, uint32_t initial) {
  return static_cast<uint16_t>(~onesComplementSum(data, initial));
}

uint32_t pseudoHeaderSum(const IpAddr& src, const IpAddr& dst, uint8_t proto, uint32_t length) {
  uint32_t sum = proto + (length >> 16) + (length & 0xffff);
  const auto& s = src.bytes();
  const auto& d = dst.bytes();
  // IPv4 addresses live in the last 4 bytes of the v4-mapped form.
  size_t first = src.isV4() ? 12 : 0;
  for (size_t i = first; i < 16; i += 2) sum += load16(s.data() + i);
  first = dst.isV4() ? 12 : 0;
  for (size_t i = first; i < 16; i += 2) sum += load16(d.data() + i);
  return sum;
}

uint16_t checksumUpdate16(uint16_t checksum, uint16_t old_word, uint16_t new_word) {
  // RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m').
  uint32_t sum = uint32_t{static_cast<uint16_t>(~checksum)} +
                 uint32_t{static_cast<uint16_t>(~old_word)} + new_word;
  return static_cast<uint16_t>(~fold(sum));
}

uint16_t checksumUpdate32(uint16_t checksum, uint32_t old_value, uint32_t new_value) {
  uint32_t sum = uint32_t{static_cast<uint16_t>(~checksum)} +
                 uint32_t{static_cast<uint16_t>(~(old_value >> 16))} +
                 uint32_t{static_cast<uint16_t>(~old_value)} + (new_value >> 16) +
                 (new_value & 0xffff);
  return static_cast<uint16_t>(~fold(sum));
}

bool ipv4HeaderChecksumOk(std::span<const uint8_t> header) {
  if (header.size() < 20) return false;
  return onesComplementSum(header) == 0xffff;
}

bool l4ChecksumOk(const ParsedPacket& p) {
  // Fragments: the checksum covers the reassembled datagram, so there is nothing to check here.
  if (p.fields.nw_frag != FragType::None) return true;
  if (p.l4_offset == ParsedPacket::kAbsent || p.l3_end <= p.l4_offset) return false;
  std::span<const uint8_t> segment = p.frame.subspan(p.l4_offset, p.l3_end - p.l4_offset);
  const FlowFields& f = p.fields;
  auto length = static_cast<uint32_t>(segment.size());
  switch (p.l4) {
    case L4Kind::Tcp:
      return onesComplementSum(segment, pseudoHeaderSum(f.nw_src, f.nw_dst, kIpProtoTcp, length)) ==
             0xffff;
    case L4Kind::Udp:
      // A zero UDP checksum means "none": fine over IPv4, forbidden over IPv6 (RFC 8200 8.1).
      if (load16(segment.data() + 6) == 0) return f.nw_src.isV4();
      return onesComplementSum(segment, pseudoHeaderSum(f.nw_src, f.nw_dst, kIpProtoUdp, length)) ==
             0xffff;
    case L4Kind::Icmp: return onesComplementSum(segment) == 0xffff;
    case L4Kind::Icmpv6:
      return onesComplementSum(
                 segment, pseudoHeaderSum(f.nw_src, f.nw_dst, kIpProtoIcmpv6, length)) == 0xffff;
    case L4Kind::None: break;
  }
  return false;
}

}  // namespace loom::packet
