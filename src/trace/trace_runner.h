#pragma once
// The trace tool's engine: loads a topology file, runs packets through the simulation one after
// the other (state learned by one is seen by the next), and prints for people what each device
// decided, the outcome, the datapath actions, the megaflow mask, the tags, the state writes and
// the packets the devices generated. `loomctl trace` will run the same against the live
// topology.

#include <ostream>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/snapshot.h"

namespace loom::trace {

struct TraceRequest {
  std::string port;  // Ingress port: name or id.
  std::string spec;  // See packet_spec.h.
};

struct TraceOptions {
  std::string topology_path;
  std::vector<TraceRequest> packets;
  // ARP entries to seed before the first packet: "<router name or id>,<ip>,<mac>".
  std::vector<std::string> arp_seeds;
  // Also simulate packets the devices generate out of interior ports (e.g. an ARP reply the
  // router sends into a bridge), one level deep.
  bool follow_generated = true;
};

// Runs every request and prints to `out`. Errors (unreadable topology, unknown port, bad
// packet description) stop the run and are returned; what ran before is already printed.
// Errors about one request carry a field: "packets[i].port" (NotFound), "packets[i].spec"
// (InvalidArgument), "arp_seeds[i]" (0-based indexes).
Status runTrace(const TraceOptions& options, std::ostream& out);

// The same against a snapshot already built (the API's replica); options.topology_path is
// ignored and the first line names the snapshot's version instead of a file.
Status runTrace(const model::SnapshotPtr& snapshot, const TraceOptions& options, std::ostream& out);

}  // namespace loom::trace
