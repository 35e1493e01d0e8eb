// RouteTable: longest-prefix match with source filter and weights.
//
// finalize() sorts the routes by (family, prefix length descending, masked destination, weight,
// id) into one vector. Each distinct prefix length of a family becomes a level: an open-
// addressing hash table from the masked destination to the range of routes with exactly that
// destination prefix. A lookup masks the destination once per level (integer ANDs, no IpAddr
// copies), probes, and walks the range (already ordered by weight, then id).
#include <algorithm>
#include <bit>
#include <cstring>

#include "base/hash.h"
#include "model/snapshot.h"

namespace loom::model {
namespace {

// An IPv6 address as two big-endian words, so prefix masks are plain shifts.
struct V6Key {
  uint64_t hi = 0;
  uint64_t lo = 0;
  friend bool operator==(const V6Key&, const V6Key&) = default;
  V6Key operator&(const V6Key& m) const { return V6Key{hi & m.hi, lo & m.lo}; }
};

uint64_t keyHash(uint32_t k) { return mix64(k); }
uint64_t keyHash(const V6Key& k) { return hashCombine(mix64(k.hi), k.lo); }

uint32_t v4Mask(int len) {
  return len <= 0 ? 0 : (len >= 32 ? 0xffffffffU : ~(0xffffffffU >> len));
}

uint64_t wordMask(int len) {  // First `len` bits of a 64-bit word.
  return len <= 0 ? 0 : (len >= 64 ? ~uint64_t{0} : ~(~uint64_t{0} >> len));
}

V6Key v6Mask(int len) { return V6Key{wordMask(len), wordMask(len - 64)}; }

V6Key v6Key(const IpAddr& a) {
  const auto& b = a.bytes();
  V6Key k;
  for (size_t i = 0; i < 8; ++i) {
    k.hi = (k.hi << 8) | b[i];
    k.lo = (k.lo << 8) | b[i + 8];
  }
  return k;
}

template <typename Key>
struct Level {
  struct Slot {
    Key key{};
    uint32_t begin = 0;
    uint32_t count = 0;  // 0: empty slot.
  };
  int len = 0;
  Key mask{};
  std::vector<Slot> slots;  // Power-of-two size, at most half full.
  size_t slot_mask = 0;

  const Slot* find(const Key& k) const {
    size_t i = static_cast<size_t>(keyHash(k)) & slot_mask;
    while (true) {
      const Slot& s = slots[i];
      if (s.count == 0) return nullptr;
      if (s.key == k) return &s;
      i = (i + 1) & slot_mask;
    }
  }

  void insert(const Key& k, uint32_t begin, uint32_t count) {
    size_t i = static_cast<size_t>(keyHash(k)) & slot_mask;
    while (slots[i].count != 0) i = (i + 1) & slot_mask;
    slots[i] = Slot{k, begin, count};
  }
};

bool sourceMatches(const Route* r, const IpAddr& src) {
  return r->src.len == 0 || r->src.contains(src);
}

}  // namespace

struct RouteTable::Impl {
  std::vector<const Route*> routes;  // Sorted by finalize().
  std::vector<Level<uint32_t>> v4;
  std::vector<Level<V6Key>> v6;
  bool has_source = false;

  // Builds the levels of one family from routes[first, last), already sorted.
  template <typename Key, typename KeyOf>
  void buildLevels(size_t first, size_t last, std::vector<Level<Key>>& levels, KeyOf key_of,
                   Key (*mask_of)(int)) {
    size_t i = first;
    while (i < last) {
      int len = routes[i]->dst.len;
      size_t level_end = i;
      size_t groups = 0;
      Key prev{};
      while (level_end < last && routes[level_end]->dst.len == len) {
        Key k = key_of(routes[level_end]) & mask_of(len);
        if (level_end == i || !(k == prev)) ++groups;
        prev = k;
        ++level_end;
      }
      Level<Key>& lv = levels.emplace_back();
      lv.len = len;
      lv.mask = mask_of(len);
      size_t cap = std::bit_ceil(groups * 2);
      lv.slots.resize(cap);
      lv.slot_mask = cap - 1;
      size_t g = i;
      while (g < level_end) {
        Key k = key_of(routes[g]) & lv.mask;
        size_t e = g + 1;
        while (e < level_end && (key_of(routes[e]) & lv.mask) == k) ++e;
        lv.insert(k, static_cast<uint32_t>(g), static_cast<uint32_t>(e - g));
        g = e;
      }
      i = level_end;
    }
  }

