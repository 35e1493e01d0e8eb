#include "agent/agent.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <set>
#include <sstream>

#include <httplib.h>

#include "agent/netdev.h"
#include "datapath/bpf_datapath.h"

namespace loom::agent {

namespace {

constexpr uint32_t kMaxTunnelKey = (1u << 24) - 1;

uint32_t parseIpv4HostOrder(const std::string& text) {
  in_addr a{};
  if (::inet_pton(AF_INET, text.c_str(), &a) != 1) return 0;
  return ntohl(a.s_addr);
}

std::string ipv4Text(uint32_t host_order) {
  in_addr a{htonl(host_order)};
  char buf[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

}  // namespace

Agent::Agent(AgentConfig config) : config_(std::move(config)) {}

Agent::~Agent() { stop(); }

StatusOr<std::unique_ptr<Agent>> Agent::start(AgentConfig config) {
  std::unique_ptr<Agent> agent(new Agent(std::move(config)));
  Status s = agent->init();
  if (!s.ok()) {
    agent->stop();
    return s;
  }
  return agent;
}

Status Agent::init() {
  if (parseIpv4HostOrder(config_.tunnel_ip) == 0) {
    return invalidField("tunnel-ip", "'" + config_.tunnel_ip + "' is not an IPv4 address");
  }
  ASSIGN_OR_RETURN(host_id_, loadOrCreateHostId(config_.state_dir, config_.host_id));
  if (config_.host_name.empty()) {
    char name[256] = {};
    ::gethostname(name, sizeof name - 1);
    config_.host_name = name;
  }

  // 1. The fast path: pinned maps (and the flows, masks and ports a previous agent left).
  datapath::BpfDatapathOptions dp_options;
  dp_options.pin_dir = config_.pin_dir;
  auto dp = datapath::BpfDatapath::open(dp_options);
  if (!dp.ok()) return dp.status().withContext("fast path");
  dp_ = std::move(dp).value();
  for (const loom_port& p : dp_->ports()) restored_keys_[p.ifindex] = p.tunnel_key;

  // 2. The tunnel device and its program.
  ASSIGN_OR_RETURN(vxlan_ifindex_, ensureVxlanDevice(config_.vxlan_dev, config_.underlay_dev));
  RETURN_IF_ERROR(dp_->attachTunnel(config_.vxlan_dev, vxlan_ifindex_));
  StatusOr<loom_config> current = dp_->config();
  loom_config cfg = current.ok() ? *current : loom_config{};
  cfg.vxlan_ifindex = vxlan_ifindex_;
  cfg.upcall_rate = config_.upcall_rate;
  cfg.upcall_burst = config_.upcall_burst;
  RETURN_IF_ERROR(dp_->setConfig(cfg));

  auto tx = datapath::PacketSender::open();
  if (!tx.ok()) return tx.status();
  tx_ = std::move(tx).value();
  workers_ = std::make_unique<WorkerPool>(*dp_, *tx_, counters_, config_);
  workers_->adoptPinnedFlows();

  // 3. The control plane.
  etcd::ClientOptions eo;
  eo.endpoints = config_.etcd_endpoints;
  auto client = etcd::EtcdClient::create(eo);
  if (!client.ok()) return client.status().withContext("etcd");
  etcd_ = std::move(client).value();
  replica::ReplicaOptions ro;
  ro.root = config_.root;
  auto rep = replica::Replica::start(*etcd_, ro);
  if (!rep.ok()) return rep.status().withContext("replica");
  replica_ = std::move(rep).value();
  v1::HostLiveness info;
  info.set_host_id(host_id_.toString());
  info.set_tunnel_address(config_.tunnel_ip);
  info.set_started_unix_ms(
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count()));
  info.set_version("loom-agent 0.1 (" + config_.host_name + ")");
  replica::RegistrationOptions rego;
  rego.root = config_.root;
  rego.ttl_seconds = config_.lease_ttl_seconds;
  // Lets the registration notice that another host overwrote one of its MAC records (a MAC
  // that moved away and back must be published again).
  rego.replica = replica_.get();
  auto reg = replica::HostRegistration::start(*etcd_, info, rego);
  if (!reg.ok()) return reg.status().withContext("registration");
  registration_ = std::move(reg).value();

  auto wake = [this] {
    std::lock_guard<std::mutex> lock(mu_);
    wake_ = true;
    cv_.notify_all();
  };
  snapshot_sub_ = replica_->subscribe([wake](const model::SnapshotPtr&) { wake(); });
  revision_sub_ = replica_->subscribeRevision([wake](int64_t) { wake(); });

  workers_->setMacLearned([this](const state::MacLearn& m) {
    std::lock_guard<std::mutex> lock(mu_);
    learned_queue_.push_back(m);
    wake_ = true;
    cv_.notify_all();
  });

  // 4. Threads and local interfaces.
  control_thread_ = std::thread([this] { controlLoop(); });
  workers_->start();
  auto admin = AdminServer::start(config_.adminSocketPath(),
                                  [this](const std::string& c) { return handleCommand(c); });
  if (!admin.ok()) return admin.status();
  admin_ = std::move(admin).value();
  if (!config_.metrics_listen.empty()) {
    size_t colon = config_.metrics_listen.rfind(':');
    if (colon == std::string::npos) return invalidField("metrics-listen", "expected ADDR:PORT");
    std::string host = config_.metrics_listen.substr(0, colon);
    int port = std::atoi(config_.metrics_listen.c_str() + colon + 1);
    metrics_server_ = std::make_unique<httplib::Server>();
    metrics_server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metricsText(), "text/plain; version=0.0.4");
    });
    metrics_server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("ok\n", "text/plain");
    });
    if (!metrics_server_->bind_to_port(host, port)) {
      return unavailable("metrics-listen " + config_.metrics_listen + ": cannot bind");
    }
    metrics_thread_ = std::thread([this] { metrics_server_->listen_after_bind(); });
  }
  // The first view before we say we are ready.
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (view_) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return okStatus();
}

