// A failed invariant in a fuzz target must stop the run with the offending input saved, in every
// build type: assert() would vanish under NDEBUG, so targets abort explicitly and say why.
#ifndef ROOMLINK_FUZZ_CHECK_H
#define ROOMLINK_FUZZ_CHECK_H

#include <cstdio>
#include <cstdlib>

#define RL_FUZZ_CHECK(condition)                                                        \
    do {                                                                                \
        if (!(condition)) {                                                             \
            std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, \
                         #condition);                                                   \
            std::abort();                                                               \
        }                                                                               \
    } while (0)

#endif
