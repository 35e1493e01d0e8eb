#pragma once
// Watcher: a prefix watch that delivers every change exactly once, in revision order, across
// disconnects, leader changes and etcd restarts.
//
// One thread owns the gRPC stream (wait-for-ready, "hasleader" metadata so a member cut off
// from the leader cancels it). After any stream failure it reconnects with backoff and resumes
// from last delivered revision + 1, so nothing is missed or repeated. If that revision has been
// compacted the watch cannot resume: onCompacted() is called once and the watcher stops; the
// owner re-lists (EtcdClient::listPrefix) and starts a new Watcher from the listing's
// revision + 1. Progress notifications advance the known revision without events.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "etcd/client.h"

namespace loom::etcd {

struct WatchEvent {
  enum class Type : uint8_t { Put, Delete };
  Type type = Type::Put;
  KeyValue kv;  // For Delete: key and mod_revision (the deletion's revision) only.
};

// Events of one or more revisions, delivered together; every event of a revision is in the
// same batch (etcd's atomicity per revision). A batch without events is a progress notification:
// nothing under the prefix changed up to `revision`.
struct WatchBatch {
  std::vector<WatchEvent> events;
  // The newest revision the batch covers: the last event's revision, or for a progress
  // notification the store's revision. lastRevision() equals it once on_batch is called.
  int64_t revision = 0;
};

struct WatchHandler {
  // Called on the watcher's thread, in order. Must not block for long.
  std::function<void(WatchBatch&&)> on_batch;
  // The resume revision was compacted; `compact_revision` is the oldest revision kept.
  std::function<void(int64_t compact_revision)> on_compacted;
  // Connection state changes, for health reporting: true when a stream is established
  // (created), false when it broke (with the reason).
  std::function<void(bool connected, const Status& reason)> on_state;
};

class Watcher {
 public:
  // Starts watching [prefix, prefixEnd(prefix)) from `start_revision` (inclusive; 0 = from the
  // newest revision on). Uses its own channel derived from `options` (channel_tag + "/watch": a
  // watch stream must not share fate with a blocked call). The handler's callbacks may call
  // stop() but must not destroy the Watcher.
  static StatusOr<std::unique_ptr<Watcher>> start(const ClientOptions& options, std::string prefix,
                                                  int64_t start_revision, WatchHandler handler);
  // The same over [key, range_end) (e.g. two adjacent prefixes).
  static StatusOr<std::unique_ptr<Watcher>> startRange(const ClientOptions& options,
                                                       std::string key, std::string range_end,
                                                       int64_t start_revision,
                                                       WatchHandler handler);
  virtual ~Watcher() = default;  // Stops the thread and cancels the stream.

  // The last revision delivered (start_revision - 1 before any event).
  virtual int64_t lastRevision() const = 0;
  // Asks the server for a progress notification (advances lastRevision() when idle).
  virtual void requestProgress() = 0;
  // Cancels the stream and joins the thread (prompt: no waiting for the server). Idempotent.
  virtual void stop() = 0;
};

}  // namespace loom::etcd
