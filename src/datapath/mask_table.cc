#include "datapath/mask_table.h"

#include <cstring>

namespace loom::datapath {

namespace {

bool sameMask(const loom_mask& a, const loom_mask& b) {
  return std::memcmp(&a, &b, sizeof(loom_mask)) == 0;
}

}  // namespace

MaskTable::MaskTable() { std::memset(masks_.data(), 0, sizeof(loom_mask) * masks_.size()); }

std::optional<uint8_t> MaskTable::find(const loom_mask& mask) const {
  for (uint8_t i = 0; i < LOOM_MAX_MASKS; ++i) {
    if (refs_[i] > 0 && sameMask(masks_[i], mask)) return i;
  }
  return std::nullopt;
}

std::optional<uint8_t> MaskTable::acquire(const loom_mask& mask, bool* is_new) {
  if (is_new != nullptr) *is_new = false;
  if (auto slot = find(mask)) {
    ++refs_[*slot];
    return slot;
  }
  // Lowest free slot: keeps n_masks, and so the per-packet search, as short as possible.
  for (uint8_t i = 0; i < LOOM_MAX_MASKS; ++i) {
    if (refs_[i] != 0) continue;
    masks_[i] = mask;
    refs_[i] = 1;
    if (is_new != nullptr) *is_new = true;
    return i;
  }
  return std::nullopt;
}

bool MaskTable::release(uint8_t slot) {
  if (slot >= LOOM_MAX_MASKS || refs_[slot] == 0) return false;
  --refs_[slot];
  return true;
}

bool MaskTable::adopt(uint8_t slot, const loom_mask& mask) {
  if (slot >= LOOM_MAX_MASKS) return false;
  if (refs_[slot] > 0) {
    if (!sameMask(masks_[slot], mask)) return false;
    ++refs_[slot];
    return true;
  }
  // A mask may sit in one slot only: acquire() finds the first, and two slots with one mask
  // would make the duplicate's flows unreachable through acquire/release accounting.
  if (find(mask)) return false;
  masks_[slot] = mask;
  refs_[slot] = 1;
  return true;
}

uint32_t MaskTable::activeCount() const {
  for (uint32_t i = LOOM_MAX_MASKS; i > 0; --i) {
    if (refs_[i - 1] > 0) return i;
  }
  return 0;
}

uint32_t MaskTable::usedCount() const {
  uint32_t n = 0;
  for (uint32_t r : refs_) n += r > 0 ? 1 : 0;
  return n;
}

const loom_mask& MaskTable::mask(uint8_t slot) const {
  static const loom_mask kZero{};
  return slot < LOOM_MAX_MASKS ? masks_[slot] : kZero;
}

}  // namespace loom::datapath
