#pragma once
// EtcdClient: loom's client for the etcd v3 API (gRPC), the Network State Database.
//
// Every unary call has a deadline; every failure is a Status (gRPC UNAVAILABLE and
// DEADLINE_EXCEEDED map to the same codes, etcd's "too many operations" / "request is too
// large" to ResourceExhausted, a lost lease to NotFound), and no exception escapes. The channel
// uses HTTP/2 keepalive pings so that a hung member is noticed, pick_first over a shuffled
// endpoint list, unlimited receive size, and wait-for-ready on streams. Watches and lease
// keep-alives live in watch.h and lease.h.
//
// Thread-safe: calls may be made from any thread concurrently (each is its own gRPC call).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace loom::etcd {

struct ClientOptions {
  // "127.0.0.1:2379" or "http://127.0.0.1:2379"; several for a cluster.
  std::vector<std::string> endpoints;
  // Deadline of each unary call.
  std::chrono::milliseconds call_timeout{2000};
  // HTTP/2 keepalive ping interval and ack timeout (etcd's --grpc-keepalive-min-time must be
  // lower than the interval).
  std::chrono::milliseconds keepalive_time{2000};
  std::chrono::milliseconds keepalive_timeout{1000};
  // Reconnect backoff bounds.
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{1000};
  // Bound of one connection attempt to one endpoint.
  std::chrono::milliseconds connect_timeout{1000};
  // A distinct value gives this client its own TCP connection (gRPC shares connections between
  // channels with equal arguments).
  std::string channel_tag;
};

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
};

// The end of the range that holds every key starting with `prefix` (etcd's prefix + 1; "\0",
// meaning "to the end of the keyspace", for an empty prefix).
std::string prefixEnd(const std::string& prefix);

struct RangeOptions {
  std::string range_end;  // Empty: the single key. Use prefixEnd() for a prefix.
  int64_t limit = 0;      // 0: no limit.
  int64_t revision = 0;   // 0: the newest.
  bool serializable = false;
  bool keys_only = false;
  bool count_only = false;
};

struct RangeResult {
  std::vector<KeyValue> kvs;
  bool more = false;
  int64_t count = 0;
  int64_t revision = 0;  // The store's revision when the range was served.
};

struct Compare {
  enum class Target : uint8_t { Version, Create, Mod, Value, Lease };
  enum class Result : uint8_t { Equal, Greater, Less, NotEqual };
  std::string key;
  std::string range_end;  // Non-empty: the compare must hold for every key in [key, range_end).
  Target target = Target::Version;
  Result result = Result::Equal;
  int64_t number = 0;  // Version, Create, Mod, Lease.
  std::string value;   // Value.

  // Helpers for the compares the store uses.
  static Compare exists(std::string key);                    // version > 0
  static Compare missing(std::string key);                   // version == 0
  static Compare modRevision(std::string key, int64_t rev);  // mod_revision == rev
  // No key in [prefix, prefixEnd(prefix)) was created or changed after `rev` (every key's
  // mod_revision < rev + 1). Holds vacuously over an empty range. Does not see deletions: a
  // deleted key has no mod_revision left to compare.
  static Compare rangeUnchangedSince(std::string prefix, int64_t rev);
};

struct Op {
  enum class Kind : uint8_t { Put, Delete, Range };
  Kind kind = Kind::Put;
  std::string key;
  std::string range_end;  // Delete / Range.
  std::string value;      // Put.
  int64_t lease = 0;      // Put.

  static Op put(std::string key, std::string value, int64_t lease = 0);
  static Op del(std::string key, std::string range_end = {});
  static Op get(std::string key, std::string range_end = {});
};

struct Txn {
  std::vector<Compare> compares;
  std::vector<Op> success;
  std::vector<Op> failure;
};

struct TxnResult {
  bool succeeded = false;
  int64_t revision = 0;
  // One entry per executed op, in order; filled for Range ops (empty for others).
  std::vector<std::vector<KeyValue>> ranges;
};

struct DeleteResult {
  int64_t deleted = 0;
  int64_t revision = 0;
};

struct LeaseGrant {
  int64_t id = 0;
  int64_t ttl_seconds = 0;
};

// etcd's default --max-txn-ops: more compares or ops in one list fail.
inline constexpr size_t kMaxTxnOps = 128;

class EtcdClient {
 public:
  // Builds the channel; does not wait for a connection (the first call does, up to its
  // deadline). InvalidArgument for an empty or malformed endpoint list, or a non-positive
  // call_timeout. Endpoints are IP literals ("127.0.0.1:2379", "[::1]:2379", optionally with
  // "http://"); a single host name ("localhost:2379") is resolved through DNS.
  static StatusOr<std::unique_ptr<EtcdClient>> create(ClientOptions options);
  virtual ~EtcdClient() = default;

  virtual StatusOr<RangeResult> range(const std::string& key, const RangeOptions& options) = 0;
  // Every key under `prefix` at one revision, read in pages of `page_size` (all pages at the
  // revision of the first, or at `revision` if non-zero). OutOfRange if the revision has been
  // compacted.
  StatusOr<RangeResult> listPrefix(const std::string& prefix, int64_t page_size = 5000,
                                   int64_t revision = 0) {
    return listRange(prefix, prefixEnd(prefix), page_size, revision);
  }
  // The same over [key, range_end).
  virtual StatusOr<RangeResult> listRange(const std::string& key, const std::string& range_end,
                                          int64_t page_size = 5000, int64_t revision = 0) = 0;
  // Returns the revision of the write.
  virtual StatusOr<int64_t> put(const std::string& key, const std::string& value,
                                int64_t lease = 0) = 0;
  virtual StatusOr<DeleteResult> deleteRange(const std::string& key,
                                             const std::string& range_end = {}) = 0;
  // ResourceExhausted (without sending) when a list exceeds kMaxTxnOps.
  virtual StatusOr<TxnResult> txn(const Txn& txn) = 0;
  virtual Status compact(int64_t revision) = 0;

  virtual StatusOr<LeaseGrant> leaseGrant(int64_t ttl_seconds) = 0;
  virtual Status leaseRevoke(int64_t lease_id) = 0;
  // One keep-alive round trip; returns the remaining TTL (NotFound if the lease is gone).
  // LeaseKeeper (lease.h) keeps a lease alive in the background.
  virtual StatusOr<int64_t> leaseKeepAliveOnce(int64_t lease_id) = 0;

  const ClientOptions& options() const { return options_; }

 protected:
  explicit EtcdClient(ClientOptions options) : options_(std::move(options)) {}

 private:
  ClientOptions options_;
};

}  // namespace loom::etcd
