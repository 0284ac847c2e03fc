// Engines and a ClockedLoopbackServer on one EventLoop, driven by a ManualClock from the test's
// thread: time moves only when the test advances it, one millisecond per step, and at each step
// the loop runs until the exchange that step set off has come to rest. Loopback sockets deliver
// within the sending system call, so "at rest" is observable: several loop rounds in a row in
// which neither the server handled a socket event nor an engine reported an event. Every event is
// recorded with the manual-clock instant (ms after the scene began) at which it was reported.
#ifndef ROOMLINK_TEST_CLOCKED_SCENE_H
#define ROOMLINK_TEST_CLOCKED_SCENE_H

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "clock.h"
#include "clocked_loopback_server.h"
#include "engine.h"
#include "engine_support.h"
#include "event_loop.h"
#include "test_support.h"

namespace test {

// An engine event and the manual-clock instant at which it was reported (its mono_ns is unused:
// the engine stamps events with the wall clock).
struct TimedEvent : Event {
    int64_t at_ms;  // ms after the scene began

    std::string str() const { return "@" + std::to_string(at_ms) + Event::str(); }
};

// The expected shape of one event: when, which, and its a / b.
struct At {
    int64_t at_ms;
    int32_t type;
    int32_t a;
    int32_t b;
};

class ClockedScene {
public:
    struct Member {
        ClockedScene* scene = nullptr;
        std::shared_ptr<roomlink::Engine> engine;
        std::vector<TimedEvent> events;
        // Runs inside the engine's callback, on the loop: lets a test react at the very instant.
        std::function<void(const TimedEvent&)> on_event;

        int32_t state() const { return engine->state(); }
        int32_t join(const char* channel = "room", int64_t uid = 42, const char* token = "tok") {
            return engine->join(token, channel, uid);
        }
    };

    explicit ClockedScene(LoopbackConfig config = LoopbackConfig())
        : server(loop, std::move(config)), start_(clock.now()) {
        loop.run_once(roomlink::Duration::zero());  // this thread is the loop thread from now on
    }

    ~ClockedScene() {
        for (auto& m : members_) m->engine->shutdown();  // on the loop thread: completes in settle
        // A LEAVE may linger (leave_linger) on the loop's timers: let it end before the loop does.
        advance(kLingerBound);
    }

    ClockedScene(const ClockedScene&) = delete;
    ClockedScene& operator=(const ClockedScene&) = delete;

    // Defaults except the server's address, no backoff jitter, so retries come at exact times,
    // and no host network events: an interface another process adds would probe mid-scene.
    // host_network_test.cpp turns them back on and feeds the watcher its own batches.
    roomlink::EngineOptions options() const {
        roomlink::EngineOptions o;
        o.app_key = "test-app";
        o.server_host = "127.0.0.1";
        o.server_port = server.signal_port();
        o.backoff.jitter_pct = 0;
        o.network_watcher = false;
        return o;
    }

    Member& add_engine(roomlink::EngineOptions o) {
        members_.push_back(std::make_unique<Member>());
        Member& m = *members_.back();
        m.scene = this;
        m.engine = roomlink::Engine::create(std::move(o), loop,
                                            roomlink::Engine::EventSink{&ClockedScene::sink, &m});
        return m;
    }

    int64_t now_ms() const { return roomlink::to_millis(clock.now() - start_); }
    roomlink::TimePoint at(int64_t ms) const { return start_ + roomlink::millis(ms); }
    int64_t ms_of(roomlink::TimePoint t) const { return roomlink::to_millis(t - start_); }
    std::vector<int64_t> ms_of(const std::vector<roomlink::TimePoint>& times) const {
        std::vector<int64_t> out;
        for (auto t : times) out.push_back(ms_of(t));
        return out;
    }

    // Runs the loop without moving the clock until nothing more happens.
    void settle() {
        constexpr int kQuietRounds = 4;
        constexpr int kMaxRounds = 100000;  // a livelock would otherwise hang the test
        uint64_t seen = signature();
        int quiet = 0;
        for (int round = 0; quiet < kQuietRounds; ++round) {
            if (round == kMaxRounds) {
                fail(__FILE__, __LINE__, "the loop never came to rest");
                return;
            }
            loop.run_once(roomlink::Duration::zero());
            const uint64_t now = signature();
            quiet = now == seen ? quiet + 1 : 0;
            seen = now;
        }
    }

    // Advances the clock to `ms` (after the scene began) one millisecond at a time.
    void advance_to(int64_t ms) {
        settle();
        while (now_ms() < ms) {
            clock.advance(roomlink::millis(1));
            settle();
        }
    }
    void advance(int64_t ms) { advance_to(now_ms() + ms); }

    // Advances until `condition` holds (checked after each step) or `limit_ms` is reached;
    // returns whether it held. now_ms() is then the first instant at which it held.
    bool advance_until(const std::function<bool()>& condition, int64_t limit_ms) {
        settle();
        while (!condition()) {
            if (now_ms() >= limit_ms) return false;
            clock.advance(roomlink::millis(1));
            settle();
        }
        return true;
    }

    roomlink::ManualClock clock;
    roomlink::EventLoop loop{clock};
    ClockedLoopbackServer server;

private:
    static constexpr int64_t kLingerBound = 1100;  // > the default leave_linger

    static void sink(void* user, int32_t type, int32_t a, int32_t b, int64_t x, int64_t y,
                     int64_t z, int64_t /*mono_ns: the wall clock, not the scene's*/) {
        Member& m = *static_cast<Member*>(user);
        m.events.push_back(TimedEvent{{type, a, b, x, y, z, 0}, m.scene->now_ms()});
        ++m.scene->event_count_;
        if (m.on_event) m.on_event(m.events.back());
    }

    uint64_t signature() const { return server.activity() * 1'000'003ULL + event_count_; }

    roomlink::TimePoint start_;
    uint64_t event_count_ = 0;
    std::vector<std::unique_ptr<Member>> members_;
};

// Expects events[from..] to be exactly `want`: instants, types, a and b.
inline void expect_timeline(const std::vector<TimedEvent>& events, size_t from,
                            const std::vector<At>& want, const char* file, int line) {
    expect_events(events, from, want, true,
                  [](const TimedEvent& e, const At& w) {
                      return e.at_ms == w.at_ms && e.type == w.type && e.a == w.a && e.b == w.b;
                  },
                  file, line);
}

#define EXPECT_TIMELINE(events, from, ...) \
    test::expect_timeline(events, from, __VA_ARGS__, __FILE__, __LINE__)

}  // namespace test

#endif
