// Exponential backoff with jitter in the style of gRPC's connection backoff: the first delay is
// `initial`, each further delay is multiplied by `multiplier_pct`/100 up to `max`, and every
// returned delay is spread by +/- `jitter_pct` percent so that clients do not retry in lockstep.
// Pure: the random source is injected.
#ifndef ROOMLINK_BACKOFF_H
#define ROOMLINK_BACKOFF_H

#include <functional>

#include "clock.h"

namespace roomlink {

struct BackoffPolicy {
    Duration initial = millis(250);
    Duration max = millis(5000);
    int multiplier_pct = 200;
    int jitter_pct = 20;
};

class Backoff {
public:
    // Returns a uniformly distributed value in [0, 1).
    using UnitRandom = std::function<double()>;

    Backoff(BackoffPolicy policy, UnitRandom random);

    Duration next_delay();
    void reset();
    int attempts() const { return attempts_; }  // delays handed out since the last reset

private:
    BackoffPolicy policy_;
    UnitRandom random_;
    Duration current_;
    int attempts_ = 0;
};

}  // namespace roomlink

#endif
