#include "backoff.h"

#include <algorithm>
#include <vector>

#include "test_support.h"

using namespace roomlink;

namespace {

int64_t ms(Duration d) { return to_millis(d); }

Backoff::UnitRandom constant(double value) {
    return [value] { return value; };
}

BackoffPolicy policy(int64_t initial, int64_t max, int multiplier, int jitter) {
    BackoffPolicy p;
    p.initial = millis(initial);
    p.max = millis(max);
    p.multiplier_pct = multiplier;
    p.jitter_pct = jitter;
    return p;
}

}  // namespace

TEST(grows_geometrically_up_to_the_cap) {
    Backoff b(policy(250, 5000, 200, 20), constant(0.5));  // 0.5 = no jitter
    std::vector<int64_t> got;
    for (int i = 0; i < 8; ++i) got.push_back(ms(b.next_delay()));
    std::vector<int64_t> want = {250, 500, 1000, 2000, 4000, 5000, 5000, 5000};
    CHECK(got == want);
    CHECK_EQ(b.attempts(), 8);
}

TEST(fractional_multiplier) {
    Backoff b(policy(100, 1000, 150, 20), constant(0.5));
    std::vector<int64_t> got;
    for (int i = 0; i < 4; ++i) got.push_back(ms(b.next_delay()));
    std::vector<int64_t> want = {100, 150, 225, 337};
    CHECK(got == want);
}

TEST(jitter_stays_within_bounds) {
    // Extremes of the random source give the extremes of the spread.
    Backoff low(policy(1000, 5000, 200, 20), constant(0.0));
    CHECK_EQ(ms(low.next_delay()), int64_t{800});
    Backoff high(policy(1000, 5000, 200, 20), constant(0.999999));
    int64_t h = ms(high.next_delay());
    CHECK(h >= 1199 && h <= 1200);

    // A sweep of random values never leaves [base*(1-j), base*(1+j)], and the cap applies to
    // the base, so the delay may exceed max by at most the jitter.
    double r = 0.0;
    Backoff b(policy(250, 2000, 200, 20), [&r] {
        r += 0.137;
        if (r >= 1.0) r -= 1.0;
        return r;
    });
    int64_t base = 250;
    for (int i = 0; i < 50; ++i) {
        int64_t d = ms(b.next_delay());
        CHECK(d >= base * 8 / 10 - 1);
        CHECK(d <= base * 12 / 10);
        base = std::min<int64_t>(base * 2, 2000);
    }
}

TEST(reset_restarts_from_initial) {
    Backoff b(policy(250, 5000, 200, 20), constant(0.5));
    b.next_delay();
    b.next_delay();
    b.next_delay();
    b.reset();
    CHECK_EQ(b.attempts(), 0);
    CHECK_EQ(ms(b.next_delay()), int64_t{250});
    CHECK_EQ(ms(b.next_delay()), int64_t{500});
}

TEST(multiplier_of_one_keeps_a_constant_delay) {
    Backoff b(policy(300, 300, 100, 20), constant(0.5));
    for (int i = 0; i < 5; ++i) CHECK_EQ(ms(b.next_delay()), int64_t{300});
}

TEST(no_overflow_with_large_values) {
    Backoff b(policy(86'400'000, 86'400'000, 1000, 100), constant(0.0));
    for (int i = 0; i < 100; ++i) CHECK(b.next_delay() >= Duration::zero());
}

// --- GrowingDelay serves every growing delay: each user's sequence is the one its hand-rolled
// schedule gave before (the formulas below are those schedules, kept as the reference).

namespace {

// A deterministic random source: the same values for the reference and for GrowingDelay.
struct Lcg {
    uint64_t state;
    double operator()() {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<double>(state >> 11) / 9007199254740992.0;  // [0, 1)
    }
};

// The reconnect backoff as backoff.cpp computed it.
std::vector<Duration> reference_backoff(BackoffPolicy p, Lcg random, int n) {
    std::vector<Duration> out;
    Duration current = p.initial;
    for (int i = 0; i < n; ++i) {
        const Duration base = current;
        const double grown = static_cast<double>(current.count()) * p.multiplier_pct / 100.0;
        current = Duration(static_cast<Duration::rep>(
            std::min(grown, static_cast<double>(p.max.count()))));
        const double spread = static_cast<double>(p.jitter_pct) / 100.0;
        const double factor = 1.0 + spread * (2.0 * random() - 1.0);
        out.push_back(Duration(static_cast<Duration::rep>(
            std::max(0.0, static_cast<double>(base.count()) * factor))));
    }
    return out;
}

// The probe delay as engine.cpp computed it (next_probe_delay, note_connect_error): `refused[i]`
// says whether the i-th probe was refused (the delay doubles after it).
std::vector<Duration> reference_probe(Duration interval, const std::vector<bool>& refused,
                                      Lcg random) {
    std::vector<Duration> out;
    Duration delay = interval;
    for (bool r : refused) {
        const double factor = 0.5 + 0.5 * random();
        out.push_back(Duration(static_cast<Duration::rep>(static_cast<double>(delay.count()) * factor)));
        if (r) {
            const Duration cap = std::max(interval, Duration(std::chrono::seconds(1)));
            delay = std::min(cap, delay * 2);
        }
    }
    return out;
}

// Early BIND retransmits as media_path.cpp computed them.
std::vector<Duration> reference_early_bind(Duration retransmit, int n) {
    std::vector<Duration> out;
    Duration interval = retransmit;
    for (int i = 0; i < n; ++i) {
        out.push_back(interval);
        interval = std::min(std::max(retransmit, Duration(std::chrono::seconds(1))), interval * 2);
    }
    return out;
}

std::vector<Duration> grown_backoff(BackoffPolicy p, Lcg random, int n) {
    Backoff b(p, random);
    std::vector<Duration> out;
    for (int i = 0; i < n; ++i) out.push_back(b.next_delay());
    return out;
}

// The probe delay as backoff.h documents it for the engine.
std::vector<Duration> grown_probe(Duration interval, const std::vector<bool>& refused,
                                  Lcg random) {
    GrowingDelay probe({interval, std::max(interval, Duration(std::chrono::seconds(1))), 200,
                        Jitter::below(50)},
                       random);
    std::vector<Duration> out;
    for (bool r : refused) {
        out.push_back(probe.jittered());
        if (r) probe.grow();
    }
    return out;
}

// Early BIND as media_path.cpp configures it.
std::vector<Duration> grown_early_bind(Duration retransmit, int n) {
    GrowingDelay bind({retransmit, std::max(retransmit, Duration(std::chrono::seconds(1))), 200,
                       Jitter::none()});
    std::vector<Duration> out;
    for (int i = 0; i < n; ++i) out.push_back(bind.next());
    return out;
}

}  // namespace

