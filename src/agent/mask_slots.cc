#include "agent/mask_slots.h"

namespace loom::agent {

void MaskSlots::loadConfig() {
  std::lock_guard<std::mutex> lock(mu_);
  StatusOr<loom_config> cfg = dp_.config();
  if (cfg.ok()) n_written_ = cfg->n_masks;
}

void MaskSlots::syncLocked() {
  uint32_t n = table_.activeCount();
  if (n == n_written_) return;
  StatusOr<loom_config> cfg = dp_.config();
  if (!cfg.ok()) return;
  loom_config c = *cfg;
  c.n_masks = n;
  if (dp_.setConfig(c).ok()) n_written_ = n;
}

std::optional<uint8_t> MaskSlots::acquire(const datapath::MaskKey& mask, bool& exhausted) {
  std::lock_guard<std::mutex> lock(mu_);
  exhausted = false;
  bool is_new = false;
  std::optional<uint8_t> slot = table_.acquire(mask, &is_new);
  if (!slot) {
    exhausted = true;
    return std::nullopt;
  }
  if (is_new && !dp_.setMask(*slot, mask).ok()) {
    table_.release(*slot);
    return std::nullopt;
  }
  syncLocked();
  return slot;
}

void MaskSlots::release(uint8_t slot) {
  std::lock_guard<std::mutex> lock(mu_);
  table_.release(slot);
  syncLocked();
}

bool MaskSlots::adopt(uint8_t slot, const datapath::MaskKey& mask) {
  std::lock_guard<std::mutex> lock(mu_);
  return table_.adopt(slot, mask);
}

datapath::MaskKey MaskSlots::mask(uint8_t slot) const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_.mask(slot);
}

uint32_t MaskSlots::activeCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_.activeCount();
}

}  // namespace loom::agent
