#include "agent/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace loom::agent {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/loom-agent-test.XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(AgentConfigTest, FlagsOverrideTheFile) {
  TempDir dir;
  const std::string file = dir.path() + "/agent.conf";
  std::ofstream(file) << "# comment\netcd = 10.0.0.1:2379, 10.0.0.2:2379\nworkers = 2\n"
                         "tunnel-ip = 192.0.2.1\n";
  auto c = parseAgentConfig({"--config", file, "--workers", "3", "--pin-dir=/sys/fs/bpf/x"});
  ASSERT_TRUE(c.ok()) << c.status().toString();
  EXPECT_EQ(c->etcd_endpoints, (std::vector<std::string>{"10.0.0.1:2379", "10.0.0.2:2379"}));
  EXPECT_EQ(c->workers, 3);
  EXPECT_FALSE(parseAgentConfig({"--tunnel-ip", "192.0.2.1", "--workers", "0"}).ok());
  EXPECT_EQ(c->tunnel_ip, "192.0.2.1");
  EXPECT_EQ(c->pin_dir, "/sys/fs/bpf/x");
  EXPECT_EQ(c->adminSocketPath(), "/var/lib/loom/agent.sock");
}

TEST(AgentConfigTest, ErrorsNameTheSettingAtFault) {
  auto missing = parseAgentConfig({});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().field(), "tunnel-ip");
  auto bad = parseAgentConfig({"--tunnel-ip", "192.0.2.1", "--workers", "zero"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "workers");
  auto unknown = parseAgentConfig({"--tunnel-ip", "192.0.2.1", "--colour", "blue"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown setting"), std::string::npos);
  auto no_value = parseAgentConfig({"--tunnel-ip"});
  ASSERT_FALSE(no_value.ok());
  EXPECT_NE(no_value.status().message().find("missing value"), std::string::npos);
  TempDir dir;
  const std::string file = dir.path() + "/bad.conf";
  std::ofstream(file) << "tunnel-ip = 192.0.2.1\nthis line has no equals sign\n";
  auto bad_file = parseAgentConfig({"--config", file});
  ASSERT_FALSE(bad_file.ok());
  EXPECT_NE(bad_file.status().message().find("bad.conf:2"), std::string::npos);
}

TEST(AgentConfigTest, HostIdIsGeneratedOnceAndKept) {
  TempDir dir;
  auto first = loadOrCreateHostId(dir.path() + "/state", "");
  ASSERT_TRUE(first.ok()) << first.status().toString();
  auto second = loadOrCreateHostId(dir.path() + "/state", "");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
  // An explicit id that disagrees with the stored one is refused, not silently used.
  auto other = loadOrCreateHostId(dir.path() + "/state", Uuid::random().toString());
  EXPECT_FALSE(other.ok());
  auto same = loadOrCreateHostId(dir.path() + "/state", first->toString());
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, *first);
  auto explicit_new =
      loadOrCreateHostId(dir.path() + "/fresh", "d1e2e000-0000-4000-8000-000000000001");
  ASSERT_TRUE(explicit_new.ok());
  EXPECT_EQ(explicit_new->toString(), "d1e2e000-0000-4000-8000-000000000001");
  EXPECT_FALSE(loadOrCreateHostId(dir.path() + "/x", "not-a-uuid").ok());
}

}  // namespace
}  // namespace loom::agent
