// MaskTable: slot assignment, reference counts, reuse, exhaustion, and adoption after a restart.
#include "datapath/mask_table.h"

#include <gtest/gtest.h>

#include <cstring>

namespace loom::datapath {
namespace {

// A distinct mask per n: exact ifindex plus n in the nw_dst mask bytes.
loom_mask maskN(uint32_t n) {
  loom_mask m;
  std::memset(&m, 0, sizeof(m));
  m.mask.ifindex = 0xffffffffu;
  m.mask.nw_dst = n;
  return m;
}

bool same(const loom_mask& a, const loom_mask& b) { return std::memcmp(&a, &b, sizeof(a)) == 0; }

TEST(MaskTable, AcquireCountsReferencesPerMask) {
  MaskTable t;
  EXPECT_EQ(t.activeCount(), 0u);
  bool is_new = false;
  EXPECT_EQ(t.acquire(maskN(1), &is_new), 0);
  EXPECT_TRUE(is_new);
  EXPECT_EQ(t.acquire(maskN(1), &is_new), 0);
  EXPECT_FALSE(is_new);
  EXPECT_EQ(t.refs(0), 2u);
  EXPECT_EQ(t.acquire(maskN(2), &is_new), 1);
  EXPECT_TRUE(is_new);
  EXPECT_EQ(t.activeCount(), 2u);
  EXPECT_EQ(t.usedCount(), 2u);
  EXPECT_TRUE(same(t.mask(1), maskN(2)));
  EXPECT_EQ(t.find(maskN(2)), 1);
  EXPECT_EQ(t.find(maskN(3)), std::nullopt);
}

TEST(MaskTable, ReleaseFreesAtZeroAndLowestFreeSlotIsReused) {
  MaskTable t;
  ASSERT_EQ(t.acquire(maskN(1)), 0);
  ASSERT_EQ(t.acquire(maskN(1)), 0);
  ASSERT_EQ(t.acquire(maskN(2)), 1);
  ASSERT_EQ(t.acquire(maskN(3)), 2);

  EXPECT_TRUE(t.release(0));
  EXPECT_TRUE(t.inUse(0));
  EXPECT_TRUE(t.release(0));
  EXPECT_FALSE(t.inUse(0));
  EXPECT_FALSE(t.release(0));  // Double release: refused, nothing changes.
  EXPECT_FALSE(t.release(LOOM_MAX_MASKS));
  EXPECT_EQ(t.activeCount(), 3u);  // Slot 0 is free, but slots 1 and 2 are still searched.
  EXPECT_EQ(t.usedCount(), 2u);

  bool is_new = false;
  EXPECT_EQ(t.acquire(maskN(4), &is_new), 0);
  EXPECT_TRUE(is_new);

  EXPECT_TRUE(t.release(2));
  EXPECT_EQ(t.activeCount(), 2u);
  EXPECT_TRUE(t.release(1));
  EXPECT_EQ(t.activeCount(), 1u);
  EXPECT_TRUE(t.release(0));
  EXPECT_EQ(t.activeCount(), 0u);
  // A released mask coming back is a new assignment (the caller rewrites the slot).
  EXPECT_EQ(t.acquire(maskN(3), &is_new), 0);
  EXPECT_TRUE(is_new);
}

TEST(MaskTable, FullTableRefusesNewMasksOnly) {
  MaskTable t;
  for (uint32_t i = 0; i < LOOM_MAX_MASKS; ++i) ASSERT_EQ(t.acquire(maskN(i + 1)), i);
  EXPECT_EQ(t.activeCount(), uint32_t{LOOM_MAX_MASKS});
  bool is_new = true;
  EXPECT_EQ(t.acquire(maskN(100), &is_new), std::nullopt);
  EXPECT_FALSE(is_new);
  EXPECT_EQ(t.acquire(maskN(5)), 4);  // Existing masks still work.
  EXPECT_TRUE(t.release(7));
  EXPECT_EQ(t.acquire(maskN(100)), 7);
}

TEST(MaskTable, AdoptRebuildsFromPinnedMaps) {
  MaskTable t;
  EXPECT_TRUE(t.adopt(3, maskN(1)));
  EXPECT_TRUE(t.adopt(3, maskN(1)));
  EXPECT_EQ(t.refs(3), 2u);
  EXPECT_EQ(t.activeCount(), 4u);
  EXPECT_FALSE(t.adopt(3, maskN(2)));  // Another mask in the same slot.
  EXPECT_FALSE(t.adopt(5, maskN(1)));  // The same mask in two slots.
  EXPECT_FALSE(t.adopt(LOOM_MAX_MASKS, maskN(2)));
  EXPECT_EQ(t.refs(3), 2u);

  bool is_new = true;
  EXPECT_EQ(t.acquire(maskN(1), &is_new), 3);
  EXPECT_FALSE(is_new);
  EXPECT_EQ(t.acquire(maskN(2), &is_new), 0);
  EXPECT_TRUE(is_new);
}

}  // namespace
}  // namespace loom::datapath
