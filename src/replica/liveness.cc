// HostRegistration: lease-bound host and port-active records (see liveness.h).
//
// One background thread writes the host record: after reportApplied() (the newest revision
// wins; at most one put in flight) and, after a lease was re-granted, the host record and
// every active port again. Port changes are written by the caller's thread; `io_mu_` orders
// them against a full rewrite so that a cleared port is never written back.

#include "replica/liveness.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "etcd/lease.h"
#include "store/keys.h"

namespace loom::replica {
namespace {

class HostRegistrationImpl final : public HostRegistration {
  struct PortRecord {
    std::string interface_name;
    uint32_t tunnel_key = 0;
  };

 public:
  HostRegistrationImpl(etcd::EtcdClient& client, v1::HostLiveness info,
                       const RegistrationOptions& options)
      : client_(client),
        keys_(options.root),
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

  // The host record and every active port, under the current lease.
  Status writeAll() {
    std::lock_guard<std::mutex> io(io_mu_);
    std::map<std::string, PortRecord> ports;
    int64_t lease;
    {
      std::lock_guard<std::mutex> lock(mu_);
      rewrite_needed_ = false;
      ports = ports_;
      lease = lease_id_;
    }
    Status status = writeHost();
    if (status.ok()) status = writeProgress();
    for (auto it = ports.begin(); status.ok() && it != ports.end(); ++it) {
      status = putPort(it->first, it->second, lease);
    }
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

  etcd::EtcdClient& client_;
  const store::Keys keys_;
  const v1::HostLiveness info_;  // applied_revision is filled in from pending_revision_.

  mutable std::mutex mu_;
  std::condition_variable cv_;
  int64_t lease_id_ = 0;
  int64_t pending_revision_ = 0;
  int64_t reported_revision_ = 0;
  std::map<std::string, PortRecord> ports_;  // port id -> what its record says
  bool rewrite_needed_ = false;
  bool stop_ = false;

  std::mutex io_mu_;  // Port writes vs. a full rewrite.
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
