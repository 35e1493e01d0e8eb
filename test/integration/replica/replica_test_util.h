#pragma once
// Helpers for the replica integration tests: objects written with raw puts, a background writer
// that records which of its writes etcd acknowledged, and a child process with a piped stdout.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/uuid.h"
#include "etcd/client.h"
#include "loom/v1/store.pb.h"
#include "store/keys.h"

namespace loom::testing {

inline v1::StoredObject bridgeObject(const std::string& id, const std::string& name) {
  v1::StoredObject object;
  object.set_format(store::kStoredFormat);
  object.mutable_bridge()->set_id(id);
  object.mutable_bridge()->set_name(name);
  return object;
}

inline std::unique_ptr<etcd::EtcdClient> connect(etcd::ClientOptions options) {
  auto client = etcd::EtcdClient::create(std::move(options));
  return client.ok() ? std::move(*client) : nullptr;
}

inline std::set<std::string> bridgeIds(const v1::Topology& topology) {
  std::set<std::string> ids;
  for (const v1::Bridge& bridge : topology.bridges()) ids.insert(bridge.id());
  return ids;
}

// The bridge ids in etcd at `revision` (0: the newest).
inline std::set<std::string> etcdBridgeIds(etcd::EtcdClient& client, const store::Keys& keys,
                                           int64_t revision) {
  std::set<std::string> ids;
  auto listing = client.listPrefix(keys.objects(store::Kind::Bridge), 1000, revision);
  if (!listing.ok()) return {"<list failed: " + listing.status().toString() + ">"};
  for (const etcd::KeyValue& kv : listing->kvs) {
    if (auto parsed = keys.parseObject(kv.key)) ids.insert(parsed->id);
  }
  return ids;
}

// Puts until one is acknowledged (etcd may be failing over); returns its revision or 0.
inline int64_t putAcknowledged(etcd::EtcdClient& client, const std::string& key,
                               const std::string& value,
                               std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto put = client.put(key, value);
    if (put.ok()) return *put;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return 0;
}

// Writes bridges in the background: new ones (put) and, one time in three, deletes of one it
// created. Only single-key writes, so every write is one revision with one event. Records
// which writes were acknowledged; a failed write may or may not have been applied.
class Writer {
 public:
  Writer(etcd::EtcdClient& client, const store::Keys& keys,
         std::chrono::milliseconds pause = std::chrono::milliseconds(3))
      : client_(client), keys_(keys), pause_(pause) {}
  ~Writer() { stop(); }

  void start() {
    thread_ = std::thread([this] { run(); });
  }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Runs `count` writes on the calling thread.
  void runSync(int count) {
    for (int i = 0; i < count; ++i) step();
  }

  // Bridges whose put was acknowledged and that were not deleted by an acknowledged delete.
  std::set<std::string> ackedPresent() const {
    std::lock_guard<std::mutex> lock(mu_);
    return present_;
  }
  std::set<std::string> ackedDeleted() const {
    std::lock_guard<std::mutex> lock(mu_);
    return deleted_;
  }
  int64_t lastAckedRevision() const { return last_revision_; }
  int acked() const { return acked_; }
  int failed() const { return failed_; }

 private:
  void run() {
    while (!stop_) {
      step();
      std::this_thread::sleep_for(pause_);
    }
  }

  void step() {
    std::string victim;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!present_.empty() && rng_() % 3 == 0) {
        auto it = present_.begin();
        std::advance(it, static_cast<long>(rng_() % present_.size()));
        victim = *it;
      }
    }
    if (!victim.empty()) {
      auto deleted = client_.deleteRange(keys_.object(store::Kind::Bridge, victim));
      std::lock_guard<std::mutex> lock(mu_);
      present_.erase(victim);  // Either deleted or unknown: not used again.
      if (deleted.ok() && deleted->deleted == 1) {
        deleted_.insert(victim);
        noteAck(deleted->revision);
      } else {
        ++failed_;
      }
      return;
    }
    const std::string id = Uuid::random().toString();
    auto put = client_.put(keys_.object(store::Kind::Bridge, id),
                           store::encodeObject(bridgeObject(id, "w" + std::to_string(acked_))));
    std::lock_guard<std::mutex> lock(mu_);
    if (put.ok()) {
      present_.insert(id);
      noteAck(*put);
    } else {
      ++failed_;
    }
  }

  void noteAck(int64_t revision) {
    ++acked_;
    if (revision > last_revision_) last_revision_ = revision;
  }

  etcd::EtcdClient& client_;
  const store::Keys& keys_;
  const std::chrono::milliseconds pause_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::mt19937_64 rng_{std::random_device{}()};
  std::set<std::string> present_, deleted_;
  std::atomic<int64_t> last_revision_{0};
  std::atomic<int> acked_{0}, failed_{0};
};

// A child process with its stdout on a pipe; SIGKILLed and reaped by the destructor, and
// killed by the kernel if this process dies first.
class ChildProcess {
 public:
  static std::unique_ptr<ChildProcess> spawn(const std::vector<std::string>& argv) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return nullptr;
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0) return nullptr;
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
      dup2(fds[1], STDOUT_FILENO);
      execv(args[0], args.data());
      _exit(127);
    }
    close(fds[1]);
    auto child = std::unique_ptr<ChildProcess>(new ChildProcess());
    child->pid_ = pid;
    child->out_ = fds[0];
    return child;
  }

  ~ChildProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
  }

  pid_t pid() const { return pid_; }

  // The next stdout line (without '\n'), or nullopt on timeout or end of file.
  std::optional<std::string> readLine(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const size_t nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd pfd{out_, POLLIN, 0};
      if (poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[4096];
      const ssize_t n = read(out_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  void signal(int sig) { ::kill(pid_, sig); }
  // Waits for the exit; returns the wait status, or -1 on timeout.
  int wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return status;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

 private:
  ChildProcess() = default;
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buffer_;
};

}  // namespace loom::testing