void Agent::stop() {
  if (stop_.exchange(true)) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake_ = true;
    cv_.notify_all();
  }
  if (metrics_server_) metrics_server_->stop();
  if (metrics_thread_.joinable()) metrics_thread_.join();
  if (admin_) admin_->stop();
  if (replica_) {
    replica_->unsubscribe(snapshot_sub_);
    replica_->unsubscribe(revision_sub_);
  }
  if (control_thread_.joinable()) control_thread_.join();
  if (workers_) workers_->stop();
  // The fast path stays: flows, ports and links are pinned, so traffic keeps flowing while the
  // agent is away; the next agent adopts them. The lease is not revoked but left to expire
  // (--lease-ttl): a restart (an upgrade) within the TTL re-registers before other hosts notice,
  // so they keep sending to this host's ports. A host that stays down drops out after the TTL.
  if (registration_) registration_->abandon();
  registration_.reset();
  replica_.reset();
  etcd_.reset();
}

uint32_t Agent::allocateTunnelKey(uint32_t ifindex) {
  if (auto it = restored_keys_.find(ifindex); it != restored_keys_.end() && it->second != 0) {
    return it->second;
  }
  std::set<uint32_t> used;
  for (const auto& [id, p] : bound_) used.insert(p.tunnel_key);
  for (const auto& [ifi, key] : restored_keys_) used.insert(key);
  for (uint32_t k = 1; k <= kMaxTunnelKey; ++k) {
    if (!used.count(k)) return k;
  }
  return 0;
}

void Agent::detach(const LocalPort& port) {
  Status s = dp_->detachPort(port.ifname, port.ifindex, port.tunnel_key);
  if (!s.ok())
    std::fprintf(stderr, "loom-agent: detach %s: %s\n", port.ifname.c_str(), s.toString().c_str());
  (void)registration_->clearPortActive(port.port.toString());
  restored_keys_.erase(port.ifindex);
  // MACs learned on the port go with it.
  if (auto it = published_macs_.find(port.port); it != published_macs_.end()) {
    for (const auto& [bridge, vlan_mac] : it->second) {
      (void)registration_->clearMac(bridge.toString(), static_cast<uint32_t>(vlan_mac >> 48),
                                    packet::MacAddr::fromU64(vlan_mac).toString());
    }
    published_macs_.erase(it);
  }
}

