// loom-api: the REST API server (docs/api.md).
//
//   loom-api --etcd 127.0.0.1:2379 --root /loom --listen 127.0.0.1:8080
//            [--token-file F] [--max-body-bytes N] [--call-timeout-ms N] [--threads N]
//
// Prints "loom-api listening on http://ADDR:PORT" once it serves; SIGTERM / SIGINT stop it
// cleanly (requests in flight finish).

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "api/server.h"
#include "etcd/client.h"
#include "replica/replica.h"
#include "store/object_store.h"

namespace {

void usage() {
  std::fprintf(stderr,
               "usage: loom-api --etcd HOST:PORT[,HOST:PORT...] [--root /loom]\n"
               "                [--listen 127.0.0.1:8080] [--token-file FILE]\n"
               "                [--max-body-bytes 1048576] [--call-timeout-ms 2000] [--threads 8]\n"
               "--listen PORT 0 picks a free port. With --token-file, every request except\n"
               "/healthz needs 'Authorization: Bearer <the file's first line>'.\n");
}

std::vector<std::string> splitComma(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, ',')) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

// "127.0.0.1:8080", "[::1]:8080", ":8080" (all interfaces).
bool parseListen(const std::string& s, std::string& host, int& port) {
  size_t colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  host = s.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  char* end = nullptr;
  long p = std::strtol(s.c_str() + colon + 1, &end, 10);
  if (end == s.c_str() + colon + 1 || *end != '\0' || p < 0 || p > 65535) return false;
  port = static_cast<int>(p);
  return true;
}

bool parsePositive(const char* s, long long& out) {
  char* end = nullptr;
  out = std::strtoll(s, &end, 10);
  return end != s && *end == '\0' && out > 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string etcd_endpoints, root = "/loom", listen = "127.0.0.1:8080", token_file;
  long long max_body = 1 << 20, call_timeout_ms = 2000, threads = 8;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool has_value = i + 1 < argc;
    if (a == "--etcd" && has_value) {
      etcd_endpoints = argv[++i];
    } else if (a == "--root" && has_value) {
      root = argv[++i];
    } else if (a == "--listen" && has_value) {
      listen = argv[++i];
    } else if (a == "--token-file" && has_value) {
      token_file = argv[++i];
    } else if (a == "--max-body-bytes" && has_value) {
      if (!parsePositive(argv[++i], max_body)) {
        std::fprintf(stderr, "loom-api: --max-body-bytes needs a positive integer\n");
        return 2;
      }
    } else if (a == "--call-timeout-ms" && has_value) {
      if (!parsePositive(argv[++i], call_timeout_ms)) {
        std::fprintf(stderr, "loom-api: --call-timeout-ms needs a positive integer\n");
        return 2;
      }
    } else if (a == "--threads" && has_value) {
      if (!parsePositive(argv[++i], threads) || threads > 1024) {
        std::fprintf(stderr, "loom-api: --threads needs an integer from 1 to 1024\n");
        return 2;
      }
    } else if (a == "--help" || a == "-h") {
      usage();
      return 0;
    } else {
      std::fprintf(stderr, "loom-api: unexpected argument '%s'\n", a.c_str());
      usage();
      return 2;
    }
  }
  if (etcd_endpoints.empty()) {
    usage();
    return 2;
  }

  loom::api::ApiServerOptions options;
  if (!parseListen(listen, options.bind_address, options.port)) {
    std::fprintf(stderr, "loom-api: bad --listen '%s' (expected HOST:PORT)\n", listen.c_str());
    return 2;
  }
  options.max_body_bytes = static_cast<size_t>(max_body);
  options.call_timeout = std::chrono::milliseconds(call_timeout_ms);
  options.threads = static_cast<int>(threads);
  if (!token_file.empty()) {
    std::ifstream in(token_file);
    std::getline(in, options.token);
    while (!options.token.empty() &&
           (options.token.back() == '\r' || options.token.back() == ' ')) {
      options.token.pop_back();
    }
    if (!in && options.token.empty()) {
      std::fprintf(stderr, "loom-api: cannot read token file %s\n", token_file.c_str());
      return 1;
    }
    if (options.token.empty()) {
      std::fprintf(stderr, "loom-api: token file %s is empty\n", token_file.c_str());
      return 1;
    }
  }

  // Block the stop signals before any thread starts, so that only sigwait() sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  loom::etcd::ClientOptions client_options;
  client_options.endpoints = splitComma(etcd_endpoints);
  client_options.call_timeout = std::chrono::milliseconds(call_timeout_ms);
  auto client = loom::etcd::EtcdClient::create(client_options);
  if (!client.ok()) {
    std::fprintf(stderr, "loom-api: %s\n", client.status().toString().c_str());
    return 1;
  }
  loom::store::ObjectStore store(**client, root);
  loom::replica::ReplicaOptions replica_options;
  replica_options.root = root;
  replica_options.track_progress = true;  // Sync needs the hosts' applied revisions.
  auto replica = loom::replica::Replica::start(**client, replica_options);
  if (!replica.ok()) {
    std::fprintf(stderr, "loom-api: cannot load the topology from etcd: %s\n",
                 replica.status().toString().c_str());
    return 1;
  }

  loom::api::ApiServer server(options, **client, store, replica->get());
  if (loom::Status s = server.start(); !s.ok()) {
    std::fprintf(stderr, "loom-api: %s\n", s.toString().c_str());
    return 1;
  }
  std::string shown = server.bindAddress().find(':') != std::string::npos
                          ? "[" + server.bindAddress() + "]"
                          : server.bindAddress();
  std::cout << "loom-api listening on http://" << shown << ":" << server.port() << std::endl;

  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::cout << "loom-api: " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << ", stopping" << std::endl;
  server.stop();
  return 0;
}
