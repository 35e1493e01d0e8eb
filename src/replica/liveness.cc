// HostRegistration: lease-bound host, port-active and learned-MAC records (see liveness.h).
//
// One background thread writes the host record: after reportApplied() (the newest revision
// wins; at most one put in flight) and, after a lease was re-granted, the host record and
// every active port and learned MAC again. Port and MAC changes are written by the caller's
// thread; `io_mu_` orders them against a full rewrite so that a cleared port or MAC is never
// written back.
//
// Learned MACs. Each remembered MAC keeps the bytes written and the lease and revision of the
// write; an identical publishMac() under the same lease is skipped without taking `io_mu_`
// (unless the replica, if given, has seen another record replace ours). A MAC may be
// overwritten by another host (it moved), so the writes that could undo a newer record are
// conditional: clearMac() deletes only a record bound to this host's current lease, and the
// rewrite after a re-grant puts only where the key is absent (the old lease's records are
// gone with it; a record that is there is another host's, and this host forgets the MAC).

#include "replica/liveness.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "etcd/lease.h"
#include "replica/replica.h"
#include "store/keys.h"

namespace loom::replica {
namespace {

class HostRegistrationImpl final : public HostRegistration {
  struct PortRecord {
    std::string interface_name;
    uint32_t tunnel_key = 0;
  };
  using MacKey = store::Keys::MacKey;
  struct MacRecord {
    std::string value;     // The serialized LearnedMac.
    int64_t lease = 0;     // The lease it was last written under; 0: not written.
    int64_t revision = 0;  // The revision of that write.
  };
  using MacTable = std::map<MacKey, MacRecord>;

 public:
  HostRegistrationImpl(etcd::EtcdClient& client, v1::HostLiveness info,
                       const RegistrationOptions& options)
      : client_(client),
        keys_(options.root),
        replica_(options.replica),
        info_(std::move(info)),
        pending_revision_(info_.applied_revision()) {}

  ~HostRegistrationImpl() override {
    stopThread();
    keeper_.reset();  // Revokes the lease unless abandon() released it.
  }

  // Grants the lease and writes the records once, synchronously; then starts the thread.
  Status init(etcd::EtcdClient& client, int64_t ttl_seconds) {
    etcd::LeaseOptions lease;
    lease.ttl_seconds = ttl_seconds;
    lease.on_new_lease = [this](int64_t id) { onNewLease(id); };
    ASSIGN_OR_RETURN(keeper_, etcd::LeaseKeeper::start(client, std::move(lease)));
    RETURN_IF_ERROR(writeAll());
    thread_ = std::thread([this] { run(); });
    return okStatus();
  }

  void reportApplied(int64_t revision) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (revision <= pending_revision_) return;
      pending_revision_ = revision;
    }
    cv_.notify_all();
  }