bool Agent::reconcilePorts(const model::TopologySnapshot& topo) {
  bool changed = false;
  std::map<Uuid, std::string> desired;
  for (const model::Port& p : topo.ports()) {
    if (p.host_id == host_id_ && !p.interface_name.empty()) desired[p.id] = p.interface_name;
  }
  for (auto it = bound_.begin(); it != bound_.end();) {
    auto d = desired.find(it->first);
    uint32_t ifindex = d == desired.end() ? 0 : interfaceIndex(d->second);
    if (d == desired.end() || d->second != it->second.ifname || ifindex != it->second.ifindex) {
      detach(it->second);
      it = bound_.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  for (const auto& [id, ifname] : desired) {
    if (bound_.count(id)) continue;
    uint32_t ifindex = interfaceIndex(ifname);
    if (ifindex == 0) continue;  // Not plugged yet: looked for again at the next poll.
    LocalPort lp{id, ifname, ifindex, allocateTunnelKey(ifindex)};
    if (lp.tunnel_key == 0) continue;
    Status s = dp_->attachPort(ifname, ifindex, lp.tunnel_key);
    if (!s.ok()) {
      std::fprintf(stderr, "loom-agent: attach %s: %s\n", ifname.c_str(), s.toString().c_str());
      continue;
    }
    bound_[id] = lp;
    restored_keys_[ifindex] = lp.tunnel_key;
    (void)registration_->setPortActive(id.toString(), ifname, lp.tunnel_key);
    changed = true;
  }
  // Ports a previous agent served that nobody binds here any more.
  for (auto it = restored_keys_.begin(); it != restored_keys_.end();) {
    bool in_use = false;
    for (const auto& [id, p] : bound_) in_use |= p.ifindex == it->first;
    if (!in_use) {
      (void)dp_->detachPort("", it->first, it->second);
      it = restored_keys_.erase(it);
    } else {
      ++it;
    }
  }
  return changed;
}

std::unordered_map<Uuid, RemotePort, UuidHash> Agent::buildRemotePorts(
    const model::TopologySnapshot& topo) const {
  // A host's underlay address: its tunnel zone membership, else what its agent registered.
  std::unordered_map<Uuid, uint32_t, UuidHash> address;
  for (const v1::HostLiveness& h : replica_->liveHosts()) {
    auto id = Uuid::parse(h.host_id());
    uint32_t ip = parseIpv4HostOrder(h.tunnel_address());
    if (id && ip != 0) address[*id] = ip;
  }
  for (const model::TunnelZone& z : topo.tunnelZones()) {
    for (const model::TunnelZone::Member& m : z.members) {
      if (m.address.isV4() && address.count(m.host_id)) {
        address[m.host_id] = parseIpv4HostOrder(m.address.toString());
      }
    }
  }
  std::unordered_map<Uuid, RemotePort, UuidHash> out;
  for (const v1::PortActive& a : replica_->activePorts()) {
    auto port = Uuid::parse(a.port_id());
    auto host = Uuid::parse(a.host_id());
    if (!port || !host || *host == host_id_ || a.tunnel_key() == 0) continue;
    // Only where the topology binds it: a record left by a host the port moved away from
    // must not attract its traffic.
    model::Index pi = topo.findPort(*port);
    if (pi == model::kNoIndex || topo.port(pi).host_id != *host) continue;
    auto ip = address.find(*host);
    if (ip == address.end()) continue;
    out[*port] = RemotePort{*host, ip->second, a.tunnel_key()};
  }
  return out;
}

void Agent::publishLearnedMacs() {
  std::vector<state::MacLearn> learned;
  {
    std::lock_guard<std::mutex> lock(mu_);
    learned.swap(learned_queue_);
  }
  for (const state::MacLearn& m : learned) {
    if (!bound_.count(m.port)) continue;  // The port went meanwhile.
    v1::LearnedMac rec;
    rec.set_bridge_id(m.bridge.toString());
    rec.set_vlan(m.vlan);
    rec.set_mac(m.mac.toString());
    rec.set_port_id(m.port.toString());
    Status s = registration_->publishMac(rec);
    if (!s.ok()) {
      std::fprintf(stderr, "loom-agent: publish MAC %s: %s\n", rec.mac().c_str(),
                   s.toString().c_str());
      continue;
    }
    const uint64_t vlan_mac = static_cast<uint64_t>(m.vlan) << 48 | m.mac.toU64();
    if (!m.old_port.isNil()) {
      if (auto it = published_macs_.find(m.old_port); it != published_macs_.end()) {
        it->second.erase({m.bridge, vlan_mac});
      }
    }
    published_macs_[m.port].insert({m.bridge, vlan_mac});
  }
}

std::unordered_map<MacKey, Uuid, MacKeyHash> Agent::buildRemoteMacs(
    const model::TopologySnapshot& topo) const {
  std::unordered_map<MacKey, Uuid, MacKeyHash> out;
  const std::string me = host_id_.toString();
  for (const v1::LearnedMac& m : replica_->learnedMacs()) {
    if (m.host_id() == me) continue;
    auto bridge = Uuid::parse(m.bridge_id());
    auto port = Uuid::parse(m.port_id());
    auto mac = packet::MacAddr::parse(m.mac());
    if (!bridge || !port || !mac) continue;
    // Only while the topology still binds the port to the host that learned it.
    model::Index pi = topo.findPort(*port);
    if (pi == model::kNoIndex || topo.port(pi).host_id.toString() != m.host_id()) continue;
    out[MacKey{*bridge, static_cast<uint64_t>(m.vlan()) << 48 | mac->toU64()}] = *port;
  }
  return out;
}

void Agent::controlLoop() {
  while (!stop_.load()) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(config_.interface_poll_ms),
                   [this] { return wake_; });
      wake_ = false;
    }
    if (stop_.load()) break;
    model::SnapshotPtr topo = replica_->snapshot();
    bool changed = reconcilePorts(*topo);
    publishLearnedMacs();
    // The directories depend only on what the replica holds: rebuild them when it applied
    // something, not on every interface poll. (Read the revision first: a batch applied while
    // building only causes one more rebuild.)
    const int64_t revision = replica_->appliedRevision();
    if (revision != directories_revision_) {
      directories_revision_ = revision;
      auto remote = buildRemotePorts(*topo);
      if (remote != remote_) {
        remote_ = std::move(remote);
        changed = true;
      }
      auto remote_macs = buildRemoteMacs(*topo);
      if (remote_macs != remote_macs_) {
        remote_macs_ = std::move(remote_macs);
        changed = true;
      }
    }
    if (topo->version() != view_version_) {
      view_version_ = topo->version();
      registration_->reportApplied(static_cast<int64_t>(topo->version()));
      changed = true;
    }
    bool first;
    {
      std::lock_guard<std::mutex> lock(mu_);
      first = view_ == nullptr;
    }
    if (!changed && !first) continue;
    auto view = std::make_shared<AgentView>();
    view->generation = ++generation_;
    view->topo = topo;
    for (const auto& [id, p] : bound_) {
      view->local_by_ifindex[p.ifindex] = p;
      view->local_by_port[id] = p;
    }
    view->remote_by_port = remote_;
    view->remote_macs = remote_macs_;
    workers_->publishView(view);
    std::lock_guard<std::mutex> lock(mu_);
    view_ = std::move(view);
  }
}

