#pragma once
// MaskTable: the agent's mirror of loom_masks, the BPF array of masks the tuple-space search
// walks (bpf/loom_dp_abi.h). Each distinct mask in use gets a slot 0..LOOM_MAX_MASKS-1; each
// installed flow holds one reference to the slot of its mask (its key's mask_id).
//
// The BPF program searches slots 0 .. n_masks-1 in order, so the caller keeps
// loom_config.n_masks == activeCount() and orders its writes so the program never sees a slot
// half-made:
//   - acquire() says (is_new) when a slot was newly assigned: write loom_masks[slot] first, then
//     raise n_masks if activeCount() grew, then install the flow;
//   - release() only after the flow is deleted from loom_flows, then lower n_masks to
//     activeCount(). A free slot below the top keeps its stale mask in the map: it matches no
//     flow (all its flows are gone), it costs a lookup until reused.
//
// Not thread-safe: owned by one thread, or used under the caller's lock (the same lock that
// orders the map writes above).

#include <array>
#include <cstdint>
#include <optional>

#include "datapath/bpf/loom_dp_abi.h"

namespace loom::datapath {

class MaskTable {
 public:
  MaskTable();

  // The slot for `mask`: the slot that already holds it (one more reference), or else the
  // lowest free slot, then holding it with one reference. nullopt when all LOOM_MAX_MASKS slots
  // hold other masks: the flow cannot be installed (keep it in userspace). *is_new (when
  // non-null) is true when the slot was newly assigned, i.e. loom_masks[slot] must be written.
  std::optional<uint8_t> acquire(const loom_mask& mask, bool* is_new = nullptr);

  // Drops one reference (one flow removed); at zero the slot becomes free. Returns false (and
  // changes nothing) for a slot out of range or not in use: a caller bug, e.g. a double release.
  bool release(uint8_t slot);

  // After an agent restart, for each flow found in the pinned loom_flows that the agent keeps:
  // records one reference to `slot` (the flow key's mask_id) holding `mask` (read from the
  // pinned loom_masks). A free slot is assigned; a slot holding the same mask gains a reference.
  // Returns false (nothing recorded) when the slot is out of range or holds a different mask,
  // or when `mask` already sits in another slot (a map the agent did not write): the caller
  // should delete that flow instead.
  bool adopt(uint8_t slot, const loom_mask& mask);

  // Highest slot in use + 1 (0 when none): the n_masks the BPF program must search.
  uint32_t activeCount() const;
  // Slots in use.
  uint32_t usedCount() const;
  bool inUse(uint8_t slot) const { return slot < LOOM_MAX_MASKS && refs_[slot] > 0; }
  uint32_t refs(uint8_t slot) const { return slot < LOOM_MAX_MASKS ? refs_[slot] : 0; }
  // The mask in `slot` (all zero for a slot never used; the stale mask for a freed one).
  const loom_mask& mask(uint8_t slot) const;
  // The slot holding `mask`, if in use.
  std::optional<uint8_t> find(const loom_mask& mask) const;

 private:
  std::array<loom_mask, LOOM_MAX_MASKS> masks_;
  std::array<uint32_t, LOOM_MAX_MASKS> refs_{};
};

}  // namespace loom::datapath
