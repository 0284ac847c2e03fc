// Time source for the core. Production code uses MonotonicClock; tests inject a ManualClock so
// timer behaviour can be checked without waiting for real time to pass.
#ifndef ROOMLINK_CLOCK_H
#define ROOMLINK_CLOCK_H

#include <atomic>
#include <chrono>
#include <cstdint>

namespace roomlink {

using Duration = std::chrono::nanoseconds;
using TimePoint = std::chrono::steady_clock::time_point;

inline Duration millis(int64_t ms) { return std::chrono::milliseconds(ms); }
inline int64_t to_millis(Duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// CLOCK_MONOTONIC in nanoseconds: the time base of rl_monotonic_ns() and of event timestamps.
int64_t monotonic_ns();

class Clock {
public:
    virtual ~Clock() = default;
    virtual TimePoint now() const = 0;
};

// steady_clock is CLOCK_MONOTONIC on Linux, the same base as rl_monotonic_ns().
class MonotonicClock final : public Clock {
public:
    TimePoint now() const override { return std::chrono::steady_clock::now(); }
};

class ManualClock final : public Clock {
public:
    TimePoint now() const override { return TimePoint(Duration(now_ns_.load())); }
    void advance(Duration d) { now_ns_ += d.count(); }

private:
    std::atomic<int64_t> now_ns_{1'000'000'000};
};

}  // namespace roomlink

#endif
