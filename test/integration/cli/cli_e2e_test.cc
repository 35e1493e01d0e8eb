// loomctl end to end: a real etcd, the real loom-api binary as a child process (one per key
// root) and the real loomctl binary, checking exit codes, messages and what lands in the store.
// Every child is killed by its owner's destructor and, should this process die first, by
// PR_SET_PDEATHSIG.

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/transfer.h"
#include "model/json.h"
#include "support/etcd_process.h"

namespace loom::cli {
namespace {

using namespace std::chrono_literals;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string tempPath(const std::string& stem) {
  static int n = 0;
  return ::testing::TempDir() + "/loomctl-e2e-" + std::to_string(getpid()) + "-" +
         std::to_string(++n) + "-" + stem;
}

// fork + exec with stdout/stderr to files; the child dies with the test process.
pid_t spawn(const std::vector<std::string>& argv, const std::string& out_path,
            const std::string& err_path) {
  // Everything the child needs is prepared before fork: only async-signal-safe calls after.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid != 0) return pid;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  dup2(out, 1);
  dup2(err, 2);
  execv(args[0], args.data());
  _exit(127);
}

// One loom-api process on its own key root.
class ApiServer {
 public:
  ApiServer(const std::string& root, const std::string& token_file) {
    log_ = tempPath("api.log");
    pid_ = spawn({LOOM_API_BIN, "--etcd", ::loom::testing::sharedEtcd().endpoints()[0], "--root",
                  root, "--listen", "127.0.0.1:0", "--token-file", token_file},
                 log_, log_ + ".err");
    const std::string ready = "loom-api listening on ";
    for (auto deadline = std::chrono::steady_clock::now() + 20s;
         std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(50ms)) {
      // Not std::regex: g++ 12 -O2 with ASan warns (maybe-uninitialized) inside it.
      std::string text = readFile(log_) + readFile(log_ + ".err");
      if (size_t at = text.find(ready); at != std::string::npos) {
        const size_t end = text.find('\n', at);
        if (end != std::string::npos) {
          url_ = text.substr(at + ready.size(), end - at - ready.size());
          return;
        }
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
    }
    ADD_FAILURE() << "loom-api did not come up; its output:\n"
                  << readFile(log_) << readFile(log_ + ".err");
  }
  ~ApiServer() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    std::remove(log_.c_str());
    std::remove((log_ + ".err").c_str());
  }
  const std::string& url() const { return url_; }

 private:
  pid_t pid_ = -1;
  std::string log_, url_;
};

struct Result {
  int code = -1;
  std::string out, err;
};

class CliE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    token_file_ = tempPath("token");
    std::ofstream(token_file_) << "e2e-token\n";
    api_ = std::make_unique<ApiServer>(::loom::testing::uniqueRoot(), token_file_);
    ASSERT_FALSE(api_->url().empty());
  }
  void TearDown() override {
    api_.reset();
    std::remove(token_file_.c_str());
  }

  // Runs loomctl against `url` (default: the test's server) with the token unless `no_token`.
  Result ctl(std::vector<std::string> args, const std::string& url = "", bool no_token = false) {
    std::vector<std::string> argv = {LOOMCTL_BIN, "--api", url.empty() ? api_->url() : url,
                                     "--timeout-ms", "15000"};
    if (!no_token) argv.insert(argv.end(), {"--token-file", token_file_});
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out = tempPath("out"), err = tempPath("err");
    pid_t pid = spawn(argv, out, err);
    int status = 0;
    waitpid(pid, &status, 0);
    Result r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, readFile(out), readFile(err)};
    std::remove(out.c_str());
    std::remove(err.c_str());
    return r;
  }

  static std::string example(const std::string& name) {
    return std::string(LOOM_SOURCE_DIR) + "/examples/topologies/" + name;
  }

  std::string token_file_;
  std::unique_ptr<ApiServer> api_;
};

constexpr const char* kTenant1 = "7e000000-0000-4000-8000-000000000001";

