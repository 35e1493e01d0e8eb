// BpfDatapath's pins and attachments: reopening on the same pin dir (a restarted agent),
// incompatible pins, tcx and clsact on veths and a vxlan device in a scratch network namespace
// (ip netns add, deleted in TearDown). Needs root.

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "datapath/bpf_datapath.h"
#include "unit/datapath/bpf_test_util.h"

namespace loom::datapath {
namespace {

using namespace loom::datapath::bpftest;  // NOLINT: test helpers.

TEST_F(BpfDatapathTest, ReopenReusesPinnedMaps) {
  configure(1);
  ASSERT_TRUE(dp_->setMask(0, l2Mask()).ok());
  FlowKey key = maskKey(baseKey(kMacB, kMacA, ""), l2Mask(), 0);
  FlowValue v = localOutput();
  v.cookie = 4242;
  ASSERT_TRUE(dp_->installFlow(key, v).ok());
  auto second = openDp();
  ASSERT_NE(second, nullptr);
  auto got = second->readFlow(key);
  ASSERT_TRUE(got.ok()) << got.status().toString();
  EXPECT_EQ(got->cookie, 4242u);
  EXPECT_EQ(second->config()->n_masks, 1u);
  // The second process's program sees the first one's flows too.
  dp_ = std::move(second);
  EXPECT_EQ(run(ipv4Frame(kMacB, kMacA, "10.0.0.1", "10.0.0.2", IPPROTO_UDP, 1, 2)).retval,
            TC_ACT_REDIRECT);
}

TEST_F(BpfDatapathTest, IncompatiblePinIsNamed) {
  std::string dir = mount_dir_ + "/other";
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "loom_masks", 4, 32, LOOM_MAX_MASKS, nullptr);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(bpf_obj_pin(fd, (dir + "/loom_masks").c_str()), 0);
  close(fd);
  BpfDatapathOptions opts;
  opts.pin_dir = dir;
  auto dp = BpfDatapath::open(opts);
  ASSERT_FALSE(dp.ok());
  EXPECT_NE(dp.status().message().find("loom_masks"), std::string::npos) << dp.status().message();
  EXPECT_NE(dp.status().message().find("value size 32"), std::string::npos);
}

TEST_F(BpfDatapathTest, PinDirMustBeOnBpffs) {
  char tmpl[] = "/tmp/loom-bpf-nofs-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  BpfDatapathOptions opts;
  opts.pin_dir = tmpl;
  auto dp = BpfDatapath::open(opts);
  rmdir(tmpl);
  ASSERT_FALSE(dp.ok());
  EXPECT_NE(dp.status().message().find("mount -t bpf bpf"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Real interfaces: veths and a vxlan device in a scratch network namespace.

class BpfDatapathNetnsTest : public BpfDatapathTest {
 protected:
  void SetUp() override {
    BpfDatapathTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    static int seq = 0;
    ns_ = "loomdp-" + std::to_string(getpid()) + "-" + std::to_string(seq++);
    std::string q = " >/dev/null 2>&1";
    ASSERT_EQ(std::system(("ip netns add " + ns_ + q).c_str()), 0) << "ip netns add failed";
    ns_added_ = true;
    ASSERT_EQ(std::system(("ip -n " + ns_ + " link add vm0p type veth peer name vm0" + q).c_str()),
              0);
    ASSERT_EQ(std::system(
                  ("ip -n " + ns_ + " link add vx0 type vxlan dstport 4789 external" + q).c_str()),
              0);
    orig_ns_ = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(orig_ns_, 0);
    int fd = open(("/run/netns/" + ns_).c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(setns(fd, CLONE_NEWNET), 0) << std::strerror(errno);
    close(fd);
    ifindex_ = if_nametoindex("vm0p");
    vx_ifindex_ = if_nametoindex("vx0");
    ASSERT_NE(ifindex_, 0u);
    ASSERT_NE(vx_ifindex_, 0u);
  }

  void TearDown() override {
    if (orig_ns_ >= 0) {
      EXPECT_EQ(setns(orig_ns_, CLONE_NEWNET), 0);
      close(orig_ns_);
    }
    if (ns_added_) std::system(("ip netns del " + ns_ + " >/dev/null 2>&1").c_str());
    BpfDatapathTest::TearDown();
  }

  // Program ids attached to tcx ingress of ifindex.
  static std::vector<uint32_t> tcxProgs(uint32_t ifindex) {
    uint32_t ids[8] = {};
    uint32_t cnt = 8;
    uint32_t flags = 0;
    if (bpf_prog_query(static_cast<int>(ifindex), static_cast<bpf_attach_type>(46), 0, &flags, ids,
                       &cnt) != 0) {
      return {};
    }
    return std::vector<uint32_t>(ids, ids + cnt);
  }
  static uint32_t progId(int fd) {
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
  }

  std::string ns_;
  bool ns_added_ = false;
  int orig_ns_ = -1;
  uint32_t ifindex_ = 0;
  uint32_t vx_ifindex_ = 0;
};

TEST_F(BpfDatapathNetnsTest, TcxAttachIsPinnedAndReused) {
  ASSERT_TRUE(dp_->attachPort("vm0p", ifindex_, 5001).ok());
  std::vector<uint32_t> progs = tcxProgs(ifindex_);
  ASSERT_EQ(progs.size(), 1u);
  EXPECT_EQ(progs[0], progId(dp_->prog_fd(BpfProgram::kVmIngress)));
  std::string pin = pin_dir_ + "/links/port-" + std::to_string(ifindex_);
  EXPECT_TRUE(std::filesystem::exists(pin));
  ASSERT_TRUE(dp_->attachTunnel("vx0", vx_ifindex_).ok());
  EXPECT_EQ(tcxProgs(vx_ifindex_).size(), 1u);

  // A restarted agent: reuses the pinned link (no second attachment) and upgrades its program.
  auto second = openDp();
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(second->attachPort("vm0p", ifindex_, 5001).ok());
  progs = tcxProgs(ifindex_);
  ASSERT_EQ(progs.size(), 1u);
  EXPECT_EQ(progs[0], progId(second->prog_fd(BpfProgram::kVmIngress)));
  ASSERT_EQ(second->ports().size(), 1u);
  EXPECT_EQ(second->ports()[0].tunnel_key, 5001u);

  ASSERT_TRUE(second->detachPort("vm0p", ifindex_, 5001).ok());
  EXPECT_TRUE(tcxProgs(ifindex_).empty());
  EXPECT_FALSE(std::filesystem::exists(pin));
  EXPECT_TRUE(second->ports().empty());
  uint32_t key = 5001;
  loom_port p{};
  EXPECT_NE(bpf_map_lookup_elem(second->map_fd("loom_tunnel_ports"), &key, &p), 0);
  ASSERT_TRUE(second->detachTunnel("vx0", vx_ifindex_).ok());
  EXPECT_TRUE(tcxProgs(vx_ifindex_).empty());
}

// Two outputs: a clone to a local veth, then the tunnel (runs in the scratch netns, so the clone
// goes to its veth).
TEST_F(BpfDatapathNetnsTest, CloneThenTunnel) {
  ASSERT_EQ(std::system(("ip -n " + ns_ + " link set vm0p up && ip -n " + ns_ +
                         " link set vm0 up && ip -n " + ns_ + " link set vx0 up")
                            .c_str()),
            0);
  loom_config cfg{};
  cfg.n_masks = 1;
  cfg.vxlan_ifindex = vx_ifindex_;
  ASSERT_TRUE(dp_->setConfig(cfg).ok());
  ASSERT_TRUE(dp_->setMask(0, l2Mask()).ok());
  FlowValue v{};
  v.action = LOOM_ACT_FORWARD;
  v.n_outputs = 2;
  v.outputs[0].flags = LOOM_OUT_LOCAL;
  v.outputs[0].ifindex = ifindex_;
  v.outputs[1].flags = LOOM_OUT_TUNNEL;
  v.outputs[1].remote_ipv4 = 0xc6120002;  // 198.18.0.2, host order.
  v.outputs[1].tunnel_key = 42;
  ASSERT_TRUE(dp_->installFlow(maskKey(baseKey(kMacB, kMacA, ""), l2Mask(), 0), v).ok());
  EXPECT_EQ(run(ipv4Frame(kMacB, kMacA, "10.0.0.1", "10.0.0.2", IPPROTO_UDP, 1, 2)).retval,
            TC_ACT_REDIRECT);
  DatapathCounters c = dp_->counters();
  EXPECT_EQ(c.values[LOOM_CTR_TX_LOCAL], 1u);
  EXPECT_EQ(c.values[LOOM_CTR_TX_TUNNEL], 1u);
  EXPECT_EQ(c.values[LOOM_CTR_ACTION_ERRORS], 0u);
}

TEST_F(BpfDatapathNetnsTest, DetachToleratesVanishedInterface) {
  ASSERT_TRUE(dp_->attachPort("vm0p", ifindex_, 7).ok());
  ASSERT_EQ(std::system(("ip -n " + ns_ + " link del vm0p").c_str()), 0);
  EXPECT_TRUE(dp_->detachPort("vm0p", ifindex_, 7).ok());
  EXPECT_TRUE(dp_->ports().empty());
  EXPECT_FALSE(std::filesystem::exists(pin_dir_ + "/links/port-" + std::to_string(ifindex_)));
}

TEST_F(BpfDatapathNetnsTest, RemoveAllPinsDetachesAndUnpins) {
  ASSERT_TRUE(dp_->attachPort("vm0p", ifindex_, 3).ok());
  ASSERT_EQ(tcxProgs(ifindex_).size(), 1u);
  ASSERT_TRUE(dp_->removeAllPins().ok());
  EXPECT_TRUE(tcxProgs(ifindex_).empty());  // The pin was the link's only reference.
  EXPECT_FALSE(std::filesystem::exists(pin_dir_));
  // Our own fds keep the maps alive until the object goes.
  EXPECT_TRUE(dp_->setConfig(loom_config{}).ok());
}

TEST_F(BpfDatapathNetnsTest, ClsactFallback) {
  BpfDatapathOptions opts;
  opts.force_clsact = true;
  auto dp = openDp(opts);
  ASSERT_NE(dp, nullptr);
  ASSERT_TRUE(dp->attachPort("vm0p", ifindex_, 9).ok());
  ASSERT_TRUE(dp->attachPort("vm0p", ifindex_, 9).ok());  // Idempotent (replace).
  bpf_tc_hook hook{};
  hook.sz = sizeof(hook);
  hook.ifindex = static_cast<int>(ifindex_);
  hook.attach_point = BPF_TC_INGRESS;
  bpf_tc_opts q{};
  q.sz = sizeof(q);
  q.handle = 1;
  q.priority = 1;
  ASSERT_EQ(bpf_tc_query(&hook, &q), 0);
  EXPECT_EQ(q.prog_id, progId(dp->prog_fd(BpfProgram::kVmIngress)));
  EXPECT_TRUE(tcxProgs(ifindex_).empty());
  ASSERT_TRUE(dp->detachPort("vm0p", ifindex_, 9).ok());
  q = bpf_tc_opts{};
  q.sz = sizeof(q);
  q.handle = 1;
  q.priority = 1;
  EXPECT_NE(bpf_tc_query(&hook, &q), 0);
}
}  // namespace
}  // namespace loom::datapath