std::string Agent::metricsText() {
  ViewPtr v;
  {
    std::lock_guard<std::mutex> lock(mu_);
    v = view_;
  }
  return renderMetrics(counters_, dp_->counters(), workers_->flowCount(), workers_->maskCount(),
                       v ? v->local_by_port.size() : 0, replica_ ? replica_->appliedRevision() : 0);
}

std::string Agent::handleCommand(const std::string& command) {
  ViewPtr v;
  {
    std::lock_guard<std::mutex> lock(mu_);
    v = view_;
  }
  std::istringstream in(command);
  std::string verb, arg;
  in >> verb >> arg;
  std::ostringstream o;
  if (verb == "status") {
    o << "host " << host_id_.toString() << " (" << config_.host_name << ")\n"
      << "tunnel " << config_.tunnel_ip << " via " << config_.vxlan_dev << " (ifindex "
      << vxlan_ifindex_ << ")\n"
      << "applied revision " << replica_->appliedRevision() << ", topology version "
      << (v && v->topo ? v->topo->version() : 0) << "\n"
      << "ports " << (v ? v->local_by_port.size() : 0) << ", remote ports "
      << (v ? v->remote_by_port.size() : 0) << "\n"
      << "flows " << workers_->flowCount() << ", masks " << workers_->maskCount() << ", parked "
      << workers_->parkedCount() << "\n";
  } else if (verb == "flows") {
    o << workers_->flowsText();
  } else if (verb == "counters" || verb == "metrics") {
    o << metricsText();
  } else if (verb == "ports" || verb == "port") {
    if (!v) return "no view yet\n";
    for (const auto& [id, p] : v->local_by_port) {
      if (verb == "port" && id.toString() != arg && p.ifname != arg) continue;
      std::string name;
      if (model::Index i = v->topo->findPort(id); i != model::kNoIndex)
        name = v->topo->port(i).name;
      o << "local  " << id.toString() << " " << name << " if " << p.ifname << " (" << p.ifindex
        << ") key " << p.tunnel_key << "\n";
    }
    for (const auto& [id, r] : v->remote_by_port) {
      if (verb == "port" && id.toString() != arg) continue;
      std::string name;
      if (model::Index i = v->topo->findPort(id); i != model::kNoIndex)
        name = v->topo->port(i).name;
      if (verb == "port" && !arg.empty() && id.toString() != arg && name != arg) continue;
      o << "remote " << id.toString() << " " << name << " host " << r.host.toString() << " at "
        << ipv4Text(r.remote_ipv4) << " key " << r.tunnel_key << "\n";
    }
    if (o.str().empty()) return verb == "port" ? "no such port here: " + arg + "\n" : "no ports\n";
  } else {
    return "unknown command '" + verb + "' (status, flows, counters, ports, port ID)\n";
  }
  return o.str();
}

}  // namespace loom::agent
