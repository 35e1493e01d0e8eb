// Packets the devices generate: ARP replies and requests, ICMP echo replies and ICMP errors
// (with RFC 1812 4.3.2.7 suppression).

#include <algorithm>
#include <cstring>
#include <vector>

#include "packet/builder.h"
#include "packet/checksum.h"
#include "packet/parser.h"
#include "sim/context.h"

namespace loom::sim::detail {
namespace {

// RFC 1812 4.3.2.3: an ICMP error carries as much of the offending datagram as fits in 576
// bytes (20 bytes of IP header and 8 of ICMP header ahead of it).
constexpr size_t kMaxQuotedBytes = 576 - 20 - 8;

void addGenerated(Context& ctx, Index via_port, std::vector<uint8_t> frame, const char* what) {
  // Everything but a (refreshing) ARP request answers the packet itself.
  if (std::strcmp(what, "arp_request") != 0) ctx.out.cacheable = false;
  ctx.out.generated.push_back(GeneratedPacket{ctx.topo.port(via_port).id, std::move(frame), what});
}

// The offending datagram as the current device received it: the original bytes with the
// current TTL (earlier routers decremented it), or, without a frame, the header rebuilt from
// the flow key.
std::vector<uint8_t> offendingDatagram(Context& ctx) {
  const packet::FlowFields& f = ctx.cur.untracked();
  std::vector<uint8_t> dgram;
  if (!ctx.in.frame.empty()) {
    packet::ParsedPacket p = packet::parsePacket(ctx.in.frame);
    std::span<const uint8_t> d = p.ipDatagram();
    if (p.ok() && !d.empty() && p.fields.eth_type == packet::kEthTypeIpv4) {
      dgram.assign(d.begin(),
                   d.begin() + static_cast<std::ptrdiff_t>(std::min(d.size(), kMaxQuotedBytes)));
      size_t ihl = size_t{p.ipv4_ihl} * 4;
      if (dgram.size() >= ihl && dgram[8] != f.nw_ttl) {
        dgram[8] = f.nw_ttl;
        dgram[10] = dgram[11] = 0;
        uint16_t sum = packet::internetChecksum(std::span<const uint8_t>(dgram.data(), ihl));
        dgram[10] = static_cast<uint8_t>(sum >> 8);
        dgram[11] = static_cast<uint8_t>(sum);
      }
      return dgram;
    }
  }
  packet::PacketBuilder b;
  b.eth(f.eth_src, f.eth_dst).ipv4(f.nw_src, f.nw_dst).ttl(f.nw_ttl).tos(f.nw_tos);
  // (No later fragments here: icmpErrorAllowed() refuses errors about them.)
  if (f.nw_proto == packet::kIpProtoTcp) {
    b.tcp(f.tp_src, f.tp_dst).tcpFlags(f.tcp_flags);
  } else if (f.nw_proto == packet::kIpProtoUdp) {
    b.udp(f.tp_src, f.tp_dst);
  } else if (f.nw_proto == packet::kIpProtoIcmp) {
    b.icmp(f.icmp_type, f.icmp_code, uint32_t{f.icmp_id} << 16);
  } else {
    b.ipProto(f.nw_proto);
  }
  std::vector<uint8_t> frame = b.build();
  constexpr size_t kEthHeader = 14;
  size_t len = std::min(frame.size() - kEthHeader, size_t{20 + 8});
  dgram.assign(frame.begin() + kEthHeader,
               frame.begin() + static_cast<std::ptrdiff_t>(kEthHeader + len));
  return dgram;
}

}  // namespace

bool icmpErrorAllowed(Context& ctx) {
  const packet::FlowMatch& m = ctx.cur;
  if (m.ethDst().isMulticast()) return false;  // Link-layer broadcast or multicast.
  if (!m.isIpv4()) return false;               // ICMPv6 errors: not generated yet.
  if (m.nwFrag() == packet::FragType::Later) return false;
  const IpAddr& dst = m.nwDst();
  if (dst.isMulticast() || dst.isLimitedBroadcast()) return false;
  const IpAddr& src = m.nwSrc();
  if (src.isUnspecified() || src.isMulticast() || src.isLimitedBroadcast() || src.isLoopback()) {
    return false;
  }
  if (m.nwProto() == packet::kIpProtoIcmp && packet::isIcmpv4Error(m.icmpType())) return false;
  return true;
}

void emitIcmpError(Context& ctx, Index via_port, MacAddr src_mac, const IpAddr& src_ip,
                   uint8_t type, uint8_t code, uint32_t rest) {
  const packet::FlowFields& f = ctx.cur.untracked();
  std::vector<uint8_t> quoted = offendingDatagram(ctx);
  packet::PacketBuilder b;
  b.eth(src_mac, f.eth_src);
  if (f.vlan_present) b.vlan(f.vlan_id);  // Back on the sender's VLAN.
  std::vector<uint8_t> frame =
      b.ipv4(src_ip, f.nw_src).ttl(64).icmp(type, code, rest).payload(quoted).build();
  addGenerated(ctx, via_port, std::move(frame), "icmp_error");
  if (ctx.tracing()) {
    ctx.trace("icmp", "ICMP error type " + std::to_string(type) + " code " + std::to_string(code) +
                          " from " + src_ip.toString() + " to " + f.nw_src.toString());
  }
}

void emitReject(Context& ctx) {
  if (ctx.in_port == kNoIndex || !icmpErrorAllowed(ctx)) return;
  const model::Port& in = ctx.topo.port(ctx.in_port);
  const packet::FlowFields& f = ctx.cur.untracked();
  if (in.device_kind == model::DeviceKind::Router) {
    if (auto src = portAddressTowards(in, f.nw_src)) {
      emitIcmpError(ctx, ctx.in_port, in.mac, *src, packet::kIcmpDestUnreachable,
                    packet::kIcmpCodeAdminProhibited);
    }
    return;
  }
  // A bridge has no address of its own: answer as the destination would.
  emitIcmpError(ctx, ctx.in_port, f.eth_dst, f.nw_dst, packet::kIcmpDestUnreachable,
                packet::kIcmpCodeAdminProhibited);
}

void emitArpReply(Context& ctx, Index via_port, MacAddr mac, const IpAddr& ip) {
  const packet::FlowFields& f = ctx.cur.untracked();
  packet::PacketBuilder b;
  b.eth(mac, f.arp_sha);
  if (f.vlan_present) b.vlan(f.vlan_id);  // Answer on the requester's VLAN.
  std::vector<uint8_t> frame = b.arp(packet::kArpOpReply, mac, ip, f.arp_sha, f.arp_spa).build();
  addGenerated(ctx, via_port, std::move(frame), "arp_reply");
}

void emitArpRequest(Context& ctx, Index via_port, const IpAddr& target) {
  const model::Port& port = ctx.topo.port(via_port);
  IpAddr spa = portAddressTowards(port, target).value_or(IpAddr::v4(0));
  std::vector<uint8_t> frame = packet::PacketBuilder()
                                   .eth(port.mac, MacAddr::broadcast())
                                   .arp(packet::kArpOpRequest, port.mac, spa, MacAddr(), target)
                                   .build();
  addGenerated(ctx, via_port, std::move(frame), "arp_request");
  if (ctx.tracing()) {
    ctx.trace(ctx.label(port),
              "ARP request: who-has " + target.toString() + " tell " + spa.toString());
  }
}

void emitEchoReply(Context& ctx, Index via_port, MacAddr src_mac) {
  const packet::FlowFields& f = ctx.cur.untracked();
  uint16_t seq = 0;
  std::span<const uint8_t> data;
  packet::ParsedPacket p;
  if (!ctx.in.frame.empty()) {
    p = packet::parsePacket(ctx.in.frame);
    if (p.ok() && p.l4 == packet::L4Kind::Icmp && p.l3_end >= p.l4_offset + 8) {
      seq = static_cast<uint16_t>((ctx.in.frame[p.l4_offset + 6] << 8) |
                                  ctx.in.frame[p.l4_offset + 7]);
      data = ctx.in.frame.subspan(p.l4_offset + 8, p.l3_end - p.l4_offset - 8);
    }
  }
  std::vector<uint8_t> frame = packet::PacketBuilder()
                                   .eth(src_mac, f.eth_src)
                                   .ipv4(f.nw_dst, f.nw_src)
                                   .ttl(64)
                                   .icmpEcho(false, f.icmp_id, seq)
                                   .payload(data)
                                   .build();
  addGenerated(ctx, via_port, std::move(frame), "icmp_echo_reply");
}

}  // namespace loom::sim::detail
