#pragma once
// The agent's local admin interface: a unix stream socket (mode 0600) taking one command line
// per connection ("status", "flows", "counters", "ports", "port <id>") and answering with text,
// then closing. Used by `loom-agent ctl`. Local only: whoever can open the socket is root on
// the host anyway.

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "base/status.h"

namespace loom::agent {

class AdminServer {
 public:
  using Handler = std::function<std::string(const std::string& command)>;
  ~AdminServer();
  static StatusOr<std::unique_ptr<AdminServer>> start(const std::string& path, Handler handler);
  void stop();

 private:
  AdminServer(std::string path, int fd, Handler handler);
  void loop();

  std::string path_;
  int fd_;
  Handler handler_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// Sends one command and returns the reply (the ctl side).
StatusOr<std::string> adminRequest(const std::string& path, const std::string& command);

}  // namespace loom::agent
