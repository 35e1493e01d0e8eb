#include "support/etcd_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

namespace loom::testing {
namespace {

using Clock = std::chrono::steady_clock;

// A port that was free a moment ago (bound to port 0 and released).
int freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  int port = -1;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// A minimal HTTP/1.0 GET to 127.0.0.1:port; the whole response (headers and body), or nullopt
// on any failure or after `timeout`.
std::optional<std::string> httpGet(int port, const std::string& path,
                                   std::chrono::milliseconds timeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::optional<std::string> out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      std::string resp;
      char buf[8192];
      const auto deadline = Clock::now() + timeout;
      for (;;) {
        ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n > 0) {
          resp.append(buf, static_cast<size_t>(n));
          if (Clock::now() > deadline) break;
          continue;
        }
        if (n == 0) out = std::move(resp);
        break;
      }
    }
  }
  ::close(fd);
  return out;
}

std::string findEtcd() {
  if (const char* env = std::getenv("LOOM_ETCD_BIN"); env != nullptr && *env != '\0') return env;
  const char* path = std::getenv("PATH");
  std::stringstream ss(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/etcd";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

std::string logTail(const std::string& path, size_t lines) {
  std::ifstream in(path);
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(line);
    if (tail.size() > lines) tail.pop_front();
  }
  std::string out;
  for (const std::string& l : tail) out += "    " + l + "\n";
  return out;
}

// Removes the data directories of test processes that died without cleaning up (SIGKILL):
// each directory holds its owner's pid.
void removeStaleDirs(const std::filesystem::path& tmp) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(tmp, ec)) {
    if (entry.path().filename().string().rfind("loom-etcd-", 0) != 0) continue;
    std::ifstream in(entry.path() / "owner.pid");
    pid_t owner = 0;
    if (!(in >> owner) || owner <= 0) continue;
    if (::kill(owner, 0) == 0 || errno != ESRCH) continue;
    std::filesystem::remove_all(entry.path(), ec);
  }
}

}  // namespace

// ---- EtcdMember ----

EtcdMember::~EtcdMember() { kill(); }

void EtcdMember::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  stopped_ = false;
}

void EtcdMember::stop() {
  if (pid_ > 0 && ::kill(pid_, SIGSTOP) == 0) stopped_ = true;
}

void EtcdMember::resume() {
  if (pid_ > 0 && ::kill(pid_, SIGCONT) == 0) stopped_ = false;
}

bool EtcdMember::healthy() const {
  if (pid_ <= 0 || stopped_) return false;
  auto resp = httpGet(client_port_, "/health", std::chrono::milliseconds(1000));
  return resp && resp->find("\"health\":\"true\"") != std::string::npos;
}

bool EtcdMember::spawn(bool existing) {
  const std::string bin = findEtcd();
  if (bin.empty()) {
    std::fprintf(stderr, "etcd fixture: no etcd binary in PATH (install etcd-server)\n");
    return false;
  }
  const std::string client = "http://" + client_url_;
  // clang-format off
  std::vector<std::string> args = {
      bin,
      "--name", name_,
      "--data-dir", dir_ + "/data",
      "--listen-client-urls", client,
      "--advertise-client-urls", client,
      "--listen-peer-urls", peer_url_,
      "--initial-advertise-peer-urls", peer_url_,
      "--initial-cluster", initial_cluster_,
      "--initial-cluster-token", token_,
      "--initial-cluster-state", existing ? "existing" : "new",
      "--heartbeat-interval", std::to_string(spec_.heartbeat_ms),
      "--election-timeout", std::to_string(spec_.election_ms),
      "--grpc-keepalive-min-time", std::to_string(spec_.grpc_keepalive_min_time_ms) + "ms",
      "--logger", "zap",
      "--log-outputs", "stderr",
  };
  // clang-format on
  if (spec_.auto_compaction_revisions > 0) {
    args.insert(args.end(), {"--auto-compaction-mode", "revision", "--auto-compaction-retention",
                             std::to_string(spec_.auto_compaction_revisions)});
  }
  // Everything the child needs is prepared before fork(): between fork and exec only
  // async-signal-safe calls are allowed (the parent has gRPC threads).
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log = log_path_;
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    std::fprintf(stderr, "etcd fixture: fork: %s\n", std::strerror(errno));
    return false;
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // Die with the test process.
    if (::getppid() != parent) ::_exit(1);
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out < 0 || null < 0) ::_exit(126);
    ::dup2(null, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  stopped_ = false;
  return true;
}

