#include "datapath/packet_io.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "packet/checksum.h"
#include "packet/parser.h"

namespace loom::datapath {

namespace {

void store16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

Status errnoStatus(const std::string& what, int err) {
  std::string msg = what + ": " + std::strerror(err);
  switch (err) {
    case EPERM:
    case EACCES: return Status(StatusCode::PermissionDenied, msg);
    case ENODEV:
    case ENXIO: return notFound(msg);
    case EMSGSIZE:
    case EINVAL: return invalidArgument(msg);
    case ENOBUFS:
    case EAGAIN:
    case ENETDOWN:
    case ENETUNREACH:
    case EHOSTUNREACH: return unavailable(msg);
    default: return internalError(msg);
  }
}

// Recomputes the L4 checksum field at `field_offset` of `segment` from scratch, over `initial`
// (the pseudo-header sum, or 0 for ICMPv4).
void rewriteL4(std::span<uint8_t> segment, size_t field_offset, uint32_t initial, bool udp) {
  if (segment.size() < field_offset + 2) return;
  store16(segment.data() + field_offset, 0);
  uint16_t sum = packet::internetChecksum(segment, initial);
  // In UDP a 0 checksum means "none": a computed 0 is sent as its one's complement twin.
  if (udp && sum == 0) sum = 0xffff;
  store16(segment.data() + field_offset, sum);
}

}  // namespace

VxlanHeader VxlanHeader::make(uint32_t vni) {
  VxlanHeader h;
  h.bytes[0] = kFlagVniValid;
  h.bytes[4] = static_cast<uint8_t>(vni >> 16);
  h.bytes[5] = static_cast<uint8_t>(vni >> 8);
  h.bytes[6] = static_cast<uint8_t>(vni);
  return h;
}

std::optional<uint32_t> VxlanHeader::parseVni(std::span<const uint8_t> data) {
  if (data.size() < kSize || (data[0] & kFlagVniValid) == 0) return std::nullopt;
  return (uint32_t{data[4]} << 16) | (uint32_t{data[5]} << 8) | data[6];
}

bool completeChecksums(std::vector<uint8_t>& frame) {
  // The parser rejects frames whose IP datagram is not all present, so a truncated capture
  // (LOOM_UPCALL_F_TRUNCATED) is left alone here.
  packet::ParsedPacket p = packet::parsePacket(frame);
  if (!p.ok() || p.vlan_tags > 1 || p.l3_offset == packet::ParsedPacket::kAbsent) return false;
  const packet::FlowFields& f = p.fields;
  bool v4 = f.eth_type == packet::kEthTypeIpv4;
  bool v6 = f.eth_type == packet::kEthTypeIpv6;
  if (!v4 && !v6) return false;
  if (f.nw_frag != packet::FragType::None) return false;
  if (v6 && p.ipv6_ext_headers != 0) return false;

  std::span<uint8_t> bytes(frame);
  if (v4) {
    std::span<uint8_t> header = bytes.subspan(p.l3_offset, p.ipv4_ihl * size_t{4});
    store16(header.data() + 10, 0);
    store16(header.data() + 10, packet::internetChecksum(header));
  }
  if (p.l4 == packet::L4Kind::None || p.l4_offset == packet::ParsedPacket::kAbsent ||
      p.l3_end <= p.l4_offset) {
    return true;
  }
  std::span<uint8_t> segment = bytes.subspan(p.l4_offset, p.l3_end - p.l4_offset);
  auto length = static_cast<uint32_t>(segment.size());
  switch (p.l4) {
    case packet::L4Kind::Tcp:
      rewriteL4(segment, 16,
                packet::pseudoHeaderSum(f.nw_src, f.nw_dst, packet::kIpProtoTcp, length), false);
      break;
    case packet::L4Kind::Udp:
      rewriteL4(segment, 6,
                packet::pseudoHeaderSum(f.nw_src, f.nw_dst, packet::kIpProtoUdp, length), true);
      break;
    case packet::L4Kind::Icmp: rewriteL4(segment, 2, 0, false); break;
    case packet::L4Kind::Icmpv6:
      rewriteL4(segment, 2,
                packet::pseudoHeaderSum(f.nw_src, f.nw_dst, packet::kIpProtoIcmpv6, length), false);
      break;
    case packet::L4Kind::None: break;
  }
  return true;
}

StatusOr<std::unique_ptr<PacketSender>> PacketSender::open() {
  // Protocol 0: the socket is never hooked into the receive path, so it costs nothing per
  // packet and needs no draining.
  int raw = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (raw < 0) return errnoStatus("socket(AF_PACKET)", errno);
  // Best effort: skip the interface's qdisc (it has nothing to shape on a veth; the frame goes
  // straight to the driver). Older kernels lack the option; sending works without it.
  int one = 1;
  (void)::setsockopt(raw, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));

