#pragma once
// LeaseKeeper: holds an etcd lease alive for as long as it exists.
//
// Grants a lease of `ttl` seconds and keeps it alive over a LeaseKeepAlive stream, sending a
// keep-alive every ttl/3. If the lease is lost (the process was frozen longer than the TTL, or
// etcd forgot it) it grants a new one and calls on_new_lease, so that the owner re-puts its
// lease-bound keys. Destruction revokes the lease (keys vanish at once) unless release() was
// called (keys vanish at TTL, as on a crash).

#include <cstdint>
#include <functional>
#include <memory>

#include "etcd/client.h"

namespace loom::etcd {

struct LeaseOptions {
  int64_t ttl_seconds = 5;
  // Called on the keeper's thread with the new lease id, after the first grant and after every
  // re-grant. The owner (re)writes its lease-bound keys here.
  std::function<void(int64_t lease_id)> on_new_lease;
};

class LeaseKeeper {
 public:
  // Grants the first lease synchronously (so the caller can put keys at once) and calls
  // on_new_lease (on the caller's thread) before returning. `client` grants and revokes and
  // must outlive the keeper; the keep-alive stream uses its own channel (channel_tag +
  // "/lease") built from client.options(). A keep-alive goes out every max(ttl/3, 100 ms) of
  // the TTL the server granted; on a stream error the keeper reconnects with backoff.
  static StatusOr<std::unique_ptr<LeaseKeeper>> start(EtcdClient& client, LeaseOptions options);
  virtual ~LeaseKeeper() = default;

  virtual int64_t leaseId() const = 0;
  // Stops keeping the lease alive without revoking it (tests: simulate a crash). The
  // destructor then does not revoke either.
  virtual void release() = 0;
};

}  // namespace loom::etcd
