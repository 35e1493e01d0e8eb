#include "agent/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

namespace loom::agent {
namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> splitComma(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, ',')) {
    part = trim(part);
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

Status parseInt(const std::string& key, const std::string& v, int64_t lo, int64_t hi,
                int64_t& out) {
  char* end = nullptr;
  errno = 0;
  long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || x < lo || x > hi) {
    return invalidField(key, "'" + v + "' is not an integer in [" + std::to_string(lo) + ", " +
                                 std::to_string(hi) + "]");
  }
  out = x;
  return okStatus();
}

using Setter = std::function<Status(AgentConfig&, const std::string&, const std::string&)>;

const std::map<std::string, Setter>& setters() {
  auto str = [](std::string AgentConfig::*field) {
    return Setter([field](AgentConfig& c, const std::string&, const std::string& v) {
      c.*field = v;
      return okStatus();
    });
  };
  auto num = [](auto AgentConfig::*field, int64_t lo, int64_t hi) {
    return Setter([field, lo, hi](AgentConfig& c, const std::string& k, const std::string& v) {
      int64_t x = 0;
      RETURN_IF_ERROR(parseInt(k, v, lo, hi, x));
      c.*field = static_cast<std::remove_reference_t<decltype(c.*field)>>(x);
      return okStatus();
    });
  };
  static const std::map<std::string, Setter> m = {
      {"etcd",
       [](AgentConfig& c, const std::string& k, const std::string& v) {
         c.etcd_endpoints = splitComma(v);
         if (c.etcd_endpoints.empty()) return invalidField(k, "no endpoint");
         return okStatus();
       }},
      {"root", str(&AgentConfig::root)},
      {"state-dir", str(&AgentConfig::state_dir)},
      {"host-id", str(&AgentConfig::host_id)},
      {"host-name", str(&AgentConfig::host_name)},
      {"tunnel-ip", str(&AgentConfig::tunnel_ip)},
      {"underlay-dev", str(&AgentConfig::underlay_dev)},
      {"vxlan-dev", str(&AgentConfig::vxlan_dev)},
      {"pin-dir", str(&AgentConfig::pin_dir)},
      {"admin-socket", str(&AgentConfig::admin_socket)},
      {"metrics-listen", str(&AgentConfig::metrics_listen)},
      {"workers", num(&AgentConfig::workers, 1, 64)},
      {"lease-ttl", num(&AgentConfig::lease_ttl_seconds, 2, 3600)},
      {"flow-idle-ms", num(&AgentConfig::flow_idle_ms, 100, 86400000)},
      {"upcall-rate", num(&AgentConfig::upcall_rate, 0, 10000000)},
      {"upcall-burst", num(&AgentConfig::upcall_burst, 1, 10000000)},
      {"parked-max", num(&AgentConfig::parked_max, 0, 1000000)},
      {"parked-timeout-ms", num(&AgentConfig::parked_timeout_ms, 10, 600000)},
      {"interface-poll-ms", num(&AgentConfig::interface_poll_ms, 10, 60000)},
  };
  return m;
}

Status set(AgentConfig& c, const std::string& key, const std::string& value) {
  auto it = setters().find(key);
  if (it == setters().end()) return invalidField(key, "unknown setting");
  return it->second(c, key, value);
}

Status readFile(const std::string& path, AgentConfig& c) {
  std::ifstream in(path);
  if (!in) return invalidArgument("--config " + path + ": " + std::strerror(errno));
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    line = trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) {
      return invalidArgument(path + ":" + std::to_string(n) + ": expected 'key = value'");
    }
    Status s = set(c, trim(line.substr(0, eq)), trim(line.substr(eq + 1)));
    if (!s.ok()) return s.withContext(path + ":" + std::to_string(n));
  }
  return okStatus();
}

}  // namespace

std::string agentUsage() {
  return "usage: loom-agent --tunnel-ip IP [--etcd HOST:PORT[,...]] [--root /loom]\n"
         "                  [--state-dir DIR] [--host-id UUID] [--host-name NAME]\n"
         "                  [--underlay-dev DEV] [--vxlan-dev loomvx0] [--pin-dir DIR]\n"
         "                  [--admin-socket PATH] [--metrics-listen 127.0.0.1:9464]\n"
         "                  [--workers N] [--lease-ttl S] [--flow-idle-ms N]\n"
         "                  [--upcall-rate N] [--upcall-burst N] [--parked-max N]\n"
         "                  [--parked-timeout-ms N] [--interface-poll-ms N] [--config FILE]\n"
         "       loom-agent ctl [--admin-socket PATH] status|flows|counters|ports|port ID\n"
         "The config file holds the same settings as 'key = value' lines; flags win.\n";
}

StatusOr<AgentConfig> parseAgentConfig(const std::vector<std::string>& args) {
  AgentConfig c;
  std::vector<std::pair<std::string, std::string>> flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0) return invalidArgument("unexpected argument '" + a + "'");
    std::string key = a.substr(2), value;
    size_t eq = key.find('=');
    if (eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
    } else {
      if (i + 1 >= args.size()) return invalidField(key, "missing value");
      value = args[++i];
    }
    flags.emplace_back(key, value);
  }
  for (const auto& [k, v] : flags) {
    if (k == "config") RETURN_IF_ERROR(readFile(v, c));
  }
  for (const auto& [k, v] : flags) {
    if (k != "config") RETURN_IF_ERROR(set(c, k, v).withContext("--" + k));
  }
  if (c.tunnel_ip.empty()) {
    return invalidField("tunnel-ip", "required (this host's underlay address)");
  }
  return c;
}

StatusOr<Uuid> loadOrCreateHostId(const std::string& state_dir, const std::string& configured) {
  std::optional<Uuid> explicit_id;
  if (!configured.empty()) {
    explicit_id = Uuid::parse(configured);
    if (!explicit_id) return invalidField("host-id", "'" + configured + "' is not a UUID");
  }
  if (::mkdir(state_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return invalidField("state-dir", state_dir + ": " + std::strerror(errno));
  }
  const std::string path = state_dir + "/host-id";
  std::ifstream in(path);
  if (in) {
    std::string text;
    std::getline(in, text);
    std::optional<Uuid> stored = Uuid::parse(trim(text));
    if (!stored) return failedPrecondition(path + ": not a UUID: '" + text + "'");
    if (explicit_id && *explicit_id != *stored) {
      return failedPrecondition("--host-id " + explicit_id->toString() + " disagrees with " + path +
                                " (" + stored->toString() + "); remove the file to re-key");
    }
    return *stored;
  }
  Uuid id = explicit_id ? *explicit_id : Uuid::random();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << id.toString() << "\n";
    if (!out) return internalError(tmp + ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return internalError(path + ": " + std::strerror(errno));
  }
  return id;
}

}  // namespace loom::agent
