#pragma once
// AgentView: everything the packet thread needs to decide and deliver, as one immutable value
// published by the control thread: the topology snapshot, the ports this host serves (with
// their interfaces and tunnel keys) and where every remote active port lives (its host's
// underlay address and the port's tunnel key there). A new view is published when any of them
// changes; the packet thread then revalidates its flows against it.

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "base/uuid.h"
#include "model/snapshot.h"

namespace loom::agent {

struct LocalPort {
  Uuid port;
  std::string ifname;
  uint32_t ifindex = 0;
  uint32_t tunnel_key = 0;
};

struct RemotePort {
  Uuid host;
  uint32_t remote_ipv4 = 0;  // Host byte order (bpf_skb_set_tunnel_key's convention).
  uint32_t tunnel_key = 0;
  friend bool operator==(const RemotePort&, const RemotePort&) = default;
};

// A MAC another host's bridge learned (live/mac records), by (bridge, vlan << 48 | mac).
struct MacKey {
  Uuid bridge;
  uint64_t vlan_mac = 0;
  friend bool operator==(const MacKey&, const MacKey&) = default;
};
struct MacKeyHash {
  size_t operator()(const MacKey& k) const {
    return static_cast<size_t>(k.bridge.hash() ^ (k.vlan_mac * 0x9e3779b97f4a7c15ULL));
  }
};

struct AgentView {
  uint64_t generation = 0;
  model::SnapshotPtr topo;
  std::unordered_map<uint32_t, LocalPort> local_by_ifindex;
  std::unordered_map<Uuid, LocalPort, UuidHash> local_by_port;
  std::unordered_map<Uuid, RemotePort, UuidHash> remote_by_port;
  // MACs learned by other hosts (their records win over this host's older local learning).
  std::unordered_map<MacKey, Uuid, MacKeyHash> remote_macs;
};

using ViewPtr = std::shared_ptr<const AgentView>;

}  // namespace loom::agent
