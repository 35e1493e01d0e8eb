#pragma once
// Simple single-threaded in-memory state tables: for tests, the trace tool and benchmarks. The
// agent replaces them with replicated tables behind the same views.

#include <chrono>
#include <span>
#include <unordered_map>

#include "state/state_view.h"
#include "state/state_write.h"

namespace loom::state {

class InMemoryMacTable final : public MacTableView {
 public:
  std::optional<Uuid> lookup(const Uuid& bridge, uint16_t vlan, MacAddr mac) const override;
  void set(const Uuid& bridge, uint16_t vlan, MacAddr mac, const Uuid& port);
  void erase(const Uuid& bridge, uint16_t vlan, MacAddr mac);
  size_t size() const { return table_.size(); }

 private:
  struct Key {
    Uuid bridge;
    uint64_t vlan_mac;  // vlan << 48 | mac
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return static_cast<size_t>(hashCombine(k.bridge.hash(), k.vlan_mac));
    }
  };
  std::unordered_map<Key, Uuid, KeyHash> table_;
};

// Key of the per-device IP tables.
struct DeviceIpKey {
  Uuid device;
  IpAddr ip;
  friend bool operator==(const DeviceIpKey&, const DeviceIpKey&) = default;
};
struct DeviceIpKeyHash {
  size_t operator()(const DeviceIpKey& k) const {
    return static_cast<size_t>(hashCombine(k.device.hash(), k.ip.hash()));
  }
};

class InMemoryIpMacTable final : public IpMacTableView {
 public:
  std::optional<MacAddr> lookup(const Uuid& bridge, const IpAddr& ip) const override;
  void set(const Uuid& bridge, const IpAddr& ip, MacAddr mac);
  size_t size() const { return table_.size(); }

 private:
  std::unordered_map<DeviceIpKey, MacAddr, DeviceIpKeyHash> table_;
};

class InMemoryArpTable final : public ArpTableView {
 public:
  std::optional<ArpEntry> lookup(const Uuid& router, const IpAddr& ip) const override;
  void set(const Uuid& router, const IpAddr& ip, const ArpEntry& entry);
  size_t size() const { return table_.size(); }

 private:
  std::unordered_map<DeviceIpKey, ArpEntry, DeviceIpKeyHash> table_;
};

class InMemoryConntrack final : public ConntrackView {
 public:
  std::optional<CtDirection> lookup(const ConntrackKey& key) const override;
  void set(const ConntrackKey& key, CtDirection dir);
  size_t size() const { return table_.size(); }

 private:
  std::unordered_map<ConntrackKey, CtDirection, ConntrackKeyHash> table_;
};

// ARP entry lifetimes (MidoNet's defaults: arp_stale 60 s, arp_expiration 90 s).
struct ArpTimers {
  Duration stale = std::chrono::seconds(60);
  Duration expiry = std::chrono::seconds(90);
};

// All four tables, a StateView over them, and application of a simulation's writes.
class InMemoryState {
 public:
  explicit InMemoryState(ArpTimers timers = {}) : timers_(timers) {}

  StateView view() const { return StateView{&macs, &ip_macs, &arp, &conntrack}; }
  // Applies writes in order; `now` dates ARP entries.
  void apply(std::span<const StateWrite> writes, MonoTime now);

  InMemoryMacTable macs;
  InMemoryIpMacTable ip_macs;
  InMemoryArpTable arp;
  InMemoryConntrack conntrack;

 private:
  ArpTimers timers_;
};

}  // namespace loom::state
