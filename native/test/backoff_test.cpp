#include "backoff.h"

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

TEST_MAIN()
