#pragma once
// Replica: a live, local copy of the NSDB that the API server and every agent use.
//
// Lists its range of <root>/v1/ (store/keys.h: objects and liveness) at one revision R (in pages),
// then watches from R + 1 and applies every change in revision order. After each applied batch that
// touched topology objects it builds a new immutable TopologySnapshot (version = the applied
// revision) and hands it to subscribers. A disconnect, etcd restart or leader change is absorbed by
// the watcher (resume from last + 1); a compaction of the resume revision makes the replica re-list
// and swap its state wholesale (the snapshot after a re-list is complete, never a mix). Nothing is
// applied twice.
//
// Besides the topology it tracks the lease-bound liveness records: live hosts (with the
// revision each has applied), active ports and learned MACs.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "etcd/client.h"
#include "loom/v1/store.pb.h"
#include "model/snapshot.h"

namespace loom::replica {

struct ReplicaOptions {
  std::string root = "/loom";
  int64_t page_size = 5000;
  // Also follow the hosts' progress reports (liveHosts()' applied_revision); the API server's
  // replica does, agents' replicas do not (store/keys.h explains why).
  bool track_progress = false;
};

struct ReplicaStats {
  int64_t applied_revision = 0;
  uint64_t batches = 0;        // Watch batches applied.
  uint64_t events = 0;         // Watch events applied.
  uint64_t relists = 0;        // Full re-lists (the first one included).
  uint64_t snapshots = 0;      // Snapshots built.
  uint64_t decode_errors = 0;  // Values that did not decode (skipped, counted).
  bool connected = false;      // The watch stream is up.
};

class Replica {
 public:
  using SnapshotCallback = std::function<void(const model::SnapshotPtr&)>;
  using SubscriptionId = uint64_t;

  // Lists synchronously (so the first snapshot is ready when this returns), then watches in
  // the background. `client` must outlive the replica; watches use their own channel built
  // from client.options().
  static StatusOr<std::unique_ptr<Replica>> start(etcd::EtcdClient& client,
                                                  ReplicaOptions options = {});
  virtual ~Replica() = default;

  // The newest snapshot (never null after start()).
  virtual model::SnapshotPtr snapshot() const = 0;
  // The objects behind the newest snapshot, as the schema's Topology (for export and list
  // views that must agree with the snapshot).
  virtual std::shared_ptr<const v1::Topology> topology() const = 0;
  virtual int64_t appliedRevision() const = 0;
  virtual ReplicaStats stats() const = 0;

  virtual std::vector<v1::HostLiveness> liveHosts() const = 0;
  virtual std::optional<v1::PortActive> portActive(const std::string& port_id) const = 0;
  virtual std::vector<v1::PortActive> activePorts() const = 0;
  // The learned-MAC records (live/mac/, written by HostRegistration::publishMac): the host and
  // port behind a MAC on a bridge's VLAN, as last written (a MAC that moved names its newest
  // port). `mac` in any form store::canonicalMac() accepts; records hold the canonical form.
  // Changes arrive like other liveness changes: through subscribeRevision's callback. A key or
  // value that does not parse, or a value that disagrees with its key, is skipped and counted in
  // stats().decode_errors.
  virtual std::optional<v1::LearnedMac> learnedMac(const std::string& bridge_id, uint32_t vlan,
                                                   const std::string& mac) const = 0;
  // Every learned MAC, ordered by (bridge_id, vlan, mac).
  virtual std::vector<v1::LearnedMac> learnedMacs() const = 0;

  // Called (on the replica's thread) with every new snapshot; also once, at once, with the
  // current one.
  virtual SubscriptionId subscribe(SnapshotCallback callback) = 0;
  virtual void unsubscribe(SubscriptionId id) = 0;
  // Called after every applied batch with the applied revision (including liveness-only
  // changes).
  virtual SubscriptionId subscribeRevision(std::function<void(int64_t)> callback) = 0;

  // Blocks until appliedRevision() >= revision; false on timeout.
  virtual bool waitForRevision(int64_t revision, std::chrono::milliseconds timeout) const = 0;
  // Blocks until `pred` holds after some applied batch (checked at once and after each batch);
  // false on timeout. Used for wait-for-sync.
  virtual bool waitUntil(const std::function<bool()>& pred,
                         std::chrono::milliseconds timeout) const = 0;
};

}  // namespace loom::replica
