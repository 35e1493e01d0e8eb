// loom-agent: the per-host agent (docs/agent.md).
//
//   loom-agent --tunnel-ip IP [--etcd HOST:PORT] [--pin-dir DIR] ...   (see --help)
//   loom-agent ctl [--admin-socket PATH] status|flows|counters|ports|port ID
//
// Prints "loom-agent ready host=<uuid>" once it serves. SIGTERM / SIGINT stop it; the fast
// path (pinned maps and links) stays, so established traffic keeps flowing until the next
// agent adopts it.

#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "agent/admin.h"
#include "agent/agent.h"
#include "agent/config.h"

namespace {

int runCtl(const std::vector<std::string>& args) {
  std::string socket = "/var/lib/loom/agent.sock";
  std::string command;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--admin-socket" && i + 1 < args.size()) {
      socket = args[++i];
    } else if (args[i] == "--state-dir" && i + 1 < args.size()) {
      socket = args[++i] + "/agent.sock";
    } else {
      command += (command.empty() ? "" : " ") + args[i];
    }
  }
  if (command.empty()) {
    std::cerr
        << "usage: loom-agent ctl [--admin-socket PATH] status|flows|counters|ports|port ID\n";
    return 2;
  }
  auto reply = loom::agent::adminRequest(socket, command);
  if (!reply.ok()) {
    std::cerr << "loom-agent ctl: " << reply.status().message() << "\n";
    return 1;
  }
  std::cout << *reply;
  return reply->rfind("unknown command", 0) == 0 ? 2 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "ctl") return runCtl({args.begin() + 1, args.end()});
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << loom::agent::agentUsage();
    return 0;
  }
  auto config = loom::agent::parseAgentConfig(args);
  if (!config.ok()) {
    std::cerr << "loom-agent: " << config.status().message() << "\n" << loom::agent::agentUsage();
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // Threads inherit the mask; main waits.
  std::signal(SIGPIPE, SIG_IGN);
  auto agent = loom::agent::Agent::start(*config);
  if (!agent.ok()) {
    std::cerr << "loom-agent: " << agent.status().toString() << "\n";
    return 1;
  }
  std::cout << "loom-agent ready host=" << (*agent)->hostId().toString() << std::endl;
  int sig = 0;
  sigwait(&signals, &sig);
  std::cerr << "loom-agent: stopping (signal " << sig << ")\n";
  (*agent)->stop();
  return 0;
}
