// The media replay window (replay_window.h): every counter is accepted once, in any order within
// 128 of the newest, and never again.
#include "replay_window.h"

#include <cstdint>

#include "test_support.h"

using roomlink::ReplayWindow;

TEST(counter_zero_is_never_fresh) {
    ReplayWindow w;
    CHECK(!w.fresh(0));
}

TEST(each_counter_is_accepted_once) {
    ReplayWindow w;
    for (uint64_t c = 1; c <= 300; ++c) {
        CHECK(w.fresh(c));
        w.accept(c);
        CHECK(!w.fresh(c));
        CHECK(!w.fresh(c - 1 == 0 ? 1 : c - 1) || c == 1);
    }
}

TEST(reordering_within_the_window_is_accepted_and_older_is_a_replay) {
    ReplayWindow w;
    w.accept(1000);
    CHECK(w.fresh(1000 - 127));  // the oldest the window still holds
    CHECK(!w.fresh(1000 - 128));  // just behind it
    for (uint64_t c = 999; c > 1000 - 128; c -= 3) {
        CHECK(w.fresh(c));
        w.accept(c);
        CHECK(!w.fresh(c));
    }
    CHECK(w.fresh(998));  // untouched counters inside stay fresh
}

TEST(a_jump_forward_keeps_what_is_still_inside) {
    ReplayWindow w;
    w.accept(10);
    w.accept(12);
    w.accept(80);  // a shift by 68: the bits move across the two words
    CHECK(!w.fresh(10));
    CHECK(!w.fresh(12));
    CHECK(w.fresh(11));
    CHECK(!w.fresh(80));
    w.accept(200);  // 120 further: 80 is still inside, 12 no longer
    CHECK(!w.fresh(80));
    CHECK(w.fresh(81));
    CHECK(!w.fresh(12));
    w.accept(1'000'000);  // past the whole window
    CHECK(!w.fresh(200));
    CHECK(w.fresh(1'000'000 - 1));
}

TEST(the_highest_counters_work) {
    ReplayWindow w;
    const uint64_t top = UINT64_MAX - 1;
    CHECK(w.fresh(top));
    w.accept(top);
    CHECK(!w.fresh(top));
    CHECK(w.fresh(top - 5));
    CHECK(w.fresh(UINT64_MAX));
}

TEST_MAIN()
