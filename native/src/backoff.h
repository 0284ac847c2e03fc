// Growing delays: every "wait longer each time" in the core is one GrowingDelay.
//
//   the reconnect backoff  Backoff below: options' policy, +/- jitter_pct, grows per attempt
//   early BIND             media_path.cpp: bind_retransmit doubling to max(it, 1 s), no jitter
//   the probe delay        reconnect_driver.cpp: probe_interval, each probe jittered within
//                          [1/2, 1]; it does not grow (a refused probe costs the server's host
//                          one RST, and a restarting server is found within one interval):
//                              GrowingDelay probe({probe_interval, probe_interval, 100,
//                                                  Jitter::below(50)}, &random_unit);
//
// The keepalive's fast pings are not a growing delay (a fixed fast interval for a bounded number
// of pings, then the healthy interval again); they stay in keepalive.h.
//
// Pure: the random source is injected, so the sequences are tested exactly (backoff_test.cpp).
#ifndef ROOMLINK_BACKOFF_H
#define ROOMLINK_BACKOFF_H

#include <functional>

#include "clock.h"

namespace roomlink {

// How each handed-out delay is spread so that clients cut off together do not act in lockstep.
struct Jitter {
    enum class Kind { kNone, kAround, kBelow };
    Kind kind = Kind::kNone;
    int pct = 0;

    static Jitter none() { return Jitter{}; }
    // Uniform in [d * (1 - pct/100), d * (1 + pct/100)): the backoff's +/- spread (gRPC's).
    static Jitter around(int pct) { return Jitter{Kind::kAround, pct}; }
    // Uniform in [d * (1 - pct/100), d]: never later than the delay itself, so a restored path
    // is still noticed within one interval (the probe delay: below(50) = [1/2, 1]).
    static Jitter below(int pct) { return Jitter{Kind::kBelow, pct}; }
};

class GrowingDelay {
public:
    // Returns a uniformly distributed value in [0, 1).
    using UnitRandom = std::function<double()>;

    struct Policy {
        Duration initial{0};
        Duration max{0};          // caps the base delay; jitter may take a delay past it
        int multiplier_pct = 200;  // each growth multiplies the base by this / 100
        Jitter jitter;
    };

    // `random` may be empty when the policy has no jitter.
    GrowingDelay(Policy policy, UnitRandom random = {});

    // The current base delay, jittered; then the base grows. Backoff-style use.
    Duration next();
    // The current base delay, jittered, without growing it.
    Duration jittered() const;
    // Grows the base (multiplier, up to max) without handing a delay out.
    void grow();
    void reset();

    Duration current() const { return current_; }
    int steps() const { return steps_; }  // delays handed out by next() since the last reset

private:
    Policy policy_;
    UnitRandom random_;
    Duration current_;
    int steps_ = 0;
};

struct BackoffPolicy {
    Duration initial = millis(250);
    Duration max = millis(5000);
    int multiplier_pct = 200;
    int jitter_pct = 20;
};

// Exponential backoff with jitter in the style of gRPC's connection backoff: the first delay is
// `initial`, each further delay is multiplied by `multiplier_pct`/100 up to `max`, and every
// returned delay is spread by +/- `jitter_pct` percent.
class Backoff {
public:
    using UnitRandom = GrowingDelay::UnitRandom;

    Backoff(BackoffPolicy policy, UnitRandom random);

    Duration next_delay() { return delay_.next(); }
    void reset() { delay_.reset(); }
    int attempts() const { return delay_.steps(); }  // delays handed out since the last reset

private:
    GrowingDelay delay_;
};

}  // namespace roomlink

#endif