  int64_t reportedRevision() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return reported_revision_;
  }

  Status setPortActive(const std::string& port_id, const std::string& interface_name,
                       uint32_t tunnel_key) override {
    if (port_id.empty()) return invalidArgument("port_id: empty");
    std::lock_guard<std::mutex> io(io_mu_);
    int64_t lease;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ports_[port_id] = PortRecord{interface_name, tunnel_key};
      lease = lease_id_;
    }
    // On failure the port stays recorded: it is written again with the next lease.
    return putPort(port_id, PortRecord{interface_name, tunnel_key}, lease);
  }

  Status clearPortActive(const std::string& port_id) override {
    std::lock_guard<std::mutex> io(io_mu_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      ports_.erase(port_id);
    }
    StatusOr<etcd::DeleteResult> deleted = client_.deleteRange(keys_.livePort(port_id));
    return deleted.ok() ? okStatus() : deleted.status().withContext("clear port active");
  }

  Status publishMac(const v1::LearnedMac& mac) override {
    auto canonical = store::canonicalMac(mac.mac());
    if (!canonical) return invalidArgument("mac: not a MAC address: '" + mac.mac() + "'");
    if (mac.bridge_id().empty() || mac.bridge_id().find('/') != std::string::npos) {
      return invalidArgument("bridge_id: empty or contains '/'");
    }
    if (mac.port_id().empty()) return invalidArgument("port_id: empty");
    v1::LearnedMac record = mac;
    record.set_mac(*canonical);
    record.set_host_id(info_.host_id());
    MacKey key{record.bridge_id(), record.vlan(), std::move(*canonical)};
    const std::string value = record.SerializeAsString();
    if (alreadyWritten(key, value)) return okStatus();
    std::lock_guard<std::mutex> io(io_mu_);
    if (alreadyWritten(key, value)) return okStatus();  // Another thread just wrote it.
    int64_t lease;
    {
      std::lock_guard<std::mutex> lock(mu_);
      macs_[key] = MacRecord{value, 0, 0};
      lease = lease_id_;
    }
    // Unconditional: the last writer wins (a MAC that moved here replaces its old host's).
    StatusOr<int64_t> put =
        client_.put(keys_.liveMac(key.bridge_id, key.vlan, key.mac), value, lease);
    if (!put.ok()) return put.status().withContext("learned mac " + macName(key));
    markWritten(key, value, lease, *put);
    return okStatus();
  }

  Status clearMac(const std::string& bridge_id, uint32_t vlan, const std::string& mac) override {
    auto canonical = store::canonicalMac(mac);
    if (!canonical) return invalidArgument("mac: not a MAC address: '" + mac + "'");
    if (bridge_id.empty() || bridge_id.find('/') != std::string::npos) {
      return invalidArgument("bridge_id: empty or contains '/'");
    }
    MacKey key{bridge_id, vlan, std::move(*canonical)};
    std::lock_guard<std::mutex> io(io_mu_);
    int64_t lease;
    {
      std::lock_guard<std::mutex> lock(mu_);
      macs_.erase(key);
      lease = lease_id_;
    }
    // Only a record bound to this host's lease: one another host wrote since is left alone.
    const std::string etcd_key = keys_.liveMac(key.bridge_id, key.vlan, key.mac);
    etcd::Txn txn;
    etcd::Compare bound_here;
    bound_here.key = etcd_key;
    bound_here.target = etcd::Compare::Target::Lease;
    bound_here.number = lease;  // Result::Equal.
    txn.compares.push_back(std::move(bound_here));
    txn.success.push_back(etcd::Op::del(etcd_key));
    StatusOr<etcd::TxnResult> result = client_.txn(txn);
    return result.ok() ? okStatus()
                       : result.status().withContext("clear learned mac " + macName(key));
  }

  int64_t leaseId() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return lease_id_;
  }

  void abandon() override {
    stopThread();
    if (keeper_) keeper_->release();
  }

 private:
  void onNewLease(int64_t id) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      lease_id_ = id;
      rewrite_needed_ = true;
    }
    cv_.notify_all();
  }

  void stopThread() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  void run() {
    constexpr auto kMinBackoff = std::chrono::milliseconds(50);
    constexpr auto kMaxBackoff = std::chrono::milliseconds(1000);
    auto backoff = kMinBackoff;
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      cv_.wait(lock,
               [&] { return stop_ || rewrite_needed_ || pending_revision_ > reported_revision_; });
      if (stop_) return;
      const bool rewrite = rewrite_needed_;
      lock.unlock();
      Status status = rewrite ? writeAll() : writeProgress();
      lock.lock();
      if (status.ok()) {
        backoff = kMinBackoff;
        continue;
      }
      // etcd unreachable or the lease just lost (the keeper re-grants and calls onNewLease).
      if (cv_.wait_for(lock, backoff, [&] { return stop_; })) return;
      backoff = std::min(backoff * 2, kMaxBackoff);
    }
  }

  // The progress record with the newest reported revision.
  Status writeProgress() {
    v1::HostProgress record;
    int64_t lease;
    {
      std::lock_guard<std::mutex> lock(mu_);
      record.set_applied_revision(pending_revision_);
      lease = lease_id_;
    }
    StatusOr<int64_t> put =
        client_.put(keys_.progress(info_.host_id()), record.SerializeAsString(), lease);
    if (!put.ok()) return put.status().withContext("host progress");
    std::lock_guard<std::mutex> lock(mu_);
    reported_revision_ = std::max(reported_revision_, record.applied_revision());
    return okStatus();
  }

  // The host record (written once per lease; its applied_revision stays 0, see store.proto).
  Status writeHost() {
    v1::HostLiveness record = info_;
    record.clear_applied_revision();
    int64_t lease;
    {
      std::lock_guard<std::mutex> lock(mu_);
      lease = lease_id_;
    }
    StatusOr<int64_t> put =
        client_.put(keys_.liveHost(record.host_id()), record.SerializeAsString(), lease);
    return put.ok() ? okStatus() : put.status().withContext("host liveness");
  }

  // The host record and every active port and learned MAC, under the current lease.
  Status writeAll() {
    std::lock_guard<std::mutex> io(io_mu_);
    std::map<std::string, PortRecord> ports;
    MacTable macs;
    int64_t lease;
    {
      std::lock_guard<std::mutex> lock(mu_);
      rewrite_needed_ = false;
      ports = ports_;
      // Those already written under this lease (a retry after a failed rewrite) are done.
      for (const auto& [key, mac] : macs_) {
        if (mac.lease != lease_id_) macs.emplace(key, mac);
      }
      lease = lease_id_;
    }
    Status status = writeHost();
    if (status.ok()) status = writeProgress();
    for (auto it = ports.begin(); status.ok() && it != ports.end(); ++it) {
      status = putPort(it->first, it->second, lease);
    }
    if (status.ok()) status = rewriteMacs(macs, lease);
    if (!status.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      rewrite_needed_ = true;
    }
    return status;
  }

  Status putPort(const std::string& port_id, const PortRecord& port, int64_t lease) {
    v1::PortActive record;
    record.set_port_id(port_id);
    record.set_host_id(info_.host_id());
    record.set_interface_name(port.interface_name);
    record.set_tunnel_key(port.tunnel_key);
    StatusOr<int64_t> put = client_.put(keys_.livePort(port_id), record.SerializeAsString(), lease);
    return put.ok() ? okStatus() : put.status().withContext("port active " + port_id);
  }

  // Whether `value` is what this registration last wrote for `key`, under the current lease,
  // and (with a replica that has seen that write) still the record there. No RPC.
  bool alreadyWritten(const MacKey& key, const std::string& value) const {
    int64_t revision;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = macs_.find(key);
      if (it == macs_.end() || it->second.value != value || it->second.lease == 0 ||
          it->second.lease != lease_id_ || rewrite_needed_) {
        return false;
      }
      revision = it->second.revision;
    }
    if (replica_ == nullptr || replica_->appliedRevision() < revision) return true;
    auto seen = replica_->learnedMac(key.bridge_id, key.vlan, key.mac);
    return seen.has_value() && seen->SerializeAsString() == value;
  }

  void markWritten(const MacKey& key, const std::string& value, int64_t lease, int64_t revision) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = macs_.find(key);
    if (it == macs_.end() || it->second.value != value) return;  // Changed meanwhile.
    it->second.lease = lease;
    it->second.revision = revision;
  }

  // Writes remembered MACs where their keys are absent: one transaction per chunk while no key
  // of it exists (the usual case after a lost lease), key by key for a chunk where some does.
  Status rewriteMacs(const MacTable& macs, int64_t lease) {
    auto it = macs.begin();
    while (it != macs.end()) {
      etcd::Txn txn;
      std::vector<MacTable::const_iterator> chunk;
      for (; it != macs.end() && chunk.size() < etcd::kMaxTxnOps; ++it) {
        const std::string key = keys_.liveMac(it->first.bridge_id, it->first.vlan, it->first.mac);
        txn.compares.push_back(etcd::Compare::missing(key));
        txn.success.push_back(etcd::Op::put(key, it->second.value, lease));
        chunk.push_back(it);
      }
      StatusOr<etcd::TxnResult> result = client_.txn(txn);
      if (!result.ok()) return result.status().withContext("learned macs");
      for (const auto& entry : chunk) {
        if (result->succeeded) {
          markWritten(entry->first, entry->second.value, lease, result->revision);
        } else {
          RETURN_IF_ERROR(rewriteMac(entry->first, entry->second.value, lease));
        }
      }
    }
    return okStatus();
  }

  // One MAC: put if absent; if present with this record (a retried rewrite), moved onto this
  // lease; if present with another (another host wrote it since), forgotten.
  Status rewriteMac(const MacKey& mac, const std::string& value, int64_t lease) {
    const std::string key = keys_.liveMac(mac.bridge_id, mac.vlan, mac.mac);
    etcd::Txn txn;
    txn.compares.push_back(etcd::Compare::missing(key));
    txn.success.push_back(etcd::Op::put(key, value, lease));
    txn.failure.push_back(etcd::Op::get(key));
    StatusOr<etcd::TxnResult> result = client_.txn(txn);
    if (!result.ok()) return result.status().withContext("learned mac " + macName(mac));
    if (result->succeeded) {
      markWritten(mac, value, lease, result->revision);
      return okStatus();
    }
    const etcd::KeyValue* kv =
        result->ranges.empty() || result->ranges[0].empty() ? nullptr : &result->ranges[0][0];
    if (kv == nullptr) return aborted("learned mac " + macName(mac) + ": changed, retrying");
    if (kv->value != value) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = macs_.find(mac);
      if (it != macs_.end() && it->second.value == value) macs_.erase(it);
      return okStatus();
    }
    if (kv->lease == lease) {
      markWritten(mac, value, lease, kv->mod_revision);
      return okStatus();
    }
    etcd::Txn move;
    move.compares.push_back(etcd::Compare::modRevision(key, kv->mod_revision));
    move.success.push_back(etcd::Op::put(key, value, lease));
    result = client_.txn(move);
    if (!result.ok()) return result.status().withContext("learned mac " + macName(mac));
    // Changed in between: the whole rewrite is retried (after a backoff).
    if (!result->succeeded) return aborted("learned mac " + macName(mac) + ": changed, retrying");
    markWritten(mac, value, lease, result->revision);
    return okStatus();
  }

  static std::string macName(const MacKey& key) {
    return key.bridge_id + "/" + std::to_string(key.vlan) + "/" + key.mac;
  }

  etcd::EtcdClient& client_;
  const store::Keys keys_;
  const Replica* const replica_;
  const v1::HostLiveness info_;  // applied_revision is filled in from pending_revision_.

  mutable std::mutex mu_;
  std::condition_variable cv_;
  int64_t lease_id_ = 0;
  int64_t pending_revision_ = 0;
  int64_t reported_revision_ = 0;
  std::map<std::string, PortRecord> ports_;  // port id -> what its record says
  MacTable macs_;                            // The MACs this host has published.
  bool rewrite_needed_ = false;
  bool stop_ = false;

  std::mutex io_mu_;  // Port and MAC writes vs. a full rewrite.
  std::unique_ptr<etcd::LeaseKeeper> keeper_;
  std::thread thread_;
};

}  // namespace

StatusOr<std::unique_ptr<HostRegistration>> HostRegistration::start(etcd::EtcdClient& client,
                                                                    v1::HostLiveness info,
                                                                    RegistrationOptions options) {
  if (info.host_id().empty()) return invalidArgument("host_id: empty");
  if (options.ttl_seconds <= 0) return invalidArgument("ttl_seconds: must be positive");
  if (info.started_unix_ms() == 0) {
    info.set_started_unix_ms(
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count()));
  }
  auto registration = std::make_unique<HostRegistrationImpl>(client, std::move(info), options);
  RETURN_IF_ERROR(registration->init(client, options.ttl_seconds));
  return std::unique_ptr<HostRegistration>(std::move(registration));
}

}  // namespace loom::replica
