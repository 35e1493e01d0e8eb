// loom-replica-host: a stand-in for the agent in tests and benchmarks.
//
// Starts a Replica of the NSDB and a HostRegistration, reports the revision of every topology
// snapshot it applies through reportApplied(), and marks the given ports active. Prints "ready
// <revision>" on stdout once it is up and, with --print-revisions, "applied <revision> <ns>" for
// every applied batch (followed by the steady-clock time in ns, which processes on one machine
// share, for benchmarks). Runs until SIGTERM or SIGINT, then revokes its lease and exits 0; after
// SIGKILL the lease (and with it the live/ records) expires after --ttl seconds.
//
//   loom-replica-host --endpoints 127.0.0.1:2379[,...] --host-id h1 [--root /loom] [--ttl 5]
//                     [--port-active p1[,p2...]] [--print-revisions]

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcd/client.h"
#include "replica/liveness.h"
#include "replica/replica.h"

namespace {

struct Flags {
  std::vector<std::string> endpoints;
  std::string root = "/loom";
  std::string host_id;
  int64_t ttl = 5;
  std::vector<std::string> ports;
  bool print_revisions = false;
};

std::vector<std::string> splitCommas(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    const size_t comma = s.find(',');
    std::string_view item = s.substr(0, comma);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

int usage(const char* why) {
  std::fprintf(stderr,
               "loom-replica-host: %s\n"
               "usage: loom-replica-host --endpoints HOST:PORT[,...] --host-id ID [--root R]\n"
               "       [--ttl SECONDS] [--port-active PORT[,...]] [--print-revisions]\n",
               why);
  return 2;
}

bool parseFlags(int argc, char** argv, Flags& flags, std::string& error) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--print-revisions") {
      flags.print_revisions = true;
      continue;
    }
    if (i + 1 >= argc) {
      error = "missing value for " + std::string(arg);
      return false;
    }
    const std::string value = argv[++i];
    if (arg == "--endpoints") {
      flags.endpoints = splitCommas(value);
    } else if (arg == "--root") {
      flags.root = value;
    } else if (arg == "--host-id") {
      flags.host_id = value;
    } else if (arg == "--ttl") {
      char* end = nullptr;
      flags.ttl = std::strtoll(value.c_str(), &end, 10);
      if (end == value.c_str() || *end != '\0' || flags.ttl <= 0) {
        error = "bad --ttl '" + value + "'";
        return false;
      }
    } else if (arg == "--port-active") {
      for (std::string& port : splitCommas(value)) flags.ports.push_back(std::move(port));
    } else {
      error = "unknown flag " + std::string(arg);
      return false;
    }
  }
  if (flags.endpoints.empty()) error = "--endpoints is required";
  if (flags.host_id.empty()) error = "--host-id is required";
  return error.empty();
}

int fail(const char* what, const loom::Status& status) {
  std::fprintf(stderr, "loom-replica-host: %s: %s\n", what, status.toString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  std::string error;
  if (!parseFlags(argc, argv, flags, error)) return usage(error.c_str());

  // Every thread inherits this mask; the main thread takes the signals with sigwait().
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  loom::etcd::ClientOptions options;
  options.endpoints = flags.endpoints;
  auto client = loom::etcd::EtcdClient::create(options);
  if (!client.ok()) return fail("etcd client", client.status());

  loom::replica::ReplicaOptions replica_options;
  replica_options.root = flags.root;
  auto replica = loom::replica::Replica::start(**client, replica_options);
  if (!replica.ok()) return fail("replica", replica.status());

  loom::v1::HostLiveness info;
  info.set_host_id(flags.host_id);
  info.set_applied_revision((*replica)->appliedRevision());
  info.set_version("loom-replica-host");
  loom::replica::RegistrationOptions registration_options;
  registration_options.root = flags.root;
  registration_options.ttl_seconds = flags.ttl;
  auto registration = loom::replica::HostRegistration::start(**client, info, registration_options);
  if (!registration.ok()) return fail("registration", registration.status());
  for (const std::string& port : flags.ports) {
    loom::Status status = (*registration)->setPortActive(port, "tap-" + port);
    if (!status.ok()) return fail("port active", status);
  }

  // Reports the version of every new snapshot, i.e. the revision of every topology change it
  // applied. Not every applied revision: its own (and every other host's) liveness write is a
  // revision too, and reporting those would make the hosts write forever.
  loom::replica::HostRegistration* reg = registration->get();
  const auto snapshots = (*replica)->subscribe([reg](const loom::model::SnapshotPtr& snap) {
    reg->reportApplied(static_cast<int64_t>(snap->version()));
  });
  std::mutex out_mu;
  std::optional<loom::replica::Replica::SubscriptionId> revisions;
  if (flags.print_revisions) {
    revisions = (*replica)->subscribeRevision([&out_mu](int64_t rev) {
      std::lock_guard<std::mutex> lock(out_mu);
      const auto now = std::chrono::steady_clock::now().time_since_epoch();
      std::printf("applied %lld %lld\n", static_cast<long long>(rev),
                  static_cast<long long>(
                      std::chrono::duration_cast<std::chrono::nanoseconds>(now).count()));
      std::fflush(stdout);
    });
  }
  {
    std::lock_guard<std::mutex> lock(out_mu);
    std::printf("ready %lld\n", static_cast<long long>((*replica)->appliedRevision()));
    std::fflush(stdout);
  }

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);

  if (revisions) (*replica)->unsubscribe(*revisions);
  (*replica)->unsubscribe(snapshots);
  registration->reset();  // Revokes the lease: the live records vanish at once.
  replica->reset();
  return 0;
}