  template <typename Key>
  bool lookupLevels(const std::vector<Level<Key>>& levels, const Key& dst, const IpAddr& src,
                    std::vector<const Route*>& out) const {
    for (const Level<Key>& lv : levels) {
      const auto* slot = lv.find(dst & lv.mask);
      if (slot == nullptr) continue;
      const Route* const* r = routes.data() + slot->begin;
      uint32_t n = slot->count;
      if (!has_source) {
        uint32_t w = r[0]->weight;
        for (uint32_t i = 0; i < n && r[i]->weight == w; ++i) out.push_back(r[i]);
        return true;
      }
      bool found = false;
      uint32_t w = 0;
      for (uint32_t i = 0; i < n; ++i) {
        if (found && r[i]->weight != w) break;
        if (!sourceMatches(r[i], src)) continue;
        found = true;
        w = r[i]->weight;
        out.push_back(r[i]);
      }
      if (found) return true;
    }
    return false;
  }
};

RouteTable::RouteTable() : impl_(std::make_unique<Impl>()) {}
RouteTable::~RouteTable() = default;
RouteTable::RouteTable(RouteTable&&) noexcept = default;
RouteTable& RouteTable::operator=(RouteTable&&) noexcept = default;

void RouteTable::add(const Route* route) {
  if (!impl_) impl_ = std::make_unique<Impl>();
  if (route == nullptr || route->dst.addr.isNone()) return;
  impl_->routes.push_back(route);
  if (route->src.len > 0) impl_->has_source = true;
}

void RouteTable::finalize() {
  if (!impl_) return;
  Impl& m = *impl_;
  m.v4.clear();
  m.v6.clear();
  auto family_rank = [](const Route* r) { return r->dst.addr.isV4() ? 0 : 1; };
  auto masked = [](const Route* r) { return r->dst.addr.masked(r->dst.len); };
  std::sort(m.routes.begin(), m.routes.end(), [&](const Route* a, const Route* b) {
    if (family_rank(a) != family_rank(b)) return family_rank(a) < family_rank(b);
    if (a->dst.len != b->dst.len) return a->dst.len > b->dst.len;
    if (auto c = masked(a) <=> masked(b); c != 0) return c < 0;
    if (a->weight != b->weight) return a->weight < b->weight;
    return a->id < b->id;
  });
  size_t split = 0;
  while (split < m.routes.size() && m.routes[split]->dst.addr.isV4()) ++split;
  m.buildLevels<uint32_t>(
      0, split, m.v4, [](const Route* r) { return r->dst.addr.v4(); }, &v4Mask);
  m.buildLevels<V6Key>(
      split, m.routes.size(), m.v6, [](const Route* r) { return v6Key(r->dst.addr); }, &v6Mask);
}

bool RouteTable::empty() const { return !impl_ || impl_->routes.empty(); }
size_t RouteTable::size() const { return impl_ ? impl_->routes.size() : 0; }
bool RouteTable::hasSourceRoutes() const { return impl_ && impl_->has_source; }

bool RouteTable::lookup(const IpAddr& dst, const IpAddr& src,
                        std::vector<const Route*>& out) const {
  out.clear();
  if (!impl_) return false;
  if (dst.isV4()) return impl_->lookupLevels(impl_->v4, dst.v4(), src, out);
  if (dst.isV6()) return impl_->lookupLevels(impl_->v6, v6Key(dst), src, out);
  return false;
}

}  // namespace loom::model
