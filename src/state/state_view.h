#pragma once
// State the simulation reads besides the topology: learned MACs, IP->MAC (ARP suppression),
// router ARP tables and connection tracking.
//
// The simulation only *reads* these, through the const views below. What it wants to change
// (a MAC learned, a MAC moved, an ARP entry, a conntrack key) comes back as StateWrite values
// in the simulation result; the caller applies them once the simulation is complete, so a
// simulation that ends "not ready" leaves no state behind (MidoNet's flow-state transaction).
//
// This folder also holds simple in-memory implementations (in_memory_state.h). The agent later
// supplies replicated ones behind the same views.

#include <cstdint>
#include <optional>

#include "base/time_source.h"
#include "base/uuid.h"
#include "packet/addr.h"

namespace loom::state {

using packet::IpAddr;
using packet::MacAddr;

// Per bridge and VLAN (0 = untagged): MAC -> port learned from traffic.
class MacTableView {
 public:
  virtual ~MacTableView() = default;
  virtual std::optional<Uuid> lookup(const Uuid& bridge, uint16_t vlan, MacAddr mac) const = 0;
};

// Per bridge: IP -> MAC learned or seeded, used for ARP suppression (on top of the addresses
// configured on ports, which the snapshot already holds).
class IpMacTableView {
 public:
  virtual ~IpMacTableView() = default;
  virtual std::optional<MacAddr> lookup(const Uuid& bridge, const IpAddr& ip) const = 0;
};

struct ArpEntry {
  MacAddr mac;
  MonoTime stale;   // After this, still used, but a refreshing ARP request is sent.
  MonoTime expiry;  // After this, treated as unknown.
};

// Per router: IP -> ARP entry.
class ArpTableView {
 public:
  virtual ~ArpTableView() = default;
  virtual std::optional<ArpEntry> lookup(const Uuid& router, const IpAddr& ip) const = 0;
};

// A connection as seen by the device the packet entered first (the "zone"): addresses,
// protocol, and ports (TCP/UDP), ICMP echo id (both ports), or zeros.
struct ConntrackKey {
  Uuid zone;
  IpAddr src;
  IpAddr dst;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint8_t proto = 0;

  ConntrackKey reversed(const Uuid& new_zone) const {
    return ConntrackKey{new_zone, dst, src, dst_port, src_port, proto};
  }
  uint64_t hash() const;
  friend bool operator==(const ConntrackKey&, const ConntrackKey&) = default;
};

struct ConntrackKeyHash {
  size_t operator()(const ConntrackKey& k) const { return static_cast<size_t>(k.hash()); }
};

enum class CtDirection : uint8_t {
  Forward,  // Entries for packets in the direction that opened the connection.
  Return,   // Entries for the replies.
};

class ConntrackView {
 public:
  virtual ~ConntrackView() = default;
  virtual std::optional<CtDirection> lookup(const ConntrackKey& key) const = 0;
};

// Everything a simulation may read. Any pointer may be null: the table is then empty.
struct StateView {
  const MacTableView* macs = nullptr;
  const IpMacTableView* ip_macs = nullptr;
  const ArpTableView* arp = nullptr;
  const ConntrackView* conntrack = nullptr;
};

}  // namespace loom::state
