#pragma once
// Invariant macros (see docs/STYLE.md for which to use when).
//   LOOM_ASSERT(cond)          debug builds only; compiled out in release.
//   LOOM_RELEASE_ASSERT(cond)  always checked; aborts with a message.

#include <cstdio>
#include <cstdlib>

#define LOOM_RELEASE_ASSERT(cond)                                                       \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

#ifdef NDEBUG
#define LOOM_ASSERT(cond) \
  do {                    \
  } while (0)
#else
#define LOOM_ASSERT(cond) LOOM_RELEASE_ASSERT(cond)
#endif
