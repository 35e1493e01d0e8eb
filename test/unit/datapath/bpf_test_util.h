#pragma once
// Shared by the BpfDatapath tests: frame builders, key helpers and a fixture that mounts a
// private bpffs on a fresh temp dir and opens a BpfDatapath on it. Needs root (skips otherwise).
// In BPF_PROG_TEST_RUN skb->ifindex is 1 (lo), so keys use in_ifindex 1.

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/pkt_cls.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "datapath/bpf_datapath.h"

namespace loom::datapath::bpftest {

using Bytes = std::vector<uint8_t>;

constexpr uint8_t kMacA[6] = {0x02, 0, 0, 0, 0, 0x0a};
constexpr uint8_t kMacB[6] = {0x02, 0, 0, 0, 0, 0x0b};
constexpr uint8_t kMacC[6] = {0x02, 0, 0, 0, 0, 0x0c};
constexpr uint8_t kMacD[6] = {0x02, 0, 0, 0, 0, 0x0d};

inline uint32_t ip(const char* s) {
  in_addr a{};
  inet_pton(AF_INET, s, &a);
  return a.s_addr;  // Network order, as in the key.
}

inline uint16_t be16(const Bytes& b, size_t off) {
  return static_cast<uint16_t>(b[off] << 8 | b[off + 1]);
}

// One's-complement sum of 16-bit big-endian words.
inline uint32_t sum16(const uint8_t* p, size_t n, uint32_t acc = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) acc += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (n & 1) acc += static_cast<uint32_t>(p[n - 1] << 8);
  return acc;
}
inline uint16_t fold(uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}
// Sum of the IPv4 pseudo header and the L4 segment of frame (no IP options).
inline uint16_t l4Sum(const Bytes& f) {
  size_t l4_len = f.size() - 34;
  uint32_t acc = sum16(&f[26], 8);
  acc += f[23];
  acc += static_cast<uint32_t>(l4_len);
  return fold(sum16(&f[34], l4_len, acc));
}
inline bool ipChecksumOk(const Bytes& f) { return fold(sum16(&f[14], 20)) == 0xffff; }

// Ethernet + IPv4 (no options) + TCP (20 bytes) or UDP (8 bytes) + payload, checksums filled.
inline Bytes ipv4Frame(const uint8_t* dst, const uint8_t* src, const char* saddr, const char* daddr,
                       uint8_t proto, uint16_t sport, uint16_t dport, size_t payload = 16,
                       uint8_t ttl = 64, bool udp_csum = true) {
  size_t l4 = proto == IPPROTO_TCP ? 20 : 8;
  Bytes f(14 + 20 + l4 + payload, 0);
  std::memcpy(&f[0], dst, 6);
  std::memcpy(&f[6], src, 6);
  f[12] = 0x08;
  f[13] = 0x00;
  f[14] = 0x45;
  size_t tot = f.size() - 14;
  f[16] = static_cast<uint8_t>(tot >> 8);
  f[17] = static_cast<uint8_t>(tot);
  f[22] = ttl;
  f[23] = proto;
  uint32_t s = ip(saddr), d = ip(daddr);
  std::memcpy(&f[26], &s, 4);
  std::memcpy(&f[30], &d, 4);
  uint16_t c = static_cast<uint16_t>(~fold(sum16(&f[14], 20)));
  f[24] = static_cast<uint8_t>(c >> 8);
  f[25] = static_cast<uint8_t>(c);
  f[34] = static_cast<uint8_t>(sport >> 8);
  f[35] = static_cast<uint8_t>(sport);
  f[36] = static_cast<uint8_t>(dport >> 8);
  f[37] = static_cast<uint8_t>(dport);
  for (size_t i = 0; i < payload; ++i) f[34 + l4 + i] = static_cast<uint8_t>(i * 7);
  size_t csum_off;
  if (proto == IPPROTO_TCP) {
    f[46] = 0x50;  // Data offset 5.
    f[47] = 0x12;  // SYN|ACK.
    csum_off = 50;
  } else {
    f[38] = static_cast<uint8_t>((8 + payload) >> 8);
    f[39] = static_cast<uint8_t>(8 + payload);
    csum_off = 40;
    if (!udp_csum) return f;
  }
  uint16_t lc = static_cast<uint16_t>(~l4Sum(f));
  if (proto == IPPROTO_UDP && lc == 0) lc = 0xffff;
  f[csum_off] = static_cast<uint8_t>(lc >> 8);
  f[csum_off + 1] = static_cast<uint8_t>(lc);
  return f;
}

inline Bytes arpFrame(uint16_t op, const uint8_t* sha, const char* spa, const char* tpa) {
  Bytes f(14 + 28, 0);
  std::memset(&f[0], 0xff, 6);
  std::memcpy(&f[6], sha, 6);
  f[12] = 0x08;
  f[13] = 0x06;
  const uint8_t body[8] = {
      0, 1, 0x08, 0, 6, 4, static_cast<uint8_t>(op >> 8), static_cast<uint8_t>(op)};
  std::memcpy(&f[14], body, 8);
  std::memcpy(&f[22], sha, 6);
  uint32_t s = ip(spa), t = ip(tpa);
  std::memcpy(&f[28], &s, 4);
  std::memcpy(&f[38], &t, 4);
  return f;
}

