#pragma once
// Changes a simulation asks for. The simulation returns them; the caller applies them (to the
// in-memory tables here, or later to the replicated tables) only if the simulation completed.

#include <variant>

#include "state/state_view.h"

namespace loom::state {

// A MAC seen as source on a bridge port (new, or moved from old_port).
struct MacLearn {
  Uuid bridge;
  uint16_t vlan = 0;
  MacAddr mac;
  Uuid port;
  Uuid old_port;  // Nil when the MAC was unknown; set on a MAC move.
};

// An IP->MAC binding seen in an ARP packet on a bridge (ARP suppression table).
struct IpMacLearn {
  Uuid bridge;
  IpAddr ip;
  MacAddr mac;
};

// An IP->MAC binding a router learned from an ARP reply or request.
struct ArpLearn {
  Uuid router;
  IpAddr ip;
  MacAddr mac;
};

// A connection-tracking entry.
struct ConntrackInstall {
  ConntrackKey key;
  CtDirection direction;
};

using StateWrite = std::variant<MacLearn, IpMacLearn, ArpLearn, ConntrackInstall>;

}  // namespace loom::state
