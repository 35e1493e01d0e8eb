#pragma once
// Internal to src/store: helpers shared by the ObjectStore source files.

#include <optional>
#include <string>

#include "etcd/client.h"
#include "store/object_store.h"

namespace loom::store::internal {

// Attempts of a write whose transaction conflicts with another writer.
inline constexpr int kMaxAttempts = 8;
// Rule creates all rewrite their chain's rule list, so concurrent creates in one chain conflict
// by design (not because a caller's view is stale): they get more attempts.
inline constexpr int kMaxRuleCreateAttempts = 32;

// Sleeps a random 1..min(2^(attempt+1), 100) ms before a retry, so that writers contending for one
// object (a chain's rule list) spread out.
void backoff(int attempt);

// The object at `revision` (0: newest), or nullopt; `served_revision` (if not null) receives the
// revision the read was served at.
StatusOr<std::optional<Record>> readRecord(etcd::EtcdClient& client, const Keys& keys, Kind kind,
                                           const std::string& id, int64_t revision,
                                           int64_t* served_revision);

}  // namespace loom::store::internal
