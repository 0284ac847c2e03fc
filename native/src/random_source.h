// Randomness for media keys and backoff jitter: a per-thread 64-bit generator seeded from the OS.
#ifndef ROOMLINK_RANDOM_SOURCE_H
#define ROOMLINK_RANDOM_SOURCE_H

#include <cstdint>

namespace roomlink {

uint64_t random_u64();
uint64_t random_nonzero_u64();
double random_unit();  // uniform in [0, 1)

}  // namespace roomlink

#endif
