// ManualTimeSource (the clock tests inject) and SystemTimeSource.
#include "base/time_source.h"

#include <gtest/gtest.h>

#include <chrono>

namespace loom {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(ManualTimeSource, StartsAtTheClockEpochByDefault) {
  ManualTimeSource clock;
  EXPECT_EQ(clock.now(), MonoTime{});
}

TEST(ManualTimeSource, StartsAtTheGivenTime) {
  const MonoTime start = MonoTime{} + seconds(1000);
  ManualTimeSource clock(start);
  EXPECT_EQ(clock.now(), start);
}

TEST(ManualTimeSource, DoesNotMoveOnItsOwn) {
  ManualTimeSource clock(MonoTime{} + seconds(5));
  MonoTime a = clock.now();
  MonoTime b = clock.now();
  EXPECT_EQ(a, b);
}

TEST(ManualTimeSource, AdvanceAccumulates) {
  ManualTimeSource clock;
  clock.advance(seconds(2));
  clock.advance(milliseconds(500));
  EXPECT_EQ(clock.now() - MonoTime{}, milliseconds(2500));
}

TEST(ManualTimeSource, SetJumpsToTheGivenTimeEvenBackwards) {
  ManualTimeSource clock(MonoTime{} + seconds(100));
  clock.set(MonoTime{} + seconds(10));
  EXPECT_EQ(clock.now(), MonoTime{} + seconds(10));
  clock.advance(seconds(1));
  EXPECT_EQ(clock.now(), MonoTime{} + seconds(11));
}

TEST(ManualTimeSource, IsReadThroughTheTimeSourceInterface) {
  ManualTimeSource clock;
  const TimeSource& source = clock;
  clock.advance(seconds(60));
  EXPECT_EQ(source.now(), MonoTime{} + seconds(60));
}

TEST(SystemTimeSource, NeverGoesBackwards) {
  SystemTimeSource clock;
  const TimeSource& source = clock;
  MonoTime previous = source.now();
  for (int i = 0; i < 1000; ++i) {
    MonoTime t = source.now();
    ASSERT_GE(t, previous);
    previous = t;
  }
}

}  // namespace
}  // namespace loom
