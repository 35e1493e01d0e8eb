#pragma once
// HostRegistration: a host's presence in the NSDB, bound to an etcd lease.
//
// Writes <root>/v1/live/host/<id> (HostLiveness) under a lease kept alive by a LeaseKeeper;
// when the process dies the lease expires (after its TTL) and the record, and every port the
// host marked active, disappear. reportApplied() publishes the revision the host's replica has
// applied; writes are coalesced (at most one in flight, the newest value wins) on a background
// thread so that reporting never blocks the caller. After a lease is lost and re-granted, the
// host record and the active ports are written again.
//
// It also publishes the MACs the host's bridges learn (live/mac/<bridge>/<vlan>/<mac>, a
// LearnedMac bound to the same lease), so that every host knows where a MAC is and a dead
// host's MACs vanish with it. A MAC that moves is published by the host that sees it next and
// the last writer wins; the host it left neither deletes nor (after a re-grant) restores the
// newer record.

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "etcd/client.h"
#include "loom/v1/store.pb.h"

namespace loom::replica {

class Replica;

struct RegistrationOptions {
  std::string root = "/loom";
  int64_t ttl_seconds = 5;
  // Optional: this host's replica of the same root; it must outlive the registration. With it,
  // publishMac() notices that another host has since overwritten a MAC this one wrote (the MAC
  // moved away) and writes it again when it comes back. Without it, an identical publishMac()
  // is skipped for as long as this registration believes its record is current.
  const Replica* replica = nullptr;
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

  // Learned MACs. publishMac() writes live/mac/<bridge_id>/<vlan>/<mac> under the current lease
  // with host_id set to this host (whatever the caller put there); bridge_id (without '/'),
  // port_id and mac (any form store::canonicalMac() accepts; written in canonical form) are
  // required, else InvalidArgument. The record is remembered, like an active port, and written
  // again after a lease re-grant unless another host has written that MAC meanwhile. Publishing
  // a record identical to one this registration has already written under the current lease
  // returns at once without an RPC (see RegistrationOptions::replica), so it may be called for
  // every packet that re-confirms a MAC.
  //
  // Otherwise both calls do a blocking etcd RPC (up to the client's call timeout, longer while
  // a lease re-grant is being written): callers on a hot path, such as the datapath's upcall
  // handler, should call them from a background thread. Thread-safe. On failure a published
  // record stays remembered and is written with the next lease (or the next publishMac()).
  virtual Status publishMac(const v1::LearnedMac& mac) = 0;
  // Forgets the MAC and deletes its record if it is still this host's (bound to the current
  // lease): a MAC that moved keeps its new host's record.
  virtual Status clearMac(const std::string& bridge_id, uint32_t vlan, const std::string& mac) = 0;

  virtual int64_t leaseId() const = 0;
  // Stops keep-alives without revoking: the records expire after the TTL, as on a crash.
  virtual void abandon() = 0;
};

}  // namespace loom::replica