TEST_F(CliE2eTest, ImportKeepIdsThenListShowUpdate) {
  Result r = ctl({"import", example("one-tenant.json"), "--keep-ids"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("imported 23 objects"), std::string::npos) << r.out;
  r = ctl({"bridge", "list", "--tenant-id", kTenant1});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("b1000000-0001-4000-8000-000000000001  net-a"), std::string::npos) << r.out;
  r = ctl({"port", "show", "vm-a1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("10.0.0.11/24"), std::string::npos) << r.out;
  r = ctl({"chain", "show", "vm-b1-in", "-o", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("c2000000-0001-4000-8000-000000000005"), std::string::npos) << r.out;
  r = ctl({"port", "update", "vm-a2", "--addresses", "10.0.0.13/24", "--admin-state-up=false"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = ctl({"port", "show", "b2000000-0001-4000-8000-000000000003", "-o", "json"});
  EXPECT_NE(r.out.find("10.0.0.13/24"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"admin_state_up\": false"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tap-vm-a2"), std::string::npos) << "update kept other fields: " << r.out;
  r = ctl({"rule", "list", "--chain-id", "vm-b1-in"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_LT(r.out.find("accept-return-flows"), r.out.find("drop-all-but-arp")) << r.out;
}

TEST_F(CliE2eTest, BindingsStatusAndSync) {
  ASSERT_EQ(ctl({"import", example("one-tenant.json"), "--keep-ids"}).code, 0);
  Result r = ctl({"binding", "clear", "vm-a1"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = ctl({"binding", "list", "--host", "host-1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find("tap-vm-a1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tap-vm-b2"), std::string::npos) << r.out;
  r = ctl({"binding", "set", "vm-a1", "--host", "host-2", "--interface", "tap9"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = ctl({"port", "status", "vm-a1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("tap9"), std::string::npos) << r.out;
  r = ctl({"host", "status"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("host-1"), std::string::npos) << r.out;
  r = ctl({"wait-sync", "--timeout", "2s"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("in sync at revision"), std::string::npos) << r.out;
  // Reference flags by name.
  r = ctl({"port", "create", "--tenant-id", kTenant1, "--bridge-id", "net-a", "--name", "vm-new",
           "--port-group-ids", "web"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = ctl({"port", "list", "--bridge-id", "net-a"});
  EXPECT_NE(r.out.find("vm-new"), std::string::npos) << r.out;
}

TEST_F(CliE2eTest, ErrorsAreClear) {
  ASSERT_EQ(ctl({"import", example("one-tenant.json"), "--keep-ids"}).code, 0);
  // 409: a referenced bridge.
  Result r = ctl({"bridge", "delete", "net-b"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("error: 409 FAILED_PRECONDITION"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("referenced by: port"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--cascade"), std::string::npos) << r.err;
  // 400 naming the field.
  r = ctl({"port", "create", "--tenant-id", kTenant1, "--bridge-id",
           "b1000000-0001-4000-8000-000000000001", "--addresses", "10.0.0.300/24"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("error: 400 INVALID_ARGUMENT"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("  field: addresses"), std::string::npos) << r.err;
  // 401 without the token.
  r = ctl({"bridge", "list"}, "", /*no_token=*/true);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("error: 401"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--token"), std::string::npos) << r.err;
  // 404.
  r = ctl({"router", "show", "a1000000-0009-4000-8000-000000000009"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("error: 404"), std::string::npos) << r.err;
  // Usage error, before any request.
  r = ctl({"bridge", "create", "--nmae", "x"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("did you mean --name"), std::string::npos) << r.err;
  // Nobody listening.
  r = ctl({"bridge", "list"}, "http://127.0.0.1:1");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("cannot reach loom-api at http://127.0.0.1:1"), std::string::npos) << r.err;
  // The cascade works and says what went with it.
  r = ctl({"bridge", "delete", "net-b", "--cascade"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("also deleted: port"), std::string::npos) << r.out;
}

TEST_F(CliE2eTest, TraceShowsAForward) {
  ASSERT_EQ(ctl({"import", example("one-tenant.json"), "--keep-ids"}).code, 0);
  Result r = ctl({"trace", "vm-a1", "tcp dst=10.0.1.11 dport=22"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("outcome: forward"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("vm-b1"), std::string::npos) << r.out;
  r = ctl({"trace", "vm-a1", "tcp dst=banana"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("field: packets[0]"), std::string::npos) << r.err;
}

TEST_F(CliE2eTest, ExportImportIntoASecondRootMatchesModuloIds) {
  // Fresh ids, into a new tenant.
  Result r = ctl(
      {"import", example("two-tenants.json"), "--tenant", "7e000000-0000-4000-8000-0000000000aa"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = ctl({"bridge", "list", "--tenant-id", "7e000000-0000-4000-8000-0000000000aa"});
  EXPECT_NE(r.out.find("t1-net"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("t2-net"), std::string::npos) << r.out;

  ASSERT_EQ(ctl({"import", example("one-tenant.json")}).code, 0);
  Result first = ctl({"export", "--tenant", kTenant1});
  ASSERT_EQ(first.code, 0) << first.err;
  std::string file = tempPath("export.json");
  std::ofstream(file) << first.out;

  ApiServer second(::loom::testing::uniqueRoot(), token_file_);
  ASSERT_FALSE(second.url().empty());
  r = ctl({"import", file}, second.url());
  ASSERT_EQ(r.code, 0) << r.err;
  Result again = ctl({"export", "--tenant", kTenant1}, second.url());
  ASSERT_EQ(again.code, 0) << again.err;

  auto a = model::topologyFromJson(first.out);
  auto b = model::topologyFromJson(again.out);
  ASSERT_TRUE(a.ok()) << a.status().toString();
  ASSERT_TRUE(b.ok()) << b.status().toString();
  EXPECT_EQ(a->rules_size(), 5);
  EXPECT_EQ(a->ports_size(), 9);
  EXPECT_NE(first.out, again.out);  // Fresh ids.
  EXPECT_EQ(model::topologyToJson(canonicalIds(*a)), model::topologyToJson(canonicalIds(*b)));
  std::remove(file.c_str());
}

}  // namespace
}  // namespace loom::cli
