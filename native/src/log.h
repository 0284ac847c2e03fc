// Process-wide log sink. The level check is a relaxed atomic load, so a disabled line costs
// neither formatting nor a lock; RL_LOG only evaluates its arguments when the level is enabled.
#ifndef ROOMLINK_LOG_H
#define ROOMLINK_LOG_H

#include <cstdint>

#include "roomlink/roomlink.h"

namespace roomlink {

void set_log_sink(rl_log_fn fn, int32_t min_level);
bool log_enabled(int32_t level);
void log_printf(int32_t level, const char* format, ...) __attribute__((format(printf, 2, 3)));

}  // namespace roomlink

#define RL_LOG(level, ...)                                   \
    do {                                                     \
        if (::roomlink::log_enabled(level)) {                \
            ::roomlink::log_printf((level), __VA_ARGS__);    \
        }                                                    \
    } while (0)

#endif
