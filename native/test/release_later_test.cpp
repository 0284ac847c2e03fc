// EventLoop::release_later / close_and_release: an object dropped inside its own callback stops
// at once and is freed only after the current dispatch.
#include <memory>

#include "clock.h"
#include "event_loop.h"
#include "test_support.h"

using namespace roomlink;

namespace {

struct Tracked {
    explicit Tracked(int* freed_count) : freed(freed_count) {}
    ~Tracked() { ++*freed; }
    void close() { closed = true; }
    int* freed;
    bool closed = false;
};

}  // namespace

TEST(an_object_released_in_a_timer_lives_until_the_dispatch_ends) {
    MonotonicClock clock;
    EventLoop loop(clock);
    int freed = 0;
    auto owned = std::make_unique<Tracked>(&freed);
    Tracked* raw = owned.get();
    bool still_alive_after_release = false;
    loop.schedule_after(Duration::zero(), [&] {
        loop.close_and_release(std::move(owned));
        // Inside the same dispatch the object is closed but not freed.
        still_alive_after_release = raw->closed && freed == 0;
    });
    loop.run_once(millis(100));
    CHECK(still_alive_after_release);
    CHECK_EQ(freed, 1);
}

TEST(a_released_object_whose_destructor_releases_another_frees_both) {
    MonotonicClock clock;
    EventLoop loop(clock);
    int freed = 0;
    struct Chain {
        Chain(EventLoop& l, int* f) : loop(l), inner(std::make_unique<Tracked>(f)) {}
        ~Chain() { loop.release_later(std::move(inner)); }
        EventLoop& loop;
        std::unique_ptr<Tracked> inner;
    };
    auto chain = std::make_unique<Chain>(loop, &freed);
    loop.post([&] { loop.release_later(std::move(chain)); });
    loop.run_once(millis(100));
    CHECK_EQ(freed, 1);
}

TEST(the_loop_frees_what_is_still_released_when_it_goes) {
    MonotonicClock clock;
    int freed = 0;
    {
        EventLoop loop(clock);
        loop.run_once(Duration::zero());  // this thread is the loop's now
        loop.release_later(std::make_unique<Tracked>(&freed));
        CHECK_EQ(freed, 0);
    }
    CHECK_EQ(freed, 1);
}

TEST_MAIN()
