#pragma once
// loom-agent's configuration: flags, optionally a file of the same settings ("key = value"
// lines, '#' comments; flags given on the command line win), and the host id, generated once
// and kept in <state_dir>/host-id so that a restarted agent is the same host.

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/uuid.h"

namespace loom::agent {

struct AgentConfig {
  std::vector<std::string> etcd_endpoints = {"127.0.0.1:2379"};
  std::string root = "/loom";
  std::string state_dir = "/var/lib/loom";
  std::string host_id;                // Empty: read <state_dir>/host-id, or generate and write it.
  std::string host_name;              // Empty: the system's hostname.
  std::string tunnel_ip;              // Required: this host's underlay (VTEP) address.
  std::string underlay_dev;           // Optional: the vxlan device's lower device.
  std::string vxlan_dev = "loomvx0";  // Created and owned by the agent.
  std::string pin_dir = "/sys/fs/bpf/loom";       // On a bpffs; maps and links are pinned here.
  std::string admin_socket;                       // Empty: <state_dir>/agent.sock.
  std::string metrics_listen = "127.0.0.1:9464";  // Empty: no metrics endpoint.
  int workers = 1;
  int64_t lease_ttl_seconds = 5;
  int64_t flow_idle_ms = 60000;  // Flows unused this long are removed.
  uint32_t upcall_rate = 2000;   // Per ingress interface, upcalls/s (token bucket).
  uint32_t upcall_burst = 500;
  uint32_t parked_max = 1024;  // Packets waiting for an ARP reply or an object.
  int64_t parked_timeout_ms = 3000;
  int64_t interface_poll_ms = 200;  // How often bound interfaces are looked for.

  std::string adminSocketPath() const {
    return admin_socket.empty() ? state_dir + "/agent.sock" : admin_socket;
  }
};

// Parses "--key value" flags (and --config FILE, read first). Errors name the flag or the file
// line at fault.
StatusOr<AgentConfig> parseAgentConfig(const std::vector<std::string>& args);
std::string agentUsage();

// Reads <state_dir>/host-id, or generates a random id and writes it there (creating the
// directory). An explicit `configured` id wins and is written if the file is missing; a file
// that disagrees with an explicit id is an error (two identities for one host).
StatusOr<Uuid> loadOrCreateHostId(const std::string& state_dir, const std::string& configured);

}  // namespace loom::agent
