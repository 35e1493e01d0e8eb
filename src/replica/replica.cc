// Replica: list at one revision, watch from the next, apply in order (see replica.h).
//
// State. The topology objects live in exactly one place: a v1::Topology whose repeated fields
// are sorted by id (deterministic, and binary-searchable). A batch that changes objects
// copies the current Topology, merges the batch's changes into the copy and builds the next
// snapshot from it; the old Topology stays valid for readers that still hold it. Liveness
// records (hosts, progress, ports, learned MACs) are kept in small maps. Every reader-visible field
// is guarded by `mu_`, and a batch becomes visible at once (objects, liveness and the applied
// revision together).
//
// Threads. The watcher's thread applies batches and calls subscribers. A control thread
// handles compaction: the watcher reports it and stops, and the control thread (never the
// watcher's own thread) destroys that watcher, re-lists, swaps the state and starts a new one.

#include "replica/replica.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "base/assert.h"
#include "etcd/watch.h"
#include "store/keys.h"

namespace loom::replica {
namespace {

namespace pb = google::protobuf;
using store::Kind;
using store::kKindCount;

// Objects of one kind by id; nullptr marks a deletion (in a batch's changes).
using KindObjects = std::map<std::string, std::unique_ptr<pb::Message>>;
using AllObjects = std::array<KindObjects, kKindCount>;

// Where each kind lives in Topology (field number kind + 1) and in the StoredObject envelope
// (field number kind + 2); checked once against the message types.
struct KindFields {
  std::array<const pb::FieldDescriptor*, kKindCount> topology{};
  std::array<const pb::FieldDescriptor*, kKindCount> stored{};
  std::array<const pb::FieldDescriptor*, kKindCount> id{};
};

const KindFields& kindFields() {
  static const KindFields fields = [] {
    KindFields f;
    for (size_t k = 0; k < kKindCount; ++k) {
      const int n = static_cast<int>(k);
      f.topology[k] = v1::Topology::descriptor()->FindFieldByNumber(n + 1);
      f.stored[k] = v1::StoredObject::descriptor()->FindFieldByNumber(n + 2);
      LOOM_RELEASE_ASSERT(f.topology[k] != nullptr && f.stored[k] != nullptr);
      LOOM_RELEASE_ASSERT(f.topology[k]->is_repeated());
      LOOM_RELEASE_ASSERT(f.topology[k]->message_type() == f.stored[k]->message_type());
      f.id[k] = f.topology[k]->message_type()->FindFieldByName("id");
      LOOM_RELEASE_ASSERT(f.id[k] != nullptr && f.id[k]->number() == 1);
    }
    return f;
  }();
  return fields;
}

const std::string& idOf(const pb::Message& message, size_t kind, std::string* scratch) {
  return message.GetReflection()->GetStringReference(message, kindFields().id[kind], scratch);
}

// The object in an obj/ value, if it decodes, holds the key's kind and carries the key's id.
std::unique_ptr<pb::Message> decodePayload(const std::string& value, Kind kind,
                                           const std::string& id) {
  v1::StoredObject envelope;
  if (!store::decodeObject(value, envelope)) return nullptr;
  if (store::kindOf(envelope) != kind || store::objectId(envelope) != id) return nullptr;
  const size_t k = static_cast<size_t>(kind);
  return std::unique_ptr<pb::Message>(
      envelope.GetReflection()->ReleaseMessage(&envelope, kindFields().stored[k]));
}

// A Topology holding `objects` (sorted by id, as the maps are); consumes the objects.
std::unique_ptr<v1::Topology> assemble(AllObjects& objects) {
  auto topology = std::make_unique<v1::Topology>();
  const pb::Reflection* refl = topology->GetReflection();
  for (size_t k = 0; k < kKindCount; ++k) {
    for (auto& [id, message] : objects[k]) {
      if (message)
        refl->AddAllocatedMessage(topology.get(), kindFields().topology[k], message.release());
    }
    objects[k].clear();
  }
  return topology;
}

// Merges `changes` into `topology` in place (puts replace or insert, nullptr deletes), moving
// element pointers only: no object is copied, so a change costs O(objects of the changed kinds)
// pointer moves, not a deep copy of the topology. False when nothing changed (every change
// deleted an absent object).
bool mergeInPlace(v1::Topology& topology, AllObjects& changes) {
  v1::Topology* next = &topology;
  const pb::Reflection* refl = next->GetReflection();
  bool changed = false;
  std::string scratch;
  for (size_t k = 0; k < kKindCount; ++k) {
    if (changes[k].empty()) continue;
    const pb::FieldDescriptor* field = kindFields().topology[k];
    std::vector<std::unique_ptr<pb::Message>> old;
    old.reserve(static_cast<size_t>(refl->FieldSize(*next, field)));
    while (refl->FieldSize(*next, field) > 0) old.emplace_back(refl->ReleaseLast(next, field));
    std::reverse(old.begin(), old.end());
    auto add = [&](std::unique_ptr<pb::Message> m) {
      refl->AddAllocatedMessage(next, field, m.release());
    };
    size_t i = 0;
    auto it = changes[k].begin();
    while (i < old.size() || it != changes[k].end()) {
      if (it == changes[k].end() || (i < old.size() && idOf(*old[i], k, &scratch) < it->first)) {
        add(std::move(old[i++]));
        continue;
      }
      const bool exists = i < old.size() && idOf(*old[i], k, &scratch) == it->first;
      if (exists) ++i;  // Replaced or deleted.
      if (it->second) {
        add(std::move(it->second));
        changed = true;
      } else if (exists) {
        changed = true;
      }
      ++it;
    }
    changes[k].clear();
  }
  return changed;
}

// Lease-bound liveness records by id.
struct Liveness {
  std::map<std::string, v1::HostLiveness> hosts;
  std::map<std::string, v1::PortActive> ports;
  std::map<std::string, v1::HostProgress> progress;  // By host id (track_progress only).
  std::map<store::Keys::MacKey, v1::LearnedMac> macs;
};

class ReplicaImpl final : public Replica {
 public:
  ReplicaImpl(etcd::EtcdClient& client, ReplicaOptions options)
      : client_(client),
        options_(std::move(options)),
        keys_(options_.root),
        range_(keys_.replicaRange(options_.track_progress)) {}

