#pragma once
// Re-injection of upcalled packets: the agent simulates the first packet of a flow, installs the
// flow, then sends that packet itself (the BPF program already consumed it). Two ways out:
//   - to a local VM: an AF_PACKET socket writes the frame onto the host side of the VM's veth,
//     so it leaves toward the VM (egress of the host side; the ingress program does not see it);
//   - to a VM on another host: a UDP socket sends it VXLAN-encapsulated to the remote host's
//     underlay address, where the vxlan device and the tunnel program take it as any other.
// completeChecksums() first finishes checksums the sending VM left to offload: an upcalled frame
// is captured before any NIC would have filled them in.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "base/status.h"
#include "datapath/bpf/loom_dp_abi.h"

namespace loom::datapath {

inline constexpr uint16_t kVxlanUdpPort = LOOM_VXLAN_PORT;

// The 8-byte VXLAN header (RFC 7348): flags (I = 0x08: VNI valid), 3 reserved bytes, the 24-bit
// VNI, 1 reserved byte.
struct VxlanHeader {
  static constexpr size_t kSize = 8;
  static constexpr uint8_t kFlagVniValid = 0x08;
  uint8_t bytes[kSize] = {};

  static VxlanHeader make(uint32_t vni);
  // The VNI of a well-formed header (I flag set); nullopt when shorter than 8 bytes or I clear.
  static std::optional<uint32_t> parseVni(std::span<const uint8_t> data);
};
static_assert(sizeof(VxlanHeader) == VxlanHeader::kSize);

// Recomputes, in place, the IPv4 header checksum and the complete TCP/UDP/ICMP (IPv4) or
// TCP/UDP/ICMPv6 (IPv6) checksum of an untagged or single-tagged Ethernet frame. Upcalled frames
// may be CHECKSUM_PARTIAL, with only the pseudo-header sum in the L4 checksum field, so the L4
// checksum is always recomputed from scratch (a computed UDP 0 is sent as 0xffff). Skips (returns
// false, frame unchanged) frames that do not parse completely (truncated captures), fragments
// (the checksum covers the reassembled datagram), QinQ, IPv6 with extension headers (a routing
// header would change the pseudo-header address), and frames with no IP; for those, nothing is
// changed. Returns true when the checksums were rewritten.
bool completeChecksums(std::vector<uint8_t>& frame);

// Where the agent sends the packets it handles: a local VM's interface or a remote host. A role
// interface so that the agent's packet logic can be tested without sockets.
class PacketTx {
 public:
  virtual ~PacketTx() = default;
  virtual Status sendToInterface(uint32_t ifindex, std::span<const uint8_t> frame) = 0;
  virtual Status sendVxlan(uint32_t remote_ipv4_host_order, uint32_t vni,
                           std::span<const uint8_t> frame, uint16_t port = kVxlanUdpPort) = 0;
};

// Sends frames out of the host. Thread-safe: send calls may run concurrently (each is one
// sendto/sendmsg on a shared socket); counters are atomic.
class PacketSender final : public PacketTx {
 public:
  // Opens an AF_PACKET raw socket (protocol 0: it receives nothing; needs CAP_NET_RAW) with
  // PACKET_QDISC_BYPASS when available, and a UDP socket for VXLAN.
  static StatusOr<std::unique_ptr<PacketSender>> open();
  ~PacketSender() override;
  PacketSender(const PacketSender&) = delete;
  PacketSender& operator=(const PacketSender&) = delete;

  // Writes `frame` (a complete Ethernet frame) onto interface `ifindex`.
  Status sendToInterface(uint32_t ifindex, std::span<const uint8_t> frame) override;
  // Sends `frame` in a VXLAN packet with `vni` to remote_ipv4 (host order), UDP port `port`.
  Status sendVxlan(uint32_t remote_ipv4_host_order, uint32_t vni, std::span<const uint8_t> frame,
                   uint16_t port = kVxlanUdpPort) override;

  uint64_t sent() const { return sent_.load(std::memory_order_relaxed); }
  uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }

 private:
  PacketSender(int raw_fd, int udp_fd) : raw_fd_(raw_fd), udp_fd_(udp_fd) {}
  Status count(Status s);

  int raw_fd_ = -1;
  int udp_fd_ = -1;
  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> failed_{0};
};

}  // namespace loom::datapath
