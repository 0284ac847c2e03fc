#include "backoff.h"

#include <algorithm>
#include <utility>

namespace roomlink {

GrowingDelay::GrowingDelay(Policy policy, UnitRandom random)
    : policy_(policy), random_(std::move(random)), current_(policy.initial) {}

Duration GrowingDelay::next() {
    const Duration delay = jittered();
    ++steps_;
    grow();
    return delay;
}

Duration GrowingDelay::jittered() const {
    const double spread = static_cast<double>(policy_.jitter.pct) / 100.0;
    double factor = 1.0;
    switch (policy_.jitter.kind) {
        case Jitter::Kind::kNone:
            return current_;
        case Jitter::Kind::kAround:
            factor = 1.0 + spread * (2.0 * random_() - 1.0);
            break;
        case Jitter::Kind::kBelow:
            factor = (1.0 - spread) + spread * random_();
            break;
    }
    const double jittered = std::max(0.0, static_cast<double>(current_.count()) * factor);
    return Duration(static_cast<Duration::rep>(jittered));
}

void GrowingDelay::grow() {
    // Grow in double to avoid overflowing the nanosecond count before the cap applies.
    const double grown = static_cast<double>(current_.count()) * policy_.multiplier_pct / 100.0;
    const double cap = static_cast<double>(policy_.max.count());
    current_ = Duration(static_cast<Duration::rep>(std::min(grown, cap)));
}

void GrowingDelay::reset() {
    current_ = policy_.initial;
    steps_ = 0;
}

Backoff::Backoff(BackoffPolicy policy, UnitRandom random)
    : delay_({policy.initial, policy.max, policy.multiplier_pct, Jitter::around(policy.jitter_pct)},
             std::move(random)) {}

}  // namespace roomlink