  int udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (udp < 0) {
    Status s = errnoStatus("socket(AF_INET, SOCK_DGRAM)", errno);
    ::close(raw);
    return s;
  }
  // Like the kernel's vxlan device (df unset): let the IP layer fragment an encapsulated frame
  // larger than the underlay MTU instead of failing it with EMSGSIZE.
  int pmtu = IP_PMTUDISC_DONT;
  (void)::setsockopt(udp, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
  return std::unique_ptr<PacketSender>(new PacketSender(raw, udp));
}

PacketSender::~PacketSender() {
  if (raw_fd_ >= 0) ::close(raw_fd_);
  if (udp_fd_ >= 0) ::close(udp_fd_);
}

Status PacketSender::count(Status s) {
  (s.ok() ? sent_ : failed_).fetch_add(1, std::memory_order_relaxed);
  return s;
}

Status PacketSender::sendToInterface(uint32_t ifindex, std::span<const uint8_t> frame) {
  if (frame.size() < ETH_HLEN) return count(invalidArgument("frame shorter than Ethernet header"));
  sockaddr_ll sll;
  std::memset(&sll, 0, sizeof(sll));
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = static_cast<int>(ifindex);
  // skb->protocol of the sent frame: its ethertype, as in the frame (network order).
  std::memcpy(&sll.sll_protocol, frame.data() + 12, 2);
  sll.sll_halen = ETH_ALEN;
  std::memcpy(sll.sll_addr, frame.data(), ETH_ALEN);
  ssize_t n;
  do {
    n = ::sendto(raw_fd_, frame.data(), frame.size(), 0, reinterpret_cast<const sockaddr*>(&sll),
                 sizeof(sll));
  } while (n < 0 && errno == EINTR);
  if (n < 0) return count(errnoStatus("send to ifindex " + std::to_string(ifindex), errno));
  if (static_cast<size_t>(n) != frame.size()) {
    return count(internalError("short send to ifindex " + std::to_string(ifindex)));
  }
  return count(okStatus());
}

Status PacketSender::sendVxlan(uint32_t remote_ipv4_host_order, uint32_t vni,
                               std::span<const uint8_t> frame, uint16_t port) {
  if (vni > 0xffffff) return count(invalidArgument("VNI " + std::to_string(vni) + " > 24 bits"));
  VxlanHeader header = VxlanHeader::make(vni);
  sockaddr_in dst;
  std::memset(&dst, 0, sizeof(dst));
  dst.sin_family = AF_INET;
  dst.sin_port = htons(port);
  dst.sin_addr.s_addr = htonl(remote_ipv4_host_order);
  // Header and frame as two iovecs: no copy of the frame.
  iovec iov[2];
  iov[0].iov_base = header.bytes;
  iov[0].iov_len = sizeof(header.bytes);
  iov[1].iov_base = const_cast<uint8_t*>(frame.data());
  iov[1].iov_len = frame.size();
  msghdr msg;
  std::memset(&msg, 0, sizeof(msg));
  msg.msg_name = &dst;
  msg.msg_namelen = sizeof(dst);
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  ssize_t n;
  do {
    n = ::sendmsg(udp_fd_, &msg, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return count(errnoStatus("vxlan send", errno));
  if (static_cast<size_t>(n) != VxlanHeader::kSize + frame.size()) {
    return count(internalError("short vxlan send"));
  }
  return count(okStatus());
}

}  // namespace loom::datapath
