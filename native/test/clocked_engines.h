// Engines in a ClockedScene with the short timers most clocked scenarios use, and joining them
// with the exact opening timeline asserted. Shared by engine_clock_test and hostile_server_test.
#ifndef ROOMLINK_TEST_CLOCKED_ENGINES_H
#define ROOMLINK_TEST_CLOCKED_ENGINES_H

#include "clocked_scene.h"
#include "roomlink/roomlink.h"
#include "test_support.h"

namespace test {

// Short timers, so that each scenario needs few steps: signal PING every 100 ms (lost after
// 600), media PING every 50 ms (lost after 600), retries after 100, 200, 400, 400 ... ms.
inline roomlink::EngineOptions fast_options(const ClockedScene& scene) {
    roomlink::EngineOptions o = scene.options();
    o.signal_keepalive = roomlink::millis(100);
    o.signal_timeout = roomlink::millis(600);
    o.media_keepalive = roomlink::millis(50);
    o.media_timeout = roomlink::millis(600);
    o.backoff.initial = roomlink::millis(100);
    o.backoff.max = roomlink::millis(400);
    o.probe_interval = roomlink::millis(50);
    return o;
}

// Joins at the current instant, which is also when CONNECTED is reported.
inline void join_now(ClockedScene& scene, ClockedScene::Member& m) {
    const int64_t t = scene.now_ms();
    const size_t from = m.events.size();
    REQUIRE_EQ(m.join(), RL_OK);
    scene.settle();
    EXPECT_TIMELINE(m.events, from,
                    {{t, RL_EVENT_STATE_CHANGED, RL_STATE_CONNECTING, RL_REASON_JOIN_CHANNEL},
                     {t, RL_EVENT_STATE_CHANGED, RL_STATE_CONNECTED, RL_REASON_JOIN_SUCCEED},
                     {t, RL_EVENT_JOIN_RESULT, RL_OK, 0}});
    REQUIRE_EQ(m.state(), RL_STATE_CONNECTED);
}

inline ClockedScene::Member& joined(ClockedScene& scene, roomlink::EngineOptions o) {
    auto& m = scene.add_engine(std::move(o));
    join_now(scene, m);
    return m;
}

}  // namespace test

#endif
