#pragma once
// Throw-away etcd servers for integration tests: a real `etcd` binary on 127.0.0.1 with free
// ports and a temporary data directory, fast Raft timings, started and waited for (/health),
// and SIGKILLed with the directory removed by the destructor, also when a test fails. Children
// get PR_SET_PDEATHSIG(SIGKILL), so they die with the test process; directories left by a
// SIGKILLed test process are removed by the next start (each holds its owner's pid).
// LOOM_ETCD_BIN overrides the etcd binary (default: `etcd` from PATH).

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "etcd/client.h"

namespace loom::testing {

struct EtcdMemberSpec {
  int heartbeat_ms = 20;
  int election_ms = 200;
  // Server-side minimum interval between client keepalive pings.
  int grpc_keepalive_min_time_ms = 1000;
  // 0 = no auto-compaction.
  int auto_compaction_revisions = 0;
};

// One member of a (possibly single-member) cluster.
class EtcdMember {
 public:
  ~EtcdMember();
  const std::string& name() const { return name_; }
  const std::string& clientEndpoint() const { return client_url_; }  // "127.0.0.1:port"
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  bool stopped() const { return stopped_; }  // SIGSTOPped and not resumed.
  const std::string& logPath() const { return log_path_; }

  void kill();    // SIGKILL and reap.
  void stop();    // SIGSTOP (hang).
  void resume();  // SIGCONT.
  // Restarts with the same data dir (as an existing member). Waits for /health when `wait`.
  // Call from a thread that outlives the process (the child dies with the forking thread).
  bool restart(bool wait = true);
  // True if this member answers /health with "true" (it has a leader).
  bool healthy() const;

 private:
  friend class EtcdCluster;
  bool spawn(bool existing);
  std::string name_, dir_, client_url_, peer_url_, initial_cluster_, token_, log_path_;
  int client_port_ = 0, peer_port_ = 0;
  EtcdMemberSpec spec_;
  pid_t pid_ = -1;
  bool stopped_ = false;
};

class EtcdCluster {
 public:
  // Starts `members` etcd processes and waits until the cluster is healthy (a leader exists).
  // Returns nullptr (and logs why, with the tail of etcd's log) if etcd is not installed or does
  // not come up in 20 s.
  static std::unique_ptr<EtcdCluster> start(int members = 1, EtcdMemberSpec spec = {});
  ~EtcdCluster();  // Kills every member and removes the data directories.

  EtcdMember& member(size_t i) { return *members_[i]; }
  size_t size() const { return members_.size(); }
  std::vector<std::string> endpoints() const;
  etcd::ClientOptions clientOptions() const;
  // The index of the current leader (by asking each running member), or -1.
  int leaderIndex() const;
  // Waits until some member reports a leader; false on timeout.
  bool waitHealthy(std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;

 private:
  bool waitAllHealthy(std::chrono::milliseconds timeout);
  std::string dir_;
  std::vector<std::unique_ptr<EtcdMember>> members_;
};

// A process-wide single-member etcd shared by the tests of one binary (started on first use).
// Tests isolate themselves with a unique key root (uniqueRoot()).
EtcdCluster& sharedEtcd();
// "/t/<test-suite>.<test-name>/<random>".
std::string uniqueRoot();

}  // namespace loom::testing
