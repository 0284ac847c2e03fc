#include "backoff.h"

#include <algorithm>
#include <utility>

namespace roomlink {

Backoff::Backoff(BackoffPolicy policy, UnitRandom random)
    : policy_(policy), random_(std::move(random)), current_(policy.initial) {}

Duration Backoff::next_delay() {
    const Duration base = current_;
    ++attempts_;
    // Grow in double to avoid overflowing the nanosecond count before the cap applies.
    const double grown = static_cast<double>(current_.count()) * policy_.multiplier_pct / 100.0;
    const double cap = static_cast<double>(policy_.max.count());
    current_ = Duration(static_cast<Duration::rep>(std::min(grown, cap)));

    const double spread = static_cast<double>(policy_.jitter_pct) / 100.0;
    const double factor = 1.0 + spread * (2.0 * random_() - 1.0);
    const double jittered = std::max(0.0, static_cast<double>(base.count()) * factor);
    return Duration(static_cast<Duration::rep>(jittered));
}

void Backoff::reset() {
    current_ = policy_.initial;
    attempts_ = 0;
}

}  // namespace roomlink