bool EtcdMember::restart(bool wait) {
  kill();
  if (!spawn(/*existing=*/true)) return false;
  if (!wait) return true;
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (Clock::now() < deadline) {
    if (healthy()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::fprintf(stderr, "etcd fixture: member %s did not become healthy; log tail:\n%s",
               name_.c_str(), logTail(log_path_, 30).c_str());
  return false;
}

// ---- EtcdCluster ----

std::unique_ptr<EtcdCluster> EtcdCluster::start(int members, EtcdMemberSpec spec) {
  if (members < 1) return nullptr;
  if (findEtcd().empty()) {
    std::fprintf(stderr, "etcd fixture: no etcd binary in PATH (install etcd-server)\n");
    return nullptr;
  }
  // A port taken between freePort() and etcd's bind (other test processes run in parallel)
  // fails the start; try again with new ports.
  const std::filesystem::path tmp = std::filesystem::temp_directory_path();
  removeStaleDirs(tmp);
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::string tmpl = (tmp / "loom-etcd-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::fprintf(stderr, "etcd fixture: mkdtemp: %s\n", std::strerror(errno));
      return nullptr;
    }
    std::ofstream(tmpl + "/owner.pid") << ::getpid() << "\n";
    std::unique_ptr<EtcdCluster> cluster(new EtcdCluster());
    cluster->dir_ = tmpl;
    std::random_device rd;
    const std::string token = "loom-test-" + std::to_string(rd());
    std::string initial;
    for (int i = 0; i < members; ++i) {
      auto m = std::make_unique<EtcdMember>();
      m->name_ = "e" + std::to_string(i + 1);
      m->dir_ = tmpl + "/" + m->name_;
      m->log_path_ = tmpl + "/" + m->name_ + ".log";
      m->client_port_ = freePort();
      m->peer_port_ = freePort();
      m->client_url_ = "127.0.0.1:" + std::to_string(m->client_port_);
      m->peer_url_ = "http://127.0.0.1:" + std::to_string(m->peer_port_);
      m->token_ = token;
      m->spec_ = spec;
      if (!initial.empty()) initial += ",";
      initial += m->name_ + "=" + m->peer_url_;
      cluster->members_.push_back(std::move(m));
    }
    bool spawned = true;
    for (auto& m : cluster->members_) {
      m->initial_cluster_ = initial;
      std::filesystem::create_directories(m->dir_);
      spawned = spawned && m->spawn(/*existing=*/false);
    }
    if (!spawned) return nullptr;
    if (cluster->waitAllHealthy(std::chrono::seconds(20))) return cluster;
    bool port_clash = false;
    for (auto& m : cluster->members_) {
      std::string tail = logTail(m->log_path_, 30);
      port_clash = port_clash || tail.find("address already in use") != std::string::npos;
      std::fprintf(stderr, "etcd fixture: member %s (attempt %d) did not start; log tail:\n%s",
                   m->name_.c_str(), attempt + 1, tail.c_str());
    }
    if (!port_clash) return nullptr;
  }
  return nullptr;
}

EtcdCluster::~EtcdCluster() {
  for (auto& m : members_) m->kill();
  members_.clear();
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

std::vector<std::string> EtcdCluster::endpoints() const {
  std::vector<std::string> out;
  for (const auto& m : members_) out.push_back(m->clientEndpoint());
  return out;
}

etcd::ClientOptions EtcdCluster::clientOptions() const {
  etcd::ClientOptions o;
  o.endpoints = endpoints();
  return o;
}

int EtcdCluster::leaderIndex() const {
  for (size_t i = 0; i < members_.size(); ++i) {
    const EtcdMember& m = *members_[i];
    if (!m.running() || m.stopped()) continue;
    auto metrics = httpGet(m.client_port_, "/metrics", std::chrono::milliseconds(1000));
    if (metrics && metrics->find("\netcd_server_is_leader 1") != std::string::npos) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

bool EtcdCluster::waitHealthy(std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  do {
    for (const auto& m : members_) {
      if (m->healthy()) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (Clock::now() < deadline);
  return false;
}

bool EtcdCluster::waitAllHealthy(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  do {
    bool all = true;
    for (const auto& m : members_) {
      int status = 0;
      if (m->pid_ > 0 && ::waitpid(m->pid_, &status, WNOHANG) == m->pid_) {
        m->pid_ = -1;  // Exited: no point waiting.
        return false;
      }
      all = all && m->healthy();
    }
    if (all) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (Clock::now() < deadline);
  return false;
}

// ---- process-wide helpers ----

EtcdCluster& sharedEtcd() {
  static std::unique_ptr<EtcdCluster> shared;  // Destroyed (etcd killed) at exit.
  static std::once_flag once;
  std::call_once(once, [] {
    shared = EtcdCluster::start(1);
    if (!shared) shared = EtcdCluster::start(1);
  });
  if (!shared) {
    std::fprintf(stderr, "etcd fixture: the shared etcd did not start\n");
    std::abort();
  }
  return *shared;
}

std::string uniqueRoot() {
  std::string name = "none";
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    name = std::string(info->test_suite_name()) + "." + info->name();
  }
  std::random_device rd;
  char suffix[17];
  std::snprintf(suffix, sizeof(suffix), "%08x%08x", rd(), rd());
  return "/t/" + name + "/" + suffix;
}

}  // namespace loom::testing