// Ethernet + IPv6 (traffic class 0xb8, hop limit 33) + an 8-byte L4 header (UDP or ICMPv6).
inline Bytes ipv6Frame(uint8_t next, uint16_t a, uint16_t b) {
  Bytes f(14 + 40 + 8, 0);
  std::memcpy(&f[0], kMacB, 6);
  std::memcpy(&f[6], kMacA, 6);
  f[12] = 0x86;
  f[13] = 0xdd;
  f[14] = 0x6b;  // Version 6, traffic class 0xb8 split across the nibbles.
  f[15] = 0x80;
  f[19] = 8;
  f[20] = next;
  f[21] = 33;
  f[22] = 0x20;  // Addresses: not part of the key.
  f[54] = static_cast<uint8_t>(a >> 8);
  f[55] = static_cast<uint8_t>(a);
  f[56] = static_cast<uint8_t>(b >> 8);
  f[57] = static_cast<uint8_t>(b);
  return f;
}

inline FlowKey maskKey(const FlowKey& key, const MaskKey& mask, uint8_t id) {
  FlowKey out{};
  const auto* k = reinterpret_cast<const uint8_t*>(&key);
  const auto* m = reinterpret_cast<const uint8_t*>(&mask.mask);
  auto* o = reinterpret_cast<uint8_t*>(&out);
  for (size_t i = 0; i < sizeof(FlowKey); ++i) o[i] = k[i] & m[i];
  out.mask_id = id;
  return out;
}

// The key the program should build for ipv4Frame(dst, src, ...) (only the fields tests mask).
inline FlowKey baseKey(const uint8_t* dst, const uint8_t* src, const char* daddr) {
  FlowKey k{};
  k.ifindex = 1;  // BPF_PROG_TEST_RUN runs on lo.
  std::memcpy(k.eth_dst, dst, 6);
  std::memcpy(k.eth_src, src, 6);
  k.eth_type = htons(0x0800);
  k.nw_dst = ip(daddr);
  return k;
}

inline MaskKey l2Mask() {
  MaskKey m{};
  m.mask.ifindex = 0xffffffff;
  std::memset(m.mask.eth_dst, 0xff, 6);
  return m;
}
inline MaskKey l3Mask() {
  MaskKey m{};
  m.mask.ifindex = 0xffffffff;
  m.mask.eth_type = 0xffff;
  m.mask.nw_dst = 0xffffffff;
  return m;
}

inline FlowValue localOutput(uint32_t ifindex = 1) {
  FlowValue v{};
  v.action = LOOM_ACT_FORWARD;
  v.n_outputs = 1;
  v.outputs[0].flags = LOOM_OUT_LOCAL;
  v.outputs[0].ifindex = ifindex;
  return v;
}

inline uint64_t monotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

class BpfDatapathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (BPF, bpffs, netns)";
    char tmpl[] = "/tmp/loom-bpf-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    mount_dir_ = tmpl;
    ASSERT_EQ(mount("bpf", mount_dir_.c_str(), "bpf", 0, nullptr), 0) << std::strerror(errno);
    mounted_ = true;
    pin_dir_ = mount_dir_ + "/loom";
    dp_ = openDp();
    ASSERT_NE(dp_, nullptr);
  }

  void TearDown() override {
    dp_.reset();
    if (mounted_) umount2(mount_dir_.c_str(), MNT_DETACH);
    if (!mount_dir_.empty()) rmdir(mount_dir_.c_str());
  }

  std::unique_ptr<BpfDatapath> openDp(BpfDatapathOptions opts = {}) {
    opts.pin_dir = pin_dir_;
    auto dp = BpfDatapath::open(opts);
    EXPECT_TRUE(dp.ok()) << dp.status().toString();
    return dp.ok() ? std::move(dp).value() : nullptr;
  }

  void configure(uint32_t n_masks, uint32_t rate = 0, uint32_t burst = 0) {
    loom_config c{};
    c.n_masks = n_masks;
    c.vxlan_ifindex = 1;
    c.upcall_rate = rate;
    c.upcall_burst = burst;
    ASSERT_TRUE(dp_->setConfig(c).ok());
  }

  struct Run {
    int retval = -1;
    Bytes out;
  };
  Run run(const Bytes& frame, uint32_t gso_segs = 0) {
    Run r;
    r.out.assign(frame.size() + 256, 0);
    __sk_buff ctx{};
    bpf_test_run_opts opts{};
    opts.sz = sizeof(opts);
    opts.data_in = frame.data();
    opts.data_size_in = static_cast<uint32_t>(frame.size());
    opts.data_out = r.out.data();
    opts.data_size_out = static_cast<uint32_t>(r.out.size());
    opts.repeat = 1;
    if (gso_segs) {
      ctx.gso_segs = gso_segs;
      ctx.gso_size = 100;
      opts.ctx_in = &ctx;
      opts.ctx_size_in = sizeof(ctx);
    }
    int rc = bpf_prog_test_run_opts(dp_->prog_fd(BpfProgram::kVmIngress), &opts);
    EXPECT_EQ(rc, 0) << std::strerror(errno);
    r.retval = static_cast<int>(opts.retval);
    r.out.resize(opts.data_size_out);
    return r;
  }

  std::vector<Bytes> drainUpcalls(std::vector<loom_upcall>* headers = nullptr) {
    std::vector<Bytes> frames;
    auto n = dp_->pollUpcalls(0, 100, [&](const Upcall& u) {
      frames.emplace_back(u.data.begin(), u.data.end());
      if (headers) headers->push_back(*u.header);
    });
    EXPECT_TRUE(n.ok()) << n.status().toString();
    return frames;
  }

  std::string mount_dir_;
  std::string pin_dir_;
  bool mounted_ = false;
  std::unique_ptr<BpfDatapath> dp_;
};

}  // namespace loom::datapath::bpftest