  ~ReplicaImpl() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    ctl_cv_.notify_all();
    if (ctl_thread_.joinable()) ctl_thread_.join();
    watcher_.reset();  // Joins the watcher's thread: no callback runs after this.
  }

  Status init() {
    ASSIGN_OR_RETURN(int64_t revision, relist());
    RETURN_IF_ERROR(startWatcher(revision + 1));
    ctl_thread_ = std::thread([this] { controlLoop(); });
    return okStatus();
  }

  model::SnapshotPtr snapshot() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return snapshot_;
  }
  // A copy of the working objects, made on demand and kept until the next change (only export
  // and tests ask; agents never pay for it).
  std::shared_ptr<const v1::Topology> topology() const override {
    std::lock_guard<std::mutex> lock(working_mu_);
    if (!topology_cache_) topology_cache_ = std::make_shared<const v1::Topology>(*working_);
    return topology_cache_;
  }
  int64_t appliedRevision() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_.applied_revision;
  }
  ReplicaStats stats() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

  std::vector<v1::HostLiveness> liveHosts() const override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<v1::HostLiveness> out;
    out.reserve(live_.hosts.size());
    for (const auto& [id, host] : live_.hosts) {
      out.push_back(host);
      auto progress = live_.progress.find(id);
      out.back().set_applied_revision(
          progress == live_.progress.end() ? 0 : progress->second.applied_revision());
    }
    return out;
  }
  std::optional<v1::PortActive> portActive(const std::string& port_id) const override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.ports.find(port_id);
    if (it == live_.ports.end()) return std::nullopt;
    return it->second;
  }
  std::vector<v1::PortActive> activePorts() const override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<v1::PortActive> out;
    out.reserve(live_.ports.size());
    for (const auto& [id, port] : live_.ports) out.push_back(port);
    return out;
  }
  std::optional<v1::LearnedMac> learnedMac(const std::string& bridge_id, uint32_t vlan,
                                           const std::string& mac) const override {
    auto canonical = store::canonicalMac(mac);
    if (!canonical) return std::nullopt;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.macs.find(store::Keys::MacKey{bridge_id, vlan, std::move(*canonical)});
    if (it == live_.macs.end()) return std::nullopt;
    return it->second;
  }
  std::vector<v1::LearnedMac> learnedMacs() const override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<v1::LearnedMac> out;
    out.reserve(live_.macs.size());
    for (const auto& [key, mac] : live_.macs) out.push_back(mac);
    return out;
  }

  SubscriptionId subscribe(SnapshotCallback callback) override {
    std::lock_guard<std::recursive_mutex> guard(cb_mu_);
    const SubscriptionId id = next_subscription_++;
    Subscriber& sub = subscribers_[id];
    sub.on_snapshot = std::move(callback);
    // As in publish(): an unsubscribe from inside the callback only marks the entry.
    const bool nested = delivering_;
    delivering_ = true;
    deliverSnapshot(sub, snapshot());
    delivering_ = nested;
    if (!nested) eraseRemoved();
    return id;
  }
  SubscriptionId subscribeRevision(std::function<void(int64_t)> callback) override {
    std::lock_guard<std::recursive_mutex> guard(cb_mu_);
    const SubscriptionId id = next_subscription_++;
    subscribers_[id].on_revision = std::move(callback);
    return id;
  }
  void unsubscribe(SubscriptionId id) override {
    // Waits for a delivery in progress on another thread; from inside a callback, only marks.
    std::lock_guard<std::recursive_mutex> guard(cb_mu_);
    auto it = subscribers_.find(id);
    if (it == subscribers_.end()) return;
    if (delivering_) {
      it->second.removed = true;
    } else {
      subscribers_.erase(it);
    }
  }

  bool waitForRevision(int64_t revision, std::chrono::milliseconds timeout) const override {
    std::unique_lock<std::mutex> lock(mu_);
    return applied_cv_.wait_for(lock, timeout, [&] { return stats_.applied_revision >= revision; });
  }
  bool waitUntil(const std::function<bool()>& pred,
                 std::chrono::milliseconds timeout) const override {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      uint64_t seen;
      {
        std::lock_guard<std::mutex> lock(mu_);
        seen = publications_;
      }
      // Outside the lock: the predicate may call back into the replica.
      if (pred()) return true;
      std::unique_lock<std::mutex> lock(mu_);
      if (!applied_cv_.wait_until(lock, deadline, [&] { return publications_ != seen; })) {
        return false;
      }
    }
  }

 private:
  struct Subscriber {
    SnapshotCallback on_snapshot;
    std::function<void(int64_t)> on_revision;
    uint64_t last_version = 0;
    bool delivered = false;
    bool removed = false;
  };

  // Lists everything at the newest revision and replaces the whole state; returns the
  // revision. Called before the first watcher and after a compaction (no watcher running).
  StatusOr<int64_t> relist() {
    ASSIGN_OR_RETURN(etcd::RangeResult listing,
                     client_.listRange(range_.key, range_.end, options_.page_size));
    AllObjects objects;
    Liveness live;
    uint64_t errors = 0;
    for (etcd::KeyValue& kv : listing.kvs) {
      if (!decodeInto(kv.key, kv.value, objects, live)) ++errors;
      std::string().swap(kv.value);  // Release each raw value as soon as it is decoded.
    }
    const int64_t revision = listing.revision;
    listing = {};
    std::unique_ptr<v1::Topology> topology = assemble(objects);
    model::SnapshotPtr snap = model::buildSnapshot(*topology, static_cast<uint64_t>(revision));
    {
      std::lock_guard<std::mutex> lock(working_mu_);
      working_ = std::move(topology);
      topology_cache_.reset();
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      snapshot_ = snap;
      live_ = std::move(live);
      stats_.applied_revision = revision;
      stats_.decode_errors += errors;
      stats_.relists++;
      stats_.snapshots++;
      publications_++;
    }
    applied_cv_.notify_all();
    publish(snap, revision);
    return revision;
  }

  // Decodes one listed key into `objects` / `live`; false if its value did not decode. Keys
  // outside obj/ and live/ (the reference index) are ignored.
  bool decodeInto(const std::string& key, const std::string& value, AllObjects& objects,
                  Liveness& live) {
    if (auto obj = keys_.parseObject(key)) {
      auto message = decodePayload(value, obj->kind, obj->id);
      if (!message) return false;
      objects[static_cast<size_t>(obj->kind)][obj->id] = std::move(message);
      return true;
    }
    return applyLiveness(key, &value, live);
  }

  // Applies a put (value != nullptr) or delete of a live/ or progress/ key; other keys are
  // ignored. A value that does not decode removes the record and returns false; so does the
  // put of a live/mac/ key that does not parse (nothing is stored for it).
  bool applyLiveness(const std::string& key, const std::string* value, Liveness& live) {
    if (auto host = keys_.parseLiveHost(key)) return applyRecord(live.hosts, *host, value);
    if (auto host = keys_.parseProgress(key)) return applyRecord(live.progress, *host, value);
    if (auto port = keys_.parseLivePort(key)) return applyRecord(live.ports, *port, value);
    if (auto mac = keys_.parseLiveMac(key)) return applyMac(live.macs, std::move(*mac), value);
    if (value != nullptr && key.starts_with(keys_.liveMacs())) return false;
    return true;
  }

  // A learned MAC's record must repeat its key and name a port and a host.
  static bool applyMac(std::map<store::Keys::MacKey, v1::LearnedMac>& table,
                       store::Keys::MacKey key, const std::string* value) {
    v1::LearnedMac record;
    if (value != nullptr && record.ParseFromString(*value) && record.bridge_id() == key.bridge_id &&
        record.vlan() == key.vlan && store::canonicalMac(record.mac()) == key.mac &&
        !record.port_id().empty() && !record.host_id().empty()) {
      record.set_mac(key.mac);
      table[std::move(key)] = std::move(record);
      return true;
    }
    table.erase(key);
    return value == nullptr;
  }

  template <typename Record>
  static bool applyRecord(std::map<std::string, Record>& table, const std::string& id,
                          const std::string* value) {
    Record record;
    if (value != nullptr && record.ParseFromString(*value)) {
      table[id] = std::move(record);
      return true;
    }
    table.erase(id);
    return value == nullptr;
  }

  Status startWatcher(int64_t from_revision) {
    etcd::WatchHandler handler;
    handler.on_batch = [this](etcd::WatchBatch&& batch) { applyBatch(std::move(batch)); };
    handler.on_compacted = [this](int64_t) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        relist_requested_ = true;
        stats_.connected = false;
      }
      ctl_cv_.notify_all();
    };
    handler.on_state = [this](bool connected, const Status&) {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.connected = connected;
    };
    ASSIGN_OR_RETURN(watcher_, etcd::Watcher::startRange(client_.options(), range_.key, range_.end,
                                                         from_revision, std::move(handler)));
    return okStatus();
  }

  // On the watcher's thread.
  void applyBatch(etcd::WatchBatch&& batch) {
    const int64_t applied = appliedRevision();  // Only this thread changes it meanwhile.
    if (batch.revision <= applied) return;      // Nothing new (a stale progress report).
    AllObjects changes;
    bool object_events = false;
    uint64_t errors = 0, events = 0;
    // Object changes: decode now, outside the lock; the last change of a key wins.
    for (etcd::WatchEvent& event : batch.events) {
      if (alreadyApplied(event, applied)) continue;  // Never twice.
      ++events;
      auto obj = keys_.parseObject(event.kv.key);
      if (!obj) continue;
      object_events = true;
      std::unique_ptr<pb::Message> message;
      if (event.type == etcd::WatchEvent::Type::Put) {
        message = decodePayload(event.kv.value, obj->kind, obj->id);
        if (!message) ++errors;  // An undecodable value removes the object.
      }
      changes[static_cast<size_t>(obj->kind)][obj->id] = std::move(message);
    }
    model::SnapshotPtr snap;
    if (object_events) {
      std::lock_guard<std::mutex> lock(working_mu_);
      if (mergeInPlace(*working_, changes)) {
        topology_cache_.reset();
        snap = model::buildSnapshot(*working_, static_cast<uint64_t>(batch.revision));
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const etcd::WatchEvent& event : batch.events) {
        if (alreadyApplied(event, applied) || keys_.parseObject(event.kv.key)) continue;
        const bool put = event.type == etcd::WatchEvent::Type::Put;
        if (!applyLiveness(event.kv.key, put ? &event.kv.value : nullptr, live_)) ++errors;
      }
      if (snap) {
        snapshot_ = snap;
        stats_.snapshots++;
      }
      stats_.applied_revision = batch.revision;
      stats_.batches++;
      stats_.events += events;
      stats_.decode_errors += errors;
      publications_++;
    }
    applied_cv_.notify_all();
    publish(snap, batch.revision);
  }

  static bool alreadyApplied(const etcd::WatchEvent& event, int64_t applied) {
    return event.kv.mod_revision != 0 && event.kv.mod_revision <= applied;
  }

  // Calls subscribers: the snapshot (if new) and the revision.
  void publish(const model::SnapshotPtr& snap, int64_t revision) {
    std::lock_guard<std::recursive_mutex> guard(cb_mu_);
    delivering_ = true;
    for (auto& [id, sub] : subscribers_) {
      if (sub.removed) continue;
      if (sub.on_snapshot && snap) deliverSnapshot(sub, snap);
      if (sub.on_revision && !sub.removed) sub.on_revision(revision);
    }
    delivering_ = false;
    eraseRemoved();
  }

  void eraseRemoved() {
    std::erase_if(subscribers_, [](const auto& entry) { return entry.second.removed; });
  }

  // Never the same or an older version twice (a subscription racing a publication).
  static void deliverSnapshot(Subscriber& sub, const model::SnapshotPtr& snap) {
    if (sub.delivered && snap->version() <= sub.last_version) return;
    sub.delivered = true;
    sub.last_version = snap->version();
    sub.on_snapshot(snap);
  }

  // Re-lists after a compaction, off the watcher's thread; retries until it succeeds or the
  // replica is destroyed.
  void controlLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      ctl_cv_.wait(lock, [&] { return stopping_ || relist_requested_; });
      if (stopping_) return;
      relist_requested_ = false;
      lock.unlock();
      watcher_.reset();  // It has stopped after reporting the compaction.
      auto backoff = std::chrono::milliseconds(100);
      while (true) {
        StatusOr<int64_t> revision = relist();
        Status status = revision.ok() ? startWatcher(*revision + 1) : revision.status();
        if (status.ok()) break;
        lock.lock();
        if (ctl_cv_.wait_for(lock, backoff, [&] { return stopping_; })) return;
        lock.unlock();
        backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
      }
      lock.lock();
    }
  }

  etcd::EtcdClient& client_;
  const ReplicaOptions options_;
  const store::Keys keys_;
  const store::Keys::Range range_;

  // The objects behind the newest snapshot, changed in place by the thread that applies
  // changes (the watcher's, or the control thread while re-listing).
  mutable std::mutex working_mu_;
  std::unique_ptr<v1::Topology> working_;
  mutable std::shared_ptr<const v1::Topology> topology_cache_;

  mutable std::mutex mu_;
  mutable std::condition_variable applied_cv_;  // A batch or listing was published.
  std::condition_variable ctl_cv_;
  model::SnapshotPtr snapshot_;
  Liveness live_;
  ReplicaStats stats_;
  uint64_t publications_ = 0;
  bool relist_requested_ = false;
  bool stopping_ = false;

  std::recursive_mutex cb_mu_;
  std::map<SubscriptionId, Subscriber> subscribers_;
  SubscriptionId next_subscription_ = 1;
  bool delivering_ = false;

  std::unique_ptr<etcd::Watcher> watcher_;  // Owned by the control thread after init().
  std::thread ctl_thread_;
};

}  // namespace

StatusOr<std::unique_ptr<Replica>> Replica::start(etcd::EtcdClient& client,
                                                  ReplicaOptions options) {
  if (options.page_size <= 0) return invalidArgument("replica: page_size must be positive");
  auto replica = std::make_unique<ReplicaImpl>(client, std::move(options));
  RETURN_IF_ERROR(replica->init());
  return std::unique_ptr<Replica>(std::move(replica));
}

}  // namespace loom::replica
