#pragma once
// HostRegistration: a host's presence in the NSDB, bound to an etcd lease.
//
// Writes <root>/v1/live/host/<id> (HostLiveness) under a lease kept alive by a LeaseKeeper;
// when the process dies the lease expires (after its TTL) and the record, and every port the
// host marked active, disappear. reportApplied() publishes the revision the host's replica has
// applied; writes are coalesced (at most one in flight, the newest value wins) on a background
// thread so that reporting never blocks the caller. After a lease is lost and re-granted, the
// host record and the active ports are written again.

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "etcd/client.h"
#include "loom/v1/store.pb.h"

namespace loom::replica {

struct RegistrationOptions {
  std::string root = "/loom";
  int64_t ttl_seconds = 5;
};

class HostRegistration {
 public:
  static StatusOr<std::unique_ptr<HostRegistration>> start(etcd::EtcdClient& client,
                                                           v1::HostLiveness info,
                                                           RegistrationOptions options = {});
  // Revokes the lease: the host's records vanish at once.
  virtual ~HostRegistration() = default;

  // Report the versions of the replica's snapshots (the revisions of topology changes), not
  // every applied revision: liveness writes are revisions too, and hosts reporting the
  // revisions of each other's reports would write forever.
  virtual void reportApplied(int64_t revision) = 0;
  // The last revision written to etcd (for tests and metrics).
  virtual int64_t reportedRevision() const = 0;
  virtual Status setPortActive(const std::string& port_id, const std::string& interface_name,
                               uint32_t tunnel_key = 0) = 0;
  virtual Status clearPortActive(const std::string& port_id) = 0;
  virtual int64_t leaseId() const = 0;
  // Stops keep-alives without revoking: the records expire after the TTL, as on a crash.
  virtual void abandon() = 0;
};

}  // namespace loom::replica
