#pragma once
// Internet checksum (RFC 1071), pseudo-header sums, and incremental update (RFC 1624).

#include <cstdint>
#include <span>

#include "packet/addr.h"

namespace loom::packet {

// One's-complement sum of 16-bit big-endian words, folded to 16 bits but not inverted. An odd
// trailing byte is padded with zero. `initial` lets sums be chained.
uint16_t onesComplementSum(std::span<const uint8_t> data, uint32_t initial = 0);

// The final checksum field value: ~sum. A result of 0 is returned as is (UDP callers map 0 to
// 0xffff themselves).
uint16_t internetChecksum(std::span<const uint8_t> data, uint32_t initial = 0);

// Sum of the TCP/UDP/ICMPv6 pseudo header (addresses, protocol, upper-layer length), unfolded
// into a 32-bit accumulator suitable as `initial` above.
uint32_t pseudoHeaderSum(const IpAddr& src, const IpAddr& dst, uint8_t proto, uint32_t length);

// Incremental update of a checksum field when a 16-bit word changes from old_word to new_word
// (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')).
uint16_t checksumUpdate16(uint16_t checksum, uint16_t old_word, uint16_t new_word);
// The same for a 32-bit value (e.g. an IPv4 address), as two 16-bit words.
uint16_t checksumUpdate32(uint16_t checksum, uint32_t old_value, uint32_t new_value);

// True when the IPv4 header checksum over `header` (IHL*4 bytes) verifies.
bool ipv4HeaderChecksumOk(std::span<const uint8_t> header);
// True when the L4 checksum of a parsed TCP/UDP/ICMP/ICMPv6 packet verifies (UDP over IPv4 with
// checksum 0 counts as OK; over IPv6 it fails). Fragments, first or later, return true: the
// checksum covers the reassembled datagram, so there is nothing to check. False when the packet
// has no L4 header.
struct ParsedPacket;
bool l4ChecksumOk(const ParsedPacket& p);

}  // namespace loom::packet
