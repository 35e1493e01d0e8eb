#pragma once
// Internal to loom_etcd: building gRPC channels from ClientOptions and turning gRPC / etcd
// errors into loom Status values. Not part of the public API.

#include <grpcpp/channel.h>
#include <grpcpp/support/status.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "etcd/client.h"

namespace loom::etcd::internal {

// The gRPC target for `endpoints`: "ipv4:a:p,b:p" (shuffled) for IPv4 literals, "ipv6:..." for
// bracketed IPv6 literals, "dns:///host:port" for a single host name. InvalidArgument for an
// empty list, a missing port, or host names mixed with several endpoints.
StatusOr<std::string> buildTarget(const std::vector<std::string>& endpoints, bool shuffle);

// A channel with loom's arguments: keepalive pings (also without calls), unlimited receive
// size, reconnect backoff bounds, pick_first, and `tag` as a distinct argument so that channels
// with different tags do not share a TCP connection.
StatusOr<std::shared_ptr<grpc::Channel>> makeChannel(const ClientOptions& options,
                                                     const std::string& tag);

// gRPC / etcd error -> loom Status, with `what` ("put /a") as context.
Status fromGrpc(const grpc::Status& status, const std::string& what);

// The backoff after `current` (0: none yet): min_backoff, doubling up to max_backoff.
std::chrono::milliseconds nextBackoff(std::chrono::milliseconds current,
                                      const ClientOptions& options);

}  // namespace loom::etcd::internal
