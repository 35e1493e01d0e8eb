#pragma once
// MaskSlots: the fast path's megaflow mask slots, shared by every packet worker. A MaskTable
// (slot per distinct mask, reference-counted by flows) plus the BPF writes that must follow it in
// order: a new mask is written to its slot before loom_config.n_masks is raised to reach it, and
// n_masks is lowered only after the last flow of the top slot is gone. Install and removal paths
// only (a miss or an expiry), never the per-packet hit path: one mutex is enough.

#include <mutex>
#include <optional>

#include "base/status.h"
#include "datapath/datapath.h"
#include "datapath/mask_table.h"

namespace loom::agent {

class MaskSlots {
 public:
  explicit MaskSlots(datapath::Datapath& dp) : dp_(dp) {}

  // Reads n_masks as a previous agent left it (before adopt()).
  void loadConfig();
  // One more flow under `mask`: its slot, written to the fast path and searchable. nullopt when
  // every slot holds another mask (exhausted = true) or a BPF write failed.
  std::optional<uint8_t> acquire(const datapath::MaskKey& mask, bool& exhausted);
  // One flow fewer under `slot` (call after the flow left loom_flows).
  void release(uint8_t slot);
  // A flow found in the pinned table (agent restart).
  bool adopt(uint8_t slot, const datapath::MaskKey& mask);

  datapath::MaskKey mask(uint8_t slot) const;
  uint32_t activeCount() const;

 private:
  void syncLocked();

  datapath::Datapath& dp_;
  mutable std::mutex mu_;
  datapath::MaskTable table_;
  uint32_t n_written_ = 0;
};

}  // namespace loom::agent
