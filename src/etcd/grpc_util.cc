#include "etcd/grpc_util.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <algorithm>
#include <random>
#include <string_view>

namespace loom::etcd::internal {
namespace {

enum class HostKind : uint8_t { Ipv4, Ipv6, Name };

struct Endpoint {
  std::string host_port;
  HostKind kind = HostKind::Name;
};

bool isIpv4(std::string_view host) {
  int dots = 0;
  int digits = 0;
  for (char c : host) {
    if (c == '.') {
      if (digits == 0) return false;
      ++dots;
      digits = 0;
    } else if (c >= '0' && c <= '9') {
      if (++digits > 3) return false;
    } else {
      return false;
    }
  }
  return dots == 3 && digits > 0;
}

StatusOr<Endpoint> parseEndpoint(std::string_view text) {
  std::string_view s = text;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (s.substr(0, scheme.size()) == scheme) s.remove_prefix(scheme.size());
  }
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  if (s.empty()) return invalidArgument("endpoint '" + std::string(text) + "' is empty");
  Endpoint ep;
  ep.host_port = std::string(s);
  std::string_view host;
  std::string_view port;
  if (s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return invalidArgument("endpoint '" + std::string(text) + "': expected [v6addr]:port");
    }
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
    ep.kind = HostKind::Ipv6;
  } else {
    size_t colon = s.rfind(':');
    if (colon == std::string_view::npos) {
      return invalidArgument("endpoint '" + std::string(text) + "' has no port");
    }
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    ep.kind = isIpv4(host) ? HostKind::Ipv4 : HostKind::Name;
  }
  if (host.empty() || port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return invalidArgument("endpoint '" + std::string(text) + "': bad host or port");
  }
  return ep;
}

}  // namespace

StatusOr<std::string> buildTarget(const std::vector<std::string>& endpoints, bool shuffle) {
  if (endpoints.empty()) return invalidArgument("endpoints: empty");
  std::vector<Endpoint> eps;
  for (const std::string& e : endpoints) {
    ASSIGN_OR_RETURN(Endpoint ep, parseEndpoint(e));
    eps.push_back(std::move(ep));
  }
  HostKind kind = eps.front().kind;
  for (const Endpoint& ep : eps) {
    if (ep.kind != kind) return invalidArgument("endpoints: mixed address kinds");
  }
  if (kind == HostKind::Name) {
    if (eps.size() != 1) {
      return invalidArgument("endpoints: several endpoints must be IP literals");
    }
    return "dns:///" + eps.front().host_port;
  }
  if (shuffle) {
    std::random_device rd;
    std::mt19937 rng(rd());
    std::shuffle(eps.begin(), eps.end(), rng);
  }
  std::string target = kind == HostKind::Ipv4 ? "ipv4:" : "ipv6:";
  for (size_t i = 0; i < eps.size(); ++i) {
    if (i > 0) target += ',';
    target += eps[i].host_port;
  }
  return target;
}

StatusOr<std::shared_ptr<grpc::Channel>> makeChannel(const ClientOptions& options,
                                                     const std::string& tag) {
  ASSIGN_OR_RETURN(std::string target, buildTarget(options.endpoints, /*shuffle=*/true));
  auto ms = [](std::chrono::milliseconds d) { return static_cast<int>(d.count()); };
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, ms(options.keepalive_time));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, ms(options.keepalive_timeout));
  // Ping only while a call or stream is open: etcd's server enforcement does not permit pings
  // without streams and answers them with GOAWAY "too_many_pings". The streams that must notice a
  // hung member (watches, lease keep-alives) are always open; unary calls have deadlines.
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  args.SetMaxReceiveMessageSize(-1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, ms(options.min_backoff));
  // gRPC's minimum connect timeout: how long one connection attempt may take before the channel
  // tries the next endpoint. Short enough to give up on a member that accepts TCP but never
  // answers (SIGSTOPped), long enough for a loaded machine: at 100 ms, 100 agents starting at once
  // on 2 cores failed their first connection ("timed out before receiving SETTINGS frame").
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, ms(options.connect_timeout));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, ms(options.max_backoff));
  args.SetLoadBalancingPolicyName("pick_first");
  args.SetString("loom.channel_tag", tag);
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  if (!channel) return internalError("cannot create a channel to " + target);
  return channel;
}

Status fromGrpc(const grpc::Status& status, const std::string& what) {
  if (status.ok()) return okStatus();
  const std::string& msg = status.error_message();
  auto has = [&](std::string_view s) { return msg.find(s) != std::string::npos; };
  StatusCode code = StatusCode::Unknown;
  if (has("too many operations in txn request") || has("request is too large") ||
      has("database space exceeded")) {
    code = StatusCode::ResourceExhausted;
  } else if (has("requested lease not found")) {
    code = StatusCode::NotFound;
  } else if (has("required revision has been compacted") ||
             has("required revision is a future revision")) {
    code = StatusCode::OutOfRange;
  } else if (has("request timed out") || has("leader changed") || has("no leader") ||
             has("not capable") || has("too many requests")) {
    code = StatusCode::Unavailable;
  } else {
    switch (status.error_code()) {
      case grpc::StatusCode::OK: code = StatusCode::Ok; break;
      case grpc::StatusCode::CANCELLED: code = StatusCode::Cancelled; break;
      case grpc::StatusCode::UNKNOWN: code = StatusCode::Unknown; break;
      case grpc::StatusCode::INVALID_ARGUMENT: code = StatusCode::InvalidArgument; break;
      case grpc::StatusCode::DEADLINE_EXCEEDED: code = StatusCode::DeadlineExceeded; break;
      case grpc::StatusCode::NOT_FOUND: code = StatusCode::NotFound; break;
      case grpc::StatusCode::ALREADY_EXISTS: code = StatusCode::AlreadyExists; break;
      case grpc::StatusCode::PERMISSION_DENIED: code = StatusCode::PermissionDenied; break;
      case grpc::StatusCode::UNAUTHENTICATED: code = StatusCode::PermissionDenied; break;
      case grpc::StatusCode::RESOURCE_EXHAUSTED: code = StatusCode::ResourceExhausted; break;
      case grpc::StatusCode::FAILED_PRECONDITION: code = StatusCode::FailedPrecondition; break;
      case grpc::StatusCode::ABORTED: code = StatusCode::Aborted; break;
      case grpc::StatusCode::OUT_OF_RANGE: code = StatusCode::OutOfRange; break;
      case grpc::StatusCode::UNIMPLEMENTED: code = StatusCode::Unimplemented; break;
      case grpc::StatusCode::INTERNAL: code = StatusCode::Internal; break;
      case grpc::StatusCode::UNAVAILABLE: code = StatusCode::Unavailable; break;
      case grpc::StatusCode::DATA_LOSS: code = StatusCode::DataLoss; break;
      default: code = StatusCode::Unknown; break;
    }
  }
  return Status(code, what + ": " + msg);
}

std::chrono::milliseconds nextBackoff(std::chrono::milliseconds current,
                                      const ClientOptions& options) {
  if (current.count() <= 0) return options.min_backoff;
  return std::min(current * 2, options.max_backoff);
}

}  // namespace loom::etcd::internal
