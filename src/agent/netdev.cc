#include "agent/netdev.h"

#include <fcntl.h>
#include <net/if.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "datapath/bpf/loom_dp_abi.h"

extern char** environ;

namespace loom::agent {

uint32_t interfaceIndex(const std::string& name) { return ::if_nametoindex(name.c_str()); }

StatusOr<std::string> runCommand(const std::vector<std::string>& argv) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
    return internalError(std::string("pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  std::string out;
  if (rc == 0) {
    std::array<char, 4096> buf;
    ssize_t n;
    while ((n = ::read(pipe_fds[0], buf.data(), buf.size())) > 0) out.append(buf.data(), n);
  }
  ::close(pipe_fds[0]);
  if (rc != 0) return unavailable(argv[0] + ": " + std::strerror(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string cmd;
    for (const std::string& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    return internalError("'" + cmd + "' failed: " + out);
  }
  return out;
}

StatusOr<uint32_t> ensureVxlanDevice(const std::string& name, const std::string& underlay_dev) {
  if (interfaceIndex(name) == 0) {
    std::vector<std::string> cmd = {
        "ip",       "link",      "add",     name,
        "type",     "vxlan",     "dstport", std::to_string(LOOM_VXLAN_PORT),
        "external", "nolearning"};
    if (!underlay_dev.empty()) {
      cmd.push_back("dev");
      cmd.push_back(underlay_dev);
    }
    StatusOr<std::string> r = runCommand(cmd);
    // Another agent instance may have raced us to it; only a missing device is an error.
    if (!r.ok() && interfaceIndex(name) == 0) return r.status();
  }
  StatusOr<std::string> up = runCommand({"ip", "link", "set", name, "up"});
  if (!up.ok()) return up.status();
  uint32_t index = interfaceIndex(name);
  if (index == 0) return internalError(name + ": vanished after creation");
  return index;
}

}  // namespace loom::agent
