#include "state/in_memory_state.h"

namespace loom::state {

uint64_t ConntrackKey::hash() const {
  uint64_t h = hashCombine(zone.hash(), src.hash());
  h = hashCombine(h, dst.hash());
  return hashCombine(h, (uint64_t{src_port} << 24) | (uint64_t{dst_port} << 8) | proto);
}

std::optional<Uuid> InMemoryMacTable::lookup(const Uuid& bridge, uint16_t vlan, MacAddr mac) const {
  auto it = table_.find(Key{bridge, (uint64_t{vlan} << 48) | mac.toU64()});
  if (it == table_.end()) return std::nullopt;
  return it->second;
}

void InMemoryMacTable::set(const Uuid& bridge, uint16_t vlan, MacAddr mac, const Uuid& port) {
  table_[Key{bridge, (uint64_t{vlan} << 48) | mac.toU64()}] = port;
}

void InMemoryMacTable::erase(const Uuid& bridge, uint16_t vlan, MacAddr mac) {
  table_.erase(Key{bridge, (uint64_t{vlan} << 48) | mac.toU64()});
}

std::optional<MacAddr> InMemoryIpMacTable::lookup(const Uuid& bridge, const IpAddr& ip) const {
  auto it = table_.find(DeviceIpKey{bridge, ip});
  if (it == table_.end()) return std::nullopt;
  return it->second;
}

void InMemoryIpMacTable::set(const Uuid& bridge, const IpAddr& ip, MacAddr mac) {
  table_[DeviceIpKey{bridge, ip}] = mac;
}

std::optional<ArpEntry> InMemoryArpTable::lookup(const Uuid& router, const IpAddr& ip) const {
  auto it = table_.find(DeviceIpKey{router, ip});
  if (it == table_.end()) return std::nullopt;
  return it->second;
}

void InMemoryArpTable::set(const Uuid& router, const IpAddr& ip, const ArpEntry& entry) {
  table_[DeviceIpKey{router, ip}] = entry;
}

std::optional<CtDirection> InMemoryConntrack::lookup(const ConntrackKey& key) const {
  auto it = table_.find(key);
  if (it == table_.end()) return std::nullopt;
  return it->second;
}

void InMemoryConntrack::set(const ConntrackKey& key, CtDirection dir) { table_[key] = dir; }

void InMemoryState::apply(std::span<const StateWrite> writes, MonoTime now) {
  for (const StateWrite& w : writes) {
    if (const auto* m = std::get_if<MacLearn>(&w)) {
      macs.set(m->bridge, m->vlan, m->mac, m->port);
    } else if (const auto* im = std::get_if<IpMacLearn>(&w)) {
      ip_macs.set(im->bridge, im->ip, im->mac);
    } else if (const auto* a = std::get_if<ArpLearn>(&w)) {
      arp.set(a->router, a->ip, ArpEntry{a->mac, now + timers_.stale, now + timers_.expiry});
    } else if (const auto* c = std::get_if<ConntrackInstall>(&w)) {
      conntrack.set(c->key, c->direction);
    }
  }
}

}  // namespace loom::state
