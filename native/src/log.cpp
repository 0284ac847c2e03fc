#include "log.h"

#include <atomic>
#include <cstdarg>
#include <cstdio>

namespace roomlink {
namespace {

// Plain atomics: trivially destructible, so loop threads may still log while the process exits.
std::atomic<rl_log_fn> g_sink{nullptr};
std::atomic<int32_t> g_min_level{RL_LOG_OFF};

}  // namespace

void set_log_sink(rl_log_fn fn, int32_t min_level) {
    // Publish the level last so that a thread that sees it enabled also sees the sink.
    g_min_level.store(RL_LOG_OFF, std::memory_order_release);
    g_sink.store(fn, std::memory_order_release);
    if (fn != nullptr) {
        g_min_level.store(min_level, std::memory_order_release);
    }
}

bool log_enabled(int32_t level) {
    return level >= g_min_level.load(std::memory_order_acquire) && level < RL_LOG_OFF;
}

void log_printf(int32_t level, const char* format, ...) {
    rl_log_fn sink = g_sink.load(std::memory_order_acquire);
    if (sink == nullptr) {
        return;
    }
    char line[1024];
    va_list args;
    va_start(args, format);
    std::vsnprintf(line, sizeof line, format, args);
    va_end(args);
    sink(level, line);
}

}  // namespace roomlink
