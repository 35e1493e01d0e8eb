#pragma once
// Agent: one host's loom-agent. Wires the pieces together and runs two threads besides the
// caller's: a control thread that turns the replica (topology, liveness) and the host's
// interfaces into AgentViews, and the packet thread (PacketProcessor).
//
// Start order matters for a restart under traffic: the pinned BPF maps and links are opened
// and adopted first (flows keep forwarding throughout), then the vxlan device is found or
// created, then the control plane (etcd, replica, registration) comes up, then the first view
// is published, which revalidates the adopted flows against the current topology.

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "agent/admin.h"
#include "agent/config.h"
#include "agent/metrics.h"
#include "agent/view.h"
#include "agent/worker_pool.h"
#include "datapath/datapath.h"
#include "datapath/packet_io.h"
#include "etcd/client.h"
#include "replica/liveness.h"
#include "replica/replica.h"

namespace httplib {
class Server;
}

namespace loom::agent {

class Agent {
 public:
  static StatusOr<std::unique_ptr<Agent>> start(AgentConfig config);
  ~Agent();
  void stop();
  const Uuid& hostId() const { return host_id_; }
  // The admin socket's commands.
  std::string handleCommand(const std::string& command);
  std::string metricsText();

 private:
  explicit Agent(AgentConfig config);
  Status init();
  void controlLoop();
  // Attaches the fast path to bound interfaces that exist, detaches the rest; true if the set
  // of local ports changed.
  bool reconcilePorts(const model::TopologySnapshot& topo);
  std::unordered_map<Uuid, RemotePort, UuidHash> buildRemotePorts(
      const model::TopologySnapshot& topo) const;
  uint32_t allocateTunnelKey(uint32_t ifindex);
  // Publishes the MACs the workers learned on local ports (queued by them), and clears those of
  // ports this host no longer serves.
  void publishLearnedMacs();
  std::unordered_map<MacKey, Uuid, MacKeyHash> buildRemoteMacs(
      const model::TopologySnapshot& topo) const;
  void detach(const LocalPort& port);

  AgentConfig config_;
  Uuid host_id_;
  AgentCounters counters_;
  std::unique_ptr<datapath::Datapath> dp_;
  std::unique_ptr<datapath::PacketSender> tx_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<etcd::EtcdClient> etcd_;
  std::unique_ptr<replica::Replica> replica_;
  std::unique_ptr<replica::HostRegistration> registration_;
  std::unique_ptr<AdminServer> admin_;
  std::unique_ptr<httplib::Server> metrics_server_;
  std::thread metrics_thread_;
  uint32_t vxlan_ifindex_ = 0;

  // Control thread state.
  std::map<Uuid, LocalPort> bound_;             // Ports this host serves now.
  std::map<uint32_t, uint32_t> restored_keys_;  // ifindex -> tunnel key left by a previous agent.
  std::unordered_map<Uuid, RemotePort, UuidHash> remote_;
  std::unordered_map<MacKey, Uuid, MacKeyHash> remote_macs_;
  // MACs this host published, by the port they were learned on.
  std::map<Uuid, std::set<std::pair<Uuid, uint64_t>>> published_macs_;
  std::vector<state::MacLearn> learned_queue_;  // Guarded by mu_.
  uint64_t view_version_ = 0;
  int64_t directories_revision_ = -1;  // Replica revision the remote directories were built at.
  uint64_t generation_ = 0;

  mutable std::mutex mu_;  // Guards wake_, the published view and bound_ copies for admin.
  std::condition_variable cv_;
  bool wake_ = false;
  ViewPtr view_;
  std::atomic<bool> stop_{false};
  std::thread control_thread_;
  replica::Replica::SubscriptionId snapshot_sub_ = 0, revision_sub_ = 0;
};

}  // namespace loom::agent
