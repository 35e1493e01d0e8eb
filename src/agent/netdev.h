#pragma once
// The host's network devices as the agent needs them: interface lookup and the agent's own
// `vxlan external` device. The vxlan device is created with iproute2 (`ip link`), the one tool
// every host that runs loom has; an agent restart finds and keeps the existing device (tearing
// it down would cut established tunnels).

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace loom::agent {

// 0 when the interface does not exist (in this network namespace).
uint32_t interfaceIndex(const std::string& name);

// Runs a program with arguments (no shell), returns its combined output, or an error with the
// output when it exits non-zero.
StatusOr<std::string> runCommand(const std::vector<std::string>& argv);

// Creates `name` as `vxlan external` (dstport 4789, no learning) on `underlay_dev` (optional)
// unless an interface of that name exists, and sets it up. Returns its ifindex.
StatusOr<uint32_t> ensureVxlanDevice(const std::string& name, const std::string& underlay_dev);

}  // namespace loom::agent