TEST(backoff_sequences_are_those_of_the_hand_rolled_backoff) {
    const BackoffPolicy policies[] = {
        policy(250, 5000, 200, 20), policy(100, 1000, 150, 20), policy(1, 86'400'000, 1000, 100),
        policy(300, 300, 100, 0),   policy(7, 333, 137, 45),    policy(86'400'000, 86'400'000, 200, 20)};
    for (const BackoffPolicy& p : policies) {
        for (uint64_t seed = 1; seed <= 50; ++seed) {
            CHECK(grown_backoff(p, Lcg{seed}, 40) == reference_backoff(p, Lcg{seed}, 40));
        }
    }
    // The defaults with the random source at its middle: no jitter.
    Backoff b(BackoffPolicy{}, constant(0.5));
    std::vector<int64_t> got;
    for (int i = 0; i < 7; ++i) got.push_back(ms(b.next_delay()));
    CHECK((got == std::vector<int64_t>{250, 500, 1000, 2000, 4000, 5000, 5000}));
}

TEST(probe_sequences_are_those_of_the_hand_rolled_probe_delay) {
    const int64_t intervals[] = {1, 50, 100, 333, 999, 1000, 1001, 5000, 86'400'000};
    for (int64_t interval : intervals) {
        for (uint64_t seed = 1; seed <= 50; ++seed) {
            std::vector<bool> refused;
            Lcg pattern{seed * 7919};
            for (int i = 0; i < 30; ++i) refused.push_back(pattern() < 0.6);
            CHECK(grown_probe(millis(interval), refused, Lcg{seed}) ==
                  reference_probe(millis(interval), refused, Lcg{seed}));
        }
    }
    // Within [1/2, 1] of 100, 200, 400, 800, 1000 (capped) ms: the random source at 0 and ~1.
    std::vector<int64_t> low, high;
    GrowingDelay top({millis(100), millis(1000), 200, Jitter::below(50)}, constant(0.999999));
    for (int i = 0; i < 6; ++i) {
        high.push_back(ms(top.jittered()));
        top.grow();
    }
    CHECK((high == std::vector<int64_t>{99, 199, 399, 799, 999, 999}));
    GrowingDelay bottom({millis(100), millis(1000), 200, Jitter::below(50)}, constant(0.0));
    for (int i = 0; i < 6; ++i) {
        low.push_back(ms(bottom.jittered()));
        bottom.grow();
    }
    CHECK((low == std::vector<int64_t>{50, 100, 200, 400, 500, 500}));
    bottom.reset();
    CHECK_EQ(ms(bottom.current()), int64_t{100});
}

TEST(early_bind_sequences_are_those_of_the_hand_rolled_retransmits) {
    const int64_t retransmits[] = {1, 7, 100, 250, 999, 1000, 1500, 86'400'000};
    for (int64_t r : retransmits) {
        CHECK(grown_early_bind(millis(r), 20) == reference_early_bind(millis(r), 20));
    }
    std::vector<int64_t> got;
    for (Duration d : grown_early_bind(millis(100), 7)) got.push_back(ms(d));
    CHECK((got == std::vector<int64_t>{100, 200, 400, 800, 1000, 1000, 1000}));
}

TEST(growing_delay_counts_steps_and_resets) {
    GrowingDelay d({millis(10), millis(40), 200, Jitter::none()});
    CHECK_EQ(ms(d.next()), int64_t{10});
    CHECK_EQ(ms(d.jittered()), int64_t{20});  // no growth
    d.grow();                                  // no step
    CHECK_EQ(d.steps(), 1);
    CHECK_EQ(ms(d.next()), int64_t{40});
    CHECK_EQ(ms(d.next()), int64_t{40});
    CHECK_EQ(d.steps(), 3);
    d.reset();
    CHECK_EQ(d.steps(), 0);
    CHECK_EQ(ms(d.next()), int64_t{10});
}

TEST_MAIN()
