// loom-trace: simulate packets through a topology file and print what every device decided.
//
//   loom-trace --topology examples/topologies/one-tenant.json
//       --packet vm-a1 'tcp dst=10.0.1.11 dport=22'
//       --packet vm-b1 'tcp dst=10.0.0.11 sport=22 dport=40000 flags=SA'

#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "trace/trace_runner.h"

namespace {

void usage() {
  std::fprintf(stderr,
               "usage: loom-trace --topology FILE [--arp ROUTER,IP,MAC]... [--no-follow]\n"
               "                  --packet PORT 'SPEC' [--packet PORT 'SPEC']...\n"
               "\n"
               "SPEC is a protocol (tcp udp icmp ip ipv6 arp) and key=value pairs, e.g.\n"
               "  'tcp dst=10.0.1.11 dport=22'   'icmp dst=10.0.0.1'   'arp tpa=10.0.0.12'\n"
               "keys: eth_src eth_dst src dst vlan ttl tos frag size sport dport flags\n"
               "      type code id seq op spa tpa sha tha (see src/trace/packet_spec.h)\n"
               "Packets run in order; what one teaches (MACs, ARP, conntrack) the next sees.\n");
}

}  // namespace

int main(int argc, char** argv) {
  loom::trace::TraceOptions opts;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "--topology" || a == "-t") && i + 1 < argc) {
      opts.topology_path = argv[++i];
    } else if (a == "--packet" && i + 2 < argc) {
      opts.packets.push_back({argv[i + 1], argv[i + 2]});
      i += 2;
    } else if (a == "--arp" && i + 1 < argc) {
      opts.arp_seeds.push_back(argv[++i]);
    } else if (a == "--no-follow") {
      opts.follow_generated = false;
    } else if (a == "--help" || a == "-h") {
      usage();
      return 0;
    } else {
      std::fprintf(stderr, "loom-trace: unexpected argument '%s'\n", a.c_str());
      usage();
      return 2;
    }
  }
  if (opts.topology_path.empty() || opts.packets.empty()) {
    usage();
    return 2;
  }
  loom::Status s = loom::trace::runTrace(opts, std::cout);
  if (!s.ok()) {
    std::cout.flush();
    std::fprintf(stderr, "loom-trace: %s\n", s.toString().c_str());
    return 1;
  }
  return 0;
}
