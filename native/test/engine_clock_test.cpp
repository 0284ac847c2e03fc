// The engine's timing, on a manual clock: an Engine and a ClockedLoopbackServer share one
// EventLoop (clocked_scene.h), so every deadline is asserted at the exact millisecond it falls
// on, and a scenario of many seconds runs in a few milliseconds of real time.
//
// Loopback answers within the step that sent the request, so a join completes at the instant
// it was asked for. Backoff jitter is off (ClockedScene::options) unless a test says otherwise.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <vector>

#include "clocked_engines.h"
#include "clocked_scene.h"
#include "roomlink/roomlink.h"
#include "test_support.h"

using test::At;
using test::ClockedScene;
using test::TimedEvent;
using test::fast_options;
using test::joined;
using test::join_now;
using roomlink::millis;

namespace {

constexpr int32_t kSC = RL_EVENT_STATE_CHANGED;
using Times = std::vector<int64_t>;

// A server that reads JOIN and never answers it.
test::LoopbackConfig unanswered_joins() {
    test::LoopbackConfig config;
    config.join_reply = test::LoopbackJoinReply::kNone;
    return config;
}

// A join asked for at 0 that gives up at `at` with `code`.
std::vector<At> join_failed(int64_t at, int32_t code) {
    return {{0, kSC, RL_STATE_CONNECTING, RL_REASON_JOIN_CHANNEL},
            {at, kSC, RL_STATE_FAILED, RL_REASON_JOIN_CHANNEL_FAILED},
            {at, RL_EVENT_JOIN_RESULT, code, 0}};
}

// An outage reported at `lost_at` for `reason`, and the session resumed at `rejoined_at`.
std::vector<At> outage_then_rejoin(int64_t lost_at, int32_t reason, int64_t rejoined_at) {
    return {{lost_at, kSC, RL_STATE_RECONNECTING, reason},
            {lost_at, RL_EVENT_RECONNECTING_START, 0, 0},
            {rejoined_at, kSC, RL_STATE_CONNECTED, RL_REASON_REJOIN_SUCCEED},
            {rejoined_at, RL_EVENT_REJOIN_RESULT, RL_OK, 0}};
}

// Runs `heal` at the instant the engine reports an outage, before its first attempt goes out.
void heal_when_reconnecting(ClockedScene::Member& e, std::function<void()> heal) {
    e.on_event = [heal = std::move(heal)](const TimedEvent& ev) {
        if (ev.type == RL_EVENT_RECONNECTING_START) heal();
    };
}

}  // namespace

// --- join timeout: the three codes -----------------------------------------------------------

// An engine with the given join timeout that has just asked to join.
ClockedScene::Member& joining(ClockedScene& scene, int64_t join_timeout_ms) {
    roomlink::EngineOptions o = scene.options();
    o.join_timeout = millis(join_timeout_ms);
    auto& e = scene.add_engine(o);
    REQUIRE_EQ(e.join(), RL_OK);
    return e;
}

TEST(refused_connect_fails_at_the_join_timeout_with_connect_failed) {
    ClockedScene scene;
    scene.server.stop_listening();
    auto& e = joining(scene, 600);
    scene.advance_to(2000);
    EXPECT_TIMELINE(e.events, 0, join_failed(600, RL_ERR_CONNECT_FAILED));
    REQUIRE_EQ(e.events.size(), size_t{3});
    CHECK_EQ(e.events[2].y, int64_t{600});  // elapsed ms
    CHECK_EQ(e.events[2].z, int64_t{42});   // uid
    CHECK_EQ(e.state(), RL_STATE_FAILED);
}

TEST(unanswered_join_fails_at_the_join_timeout_with_join_timeout) {
    ClockedScene scene(unanswered_joins());
    auto& e = joining(scene, 700);
    scene.advance_to(2000);
    EXPECT_TIMELINE(e.events, 0, join_failed(700, RL_ERR_JOIN_TIMEOUT));
    // One JOIN only: an acknowledged request is waited for (longer than this join timeout).
    CHECK((scene.ms_of(scene.server.stats().joined_at) == Times{0}));
    CHECK_EQ(scene.server.stats().leaves, 1);  // said at the give-up
}

TEST(unacknowledged_bind_fails_at_the_join_timeout_with_media_bind_timeout) {
    test::LoopbackConfig config;
    config.answer_bind = false;
    ClockedScene scene(config);
    auto& e = joining(scene, 700);
    scene.advance_to(2000);
    EXPECT_TIMELINE(e.events, 0, join_failed(700, RL_ERR_MEDIA_BIND_TIMEOUT));
    // BIND every bind_retransmit (100 ms) from JOIN_OK on: 0, 100, ... 600.
    CHECK_EQ(scene.server.stats().binds, 7);
    CHECK_EQ(scene.server.stats().leaves, 1);  // the half-made session is left politely
}

TEST(shutdown_while_connecting_cancels_every_timer_and_closes_every_socket) {
    ClockedScene scene(unanswered_joins());
    auto& e = joining(scene, 300);
    scene.advance_to(100);
    CHECK_EQ(scene.server.stats().open_connections, 1);
    e.engine->shutdown();
    scene.advance_to(5000);  // well past the join timeout and any retry it had armed
    CHECK_EQ(e.events.size(), size_t{1});  // CONNECTING only
    const auto& s = scene.server.stats();
    CHECK_EQ(s.open_connections, 0);
    CHECK_EQ(s.accepted, 1);
    CHECK_EQ(s.leaves, 1);  // its JOIN had gone out: the half-made session is left
}

// --- busy server ------------------------------------------------------------------------------

TEST(acknowledged_but_unanswered_request_is_waited_for_twice_the_signal_timeout) {
    ClockedScene scene(unanswered_joins());
    auto& e = scene.add_engine(scene.options());  // signal_timeout 1500, backoff 250 x2
    REQUIRE_EQ(e.join(), RL_OK);
    scene.advance_to(10500);
    // Each attempt is given 2 x 1500 ms, then replaced after the backoff (250, 500, ...); the
    // silent one stays open until its successor goes out.
    const auto& s = scene.server.stats();
    CHECK((scene.ms_of(s.joined_at) == Times{0, 3250, 6750}));
    CHECK((scene.ms_of(s.client_closed_at) == Times{3250, 6750}));
    EXPECT_TIMELINE(e.events, 0, join_failed(10000, RL_ERR_JOIN_TIMEOUT));
    CHECK_EQ(s.leaves, 1);  // the third attempt's connection says LEAVE at the give-up
    CHECK_EQ(s.open_connections, 0);
}

// --- backoff ----------------------------------------------------------------------------------

TEST(attempts_follow_the_backoff_schedule_exactly) {
    test::LoopbackConfig config;
    config.close_new_connections = true;  // reached, but never answered: no probes either
    ClockedScene scene(config);
    roomlink::EngineOptions o = fast_options(scene);
    o.join_timeout = millis(2000);
    auto& e = scene.add_engine(o);
    REQUIRE_EQ(e.join(), RL_OK);
    scene.advance_to(3000);
    // 100, 200, 400, then the 400 ms cap.
    const Times want{0, 100, 300, 700, 1100, 1500, 1900};
    CHECK((scene.ms_of(scene.server.stats().accepted_at) == want));
    EXPECT_TIMELINE(e.events, 0, join_failed(2000, RL_ERR_JOIN_TIMEOUT));
}

TEST(jittered_reconnect_attempts_stay_within_the_jitter_window) {
    ClockedScene scene;
    roomlink::EngineOptions o = fast_options(scene);
    o.backoff.jitter_pct = 20;
    o.reconnect_timeout = millis(3000);
    auto& e = joined(scene, o);
    scene.advance_to(1000);
    scene.server.config().close_new_connections = true;
    scene.server.drop_all_connections();
    scene.advance_to(4500);
    const Times accepted = scene.ms_of(scene.server.stats().accepted_at);
    // The first attempt at once, each next one after base +/- 20 % (base 100, 200, 400, 400 ...),
    // seen at the first whole millisecond at or after it.
    REQUIRE(accepted.size() >= 8);
    CHECK_EQ(accepted[0], int64_t{0});
    CHECK_EQ(accepted[1], int64_t{1000});
    int64_t base = 100;
    for (size_t i = 2; i < accepted.size(); ++i) {
        const int64_t gap = accepted[i] - accepted[i - 1];
        if (gap < base * 8 / 10 || gap > base * 12 / 10) {
            test::fail(__FILE__, __LINE__, "attempt " + std::to_string(i) + " after " +
                                               std::to_string(gap) + " ms, base " +
                                               std::to_string(base));
        }
        base = std::min<int64_t>(base * 2, 400);
    }
    CHECK(accepted.back() < 4000);  // none after the reconnect timeout
    EXPECT_TIMELINE(e.events, 3,
                    {{1000, kSC, RL_STATE_RECONNECTING, RL_REASON_SIGNAL_DISCONNECTED},
                     {1000, RL_EVENT_RECONNECTING_START, 0, 0},
                     {4000, kSC, RL_STATE_FAILED, RL_REASON_TIMEOUT},
                     {4000, RL_EVENT_DISCONNECT, RL_ERR_RECONNECT_TIMEOUT, 0}});
}

// --- reconnecting -----------------------------------------------------------------------------

TEST(reset_signal_is_reported_and_resumed_at_once) {
    ClockedScene scene;
    auto& e = joined(scene, fast_options(scene));
    scene.advance_to(1000);
    scene.server.drop_all_connections();
    scene.advance_to(2000);
    EXPECT_TIMELINE(e.events, 3, outage_then_rejoin(1000, RL_REASON_SIGNAL_DISCONNECTED, 1000));
    CHECK((scene.ms_of(scene.server.stats().resumed_at) == Times{1000}));
}

TEST(reconnect_gives_up_at_the_reconnect_timeout) {
    ClockedScene scene;
    roomlink::EngineOptions o = fast_options(scene);
    o.reconnect_timeout = millis(800);
    auto& e = joined(scene, o);
    scene.advance_to(1000);
    scene.server.stop_listening();
    scene.server.drop_all_connections();
    scene.advance_to(2500);
    EXPECT_TIMELINE(e.events, 3,
                    {{1000, kSC, RL_STATE_RECONNECTING, RL_REASON_SIGNAL_DISCONNECTED},
                     {1000, RL_EVENT_RECONNECTING_START, 0, 0},
                     {1800, kSC, RL_STATE_FAILED, RL_REASON_TIMEOUT},
                     {1800, RL_EVENT_DISCONNECT, RL_ERR_RECONNECT_TIMEOUT, 0}});
    CHECK_EQ(e.state(), RL_STATE_FAILED);
    // Nothing is left trying: a listening server sees no connect until the app joins again.
    scene.server.resume_listening();
    scene.advance_to(5000);
    CHECK_EQ(scene.server.stats().accepted, 1);
    join_now(scene, e);
    CHECK_EQ(scene.server.stats().accepted, 2);
}

TEST(silent_reconnect_attempt_is_kept_open_and_answered_before_the_next_one) {
    ClockedScene scene;
    roomlink::EngineOptions o = fast_options(scene);
    o.backoff.initial = millis(3000);  // the next attempt would come only after 3 s
    o.backoff.max = millis(3000);
    auto& e = joined(scene, o);
    scene.advance_to(1000);
    scene.server.config().stall_new_connections = true;
    scene.server.drop_all_connections();
    // The attempt's RESUME is held; after 2 x 600 ms (an acknowledged request) it counts as
    // failed at 2200, the next attempt is due at 5200, but its connection stays open.
    scene.advance_to(2500);
    CHECK_EQ(scene.server.stats().stalled_frames, 1);  // the RESUME; no PING before the answer
    scene.server.unstall_connections_but_last(0);
    scene.advance_to(6000);
    EXPECT_TIMELINE(e.events, 3, outage_then_rejoin(1000, RL_REASON_SIGNAL_DISCONNECTED, 2500));
    CHECK((scene.ms_of(scene.server.stats().accepted_at) == Times{0, 1000}));
}

// A silent (parked) attempt that the server then closes (its idle timeout; after a cut, the FIN
// arrives with the restore): the close proves the path is back, so the retry goes out at once
// instead of in its backoff slot, 2.7 s later here.
TEST(parked_attempt_closed_by_the_server_is_retried_at_once) {
    ClockedScene scene;
    roomlink::EngineOptions o = fast_options(scene);
    o.backoff.initial = millis(3000);
    o.backoff.max = millis(3000);
    auto& e = joined(scene, o);
    scene.advance_to(1000);
    scene.server.config().stall_new_connections = true;
    scene.server.drop_all_connections();
    scene.advance_to(2500);  // parked at 2200; its successor is due at 5200
    scene.server.config().stall_new_connections = false;
    scene.server.drop_all_connections();
    scene.advance_to(6000);
    EXPECT_TIMELINE(e.events, 3, outage_then_rejoin(1000, RL_REASON_SIGNAL_DISCONNECTED, 2500));
    CHECK((scene.ms_of(scene.server.stats().accepted_at) == Times{0, 1000, 2500}));
}

// A server restart from now until `back_at` (connections reset, connects refused); runs until
// the engine has `events` events (the last its rejoin, by `until`) and returns when that was,
// checked to be within one probe interval (100 ms in these tests) of the server's return:
// refused probes keep the probe interval, jittered within [1/2, 1] of it.
int64_t refused_until(ClockedScene& scene, ClockedScene::Member& e, int64_t back_at, size_t events,
                      int64_t until) {
    scene.server.stop_listening();
    scene.server.drop_all_connections();
    scene.advance_to(back_at);
    scene.server.resume_listening();
    REQUIRE(scene.advance_until([&] { return e.events.size() == events; }, until));
    const int64_t rejoined = scene.now_ms();
    std::fprintf(stderr, "    measured: rejoined at %lld ms, server back at %lld\n",
                 static_cast<long long>(rejoined), static_cast<long long>(back_at));
    CHECK(rejoined > back_at);
    CHECK(rejoined <= back_at + 100);
    return rejoined;
}

TEST(recovery_starts_within_a_probe_interval_of_the_server_returning_despite_long_backoff) {
    ClockedScene scene;
    roomlink::EngineOptions o = fast_options(scene);
    o.backoff.initial = millis(1000);
    o.backoff.multiplier_pct = 400;  // attempts at 0, 1 s, 5 s after the outage
    o.backoff.max = millis(10000);
    o.probe_interval = millis(100);
    o.reconnect_timeout = millis(20000);
    auto& e = joined(scene, o);
    scene.advance_to(1000);
    // Back at 2500: past the second attempt, into the 4 s wait before the third.
    const int64_t rejoined = refused_until(scene, e, 2500, 7, 6000);
    EXPECT_TIMELINE(e.events, 3,
                    outage_then_rejoin(1000, RL_REASON_SIGNAL_DISCONNECTED, rejoined));
    // The probe's connection carried the RESUME.
    CHECK((scene.ms_of(scene.server.stats().accepted_at) == Times{0, rejoined}));
}

// A second session in a row ended by the server earns a held first attempt (reconnect_driver.h).
// Returns the engine at 1500 ms, after a first reset at 1000 that was resumed at once.
ClockedScene::Member& reset_once(ClockedScene& scene, roomlink::EngineOptions o) {
    o.backoff.initial = millis(1000);  // the hold: the backoff's first step
    o.probe_interval = millis(100);
    auto& e = joined(scene, o);
    scene.advance_to(1000);
    scene.server.drop_all_connections();
    scene.advance_to(1500);
    return e;
}

TEST(a_held_first_attempt_gives_way_to_a_probe_once_the_path_was_down) {
    ClockedScene scene;
    auto& e = reset_once(scene, fast_options(scene));
    // Held until 2500, but the server is back at 1800: within one probe interval of it, not at
    // the hold's end.
    const int64_t rejoined = refused_until(scene, e, 1800, 11, 4000);
    std::vector<At> want = outage_then_rejoin(1000, RL_REASON_SIGNAL_DISCONNECTED, 1000);
    for (const At& a : outage_then_rejoin(1500, RL_REASON_SIGNAL_DISCONNECTED, rejoined)) want.push_back(a);
    EXPECT_TIMELINE(e.events, 3, want);
}

TEST(a_held_first_attempt_stands_while_the_server_is_reachable) {
    ClockedScene scene;
    auto& e = reset_once(scene, fast_options(scene));
    scene.server.drop_all_connections();  // the server ends a second short session and stays up
    REQUIRE(scene.advance_until([&] { return e.events.size() == 11; }, 4000));
    std::vector<At> want = outage_then_rejoin(1000, RL_REASON_SIGNAL_DISCONNECTED, 1000);
    for (const At& a : outage_then_rejoin(1500, RL_REASON_SIGNAL_DISCONNECTED, 2500)) want.push_back(a);
    EXPECT_TIMELINE(e.events, 3, want);
    // The first probe reached the server and was parked: it carried the RESUME at the hold's end.
    const Times accepted = scene.ms_of(scene.server.stats().accepted_at);
    REQUIRE_EQ(accepted.size(), size_t{3});
    CHECK(accepted[2] > 1500 && accepted[2] <= 1600);
    CHECK((scene.ms_of(scene.server.stats().resumed_at) == Times{1000, 2500}));
}

TEST(network_change_notification_retries_at_once) {
    ClockedScene scene;
    roomlink::EngineOptions o = fast_options(scene);
    o.backoff.initial = millis(5000);
    o.backoff.max = millis(5000);
    o.probe_interval = millis(10000);  // no probe within the test: only the notification helps
    auto& e = joined(scene, o);
    scene.advance_to(1000);
    scene.server.stop_listening();
    scene.server.drop_all_connections();
    scene.advance_to(1200);  // the first attempt was refused; the next is due at 6000
    scene.server.resume_listening();
    e.engine->notify_network_changed();
    scene.advance_to(2000);
    EXPECT_TIMELINE(e.events, 3, outage_then_rejoin(1000, RL_REASON_SIGNAL_DISCONNECTED, 1200));
}

// --- silence ----------------------------------------------------------------------------------

// fast_options' media keepalive 50 ms / timeout 600 ms on the manual clock, where every RTT
// measured is 0: a clean path, whose silence threshold (keepalive.h) is
// 50 + 100 (the rto's floor) + 10 x 25 (fast pings) + 100 = 500 ms, within the 600 ms cap.
TEST(silent_media_is_detected_at_the_silence_threshold_and_reported_once) {
    ClockedScene scene;
    auto& e = joined(scene, fast_options(scene));
    scene.advance_to(1010);  // the media PING at 1000 was answered
    scene.server.config().answer_media_ping = false;
    heal_when_reconnecting(e, [&] { scene.server.config().answer_media_ping = true; });
    scene.advance_to(4000);
    EXPECT_TIMELINE(e.events, 3,
                    outage_then_rejoin(1500, RL_REASON_MEDIA_CONNECTION_DISCONNECTED, 1500));
}

TEST(reconnected_media_path_judges_silence_by_the_last_paths_round_trips) {
    ClockedScene scene;
    roomlink::EngineOptions o = fast_options(scene);
    o.media_keepalive = millis(500);  // the media defaults: threshold 950 ms once measured
    o.media_timeout = millis(1500);
    auto& e = joined(scene, o);
    scene.advance_to(1010);  // PONGs at 500 and 1000 measured the path
    scene.server.config().answer_media_ping = false;  // the new media path never gets a PONG
    int outages = 0;
    e.on_event = [&](const TimedEvent& ev) {
        if (ev.type == RL_EVENT_RECONNECTING_START && ++outages == 2) {
            scene.server.config().answer_media_ping = true;
        }
    };
    scene.server.drop_all_connections();  // a reset: resumed at once, on a new media path
    scene.advance_to(4000);
    // The new path starts from the old one's RTT estimate: lost 950 ms after its bind at 1010,
    // not at the 1500 ms cap it would use until its first PONG.
    std::vector<At> want = outage_then_rejoin(1010, RL_REASON_SIGNAL_DISCONNECTED, 1010);
    for (const At& at : outage_then_rejoin(1960, RL_REASON_MEDIA_CONNECTION_DISCONNECTED, 1960)) {
        want.push_back(at);
    }
    EXPECT_TIMELINE(e.events, 3, want);
}

TEST(both_paths_silent_is_an_outage_at_the_media_silence_threshold) {
    ClockedScene scene;
    roomlink::EngineOptions o = fast_options(scene);
    // Signal silent before media's threshold runs out, so that the engine asks media first.
    o.signal_timeout = millis(400);
    auto& e = joined(scene, o);
    scene.advance_to(1060);  // media last answered at 1050, signal at 1000
    scene.server.config().answer_media_ping = false;
    scene.server.config().stall_new_connections = true;
    scene.server.stall_connections();
    heal_when_reconnecting(e, [&] {
        scene.server.config().answer_media_ping = true;
        scene.server.config().stall_new_connections = false;
    });
    scene.advance_to(4000);
    // At 1400 the signal is silent for its timeout and media's last PONG (1050) is recent: the
    // engine asks media with a PING out of turn, which gets no answer, so no migration starts;
    // at 1550 media is lost as well, its threshold (500 ms) after it last spoke, not
    // 2 x signal_timeout after the signal did. The only new connection is the reconnect's.
    EXPECT_TIMELINE(e.events, 3,
                    outage_then_rejoin(1550, RL_REASON_MEDIA_CONNECTION_DISCONNECTED, 1550));
    CHECK((scene.ms_of(scene.server.stats().accepted_at) == Times{0, 1550}));
}

// --- signal stall: migration --------------------------------------------------------------------
//
// Defaults: signal PING every 1000 ms, timeout 1500; media PING every 500 ms, timeout 1500.
// Joined at 0, the signal PING at 1000 is answered; the stall begins at 1200, so the signal was
// last heard at 1000. At 2500 the engine asks media (a PING out of turn); its PONG, on loopback,
// is read in the next loop step, so the migration starts at 2501.

TEST(signal_stall_with_healthy_media_migrates_silently_after_the_signal_timeout) {
    for (bool server_closes_old : {true, false}) {
        test::LoopbackConfig config;
        config.peers = {99, 100};
        config.close_replaced = server_closes_old;
        ClockedScene scene(config);
        auto& e = scene.add_engine(scene.options());
        REQUIRE_EQ(e.join(), RL_OK);
        scene.advance_to(1200);
        REQUIRE_EQ(e.events.size(), size_t{5});  // SC, SC, JOIN_RESULT, USER_JOINED x2
        const uint64_t media_key = scene.server.stats().last_join.media_key;
        // While stalled, 99 leaves and 101 arrives: the stalled connection never delivers it;
        // the new connection's replay of the receiver stream (after the RESUME's lastReceived)
        // does. There is no snapshot after RESUME_OK(resumed=1).
        scene.server.config().peers = {100, 101};
        scene.server.stall_connections();
        scene.server.send_to_all(roomlink::wire::PeerLeft{99, RL_USER_LEAVE_NORMAL});
        scene.server.send_to_all(roomlink::wire::PeerJoined{101});
        scene.advance_to(2501);
        EXPECT_TIMELINE(e.events, 5,
                        {{2501, RL_EVENT_USER_LEFT, RL_USER_LEAVE_NORMAL, 0},
                         {2501, RL_EVENT_USER_JOINED, 0, 0}});
        REQUIRE_EQ(e.events.size(), size_t{7});
        CHECK_EQ(e.events[5].x, int64_t{99});
        CHECK_EQ(e.events[6].x, int64_t{101});
        const auto& s = scene.server.stats();
        CHECK((scene.ms_of(s.resumed_at) == Times{2501}));
        REQUIRE_EQ(s.resumed_media_keys.size(), size_t{1});
        CHECK_EQ(s.resumed_media_keys[0], media_key);  // the media binding is untouched
        CHECK_EQ(s.open_connections, 1);               // the old one is gone at once
        if (!server_closes_old) {
            CHECK((scene.ms_of(s.client_closed_at) == Times{2501}));  // reset by the client
            CHECK_EQ(s.resets, 1);
        }
        // Well past 2 x signal_timeout on the new connection: nothing more is reported.
        const int pings = s.signal_pings;
        scene.advance_to(6000);
        CHECK(scene.server.stats().signal_pings >= pings + 3);
        CHECK_EQ(e.events.size(), size_t{7});
        CHECK_EQ(e.state(), RL_STATE_CONNECTED);
        CHECK_EQ(scene.server.stats().joins, 1);
    }
}

// The server rotates the session secret at every RESUME_OK (the loopback server too): the engine
// must keep the one the migration's answer carried, or its next RESUME is refused and it joins
// afresh (a second JOIN) instead of resuming.
TEST(after_a_migration_the_next_resume_presents_the_rotated_secret) {
    ClockedScene scene;
    auto& e = scene.add_engine(scene.options());
    REQUIRE_EQ(e.join(), RL_OK);
    scene.advance_to(1200);
    scene.server.stall_connections();
    scene.advance_to(2600);  // migrated at 2501
    REQUIRE_EQ(scene.server.stats().resumes, 1);
    scene.server.drop_all_connections();
    scene.advance_to(5000);
    CHECK_EQ(scene.server.stats().resumes, 2);
    CHECK_EQ(scene.server.stats().joins, 1);
    CHECK_EQ(e.state(), RL_STATE_CONNECTED);
}

// From 1200 on every signal connection stalls, the open one and any new one (a migration's).
ClockedScene::Member& joined_then_stalled_at_1200(ClockedScene& scene) {
    auto& e = joined(scene, scene.options());
    scene.advance_to(1200);
    scene.server.config().stall_new_connections = true;
    scene.server.stall_connections();
    return e;
}

TEST(signal_stall_with_unanswered_migration_is_an_outage_at_twice_the_timeout) {
    ClockedScene scene;
    auto& e = joined_then_stalled_at_1200(scene);
    heal_when_reconnecting(e, [&] { scene.server.config().stall_new_connections = false; });
    scene.advance_to(6000);
    EXPECT_TIMELINE(e.events, 3, outage_then_rejoin(4000, RL_REASON_SIGNAL_DISCONNECTED, 4000));
    CHECK((scene.ms_of(scene.server.stats().accepted_at) == Times{0, 2501, 4000}));
}

TEST(unanswered_migration_is_abandoned_when_the_old_connection_recovers) {
    ClockedScene scene;
    auto& e = joined_then_stalled_at_1200(scene);
    scene.advance_to(3000);
    CHECK((scene.ms_of(scene.server.stats().accepted_at) == Times{0, 2501}));
    scene.server.unstall_connections_but_last(1);  // the old connection's PINGs answered now
    scene.advance_to(8000);
    const auto& s = scene.server.stats();
    // The migration is dropped, with a reset, one signal_timeout after it began.
    CHECK((scene.ms_of(s.client_closed_at) == Times{4001}));
    CHECK_EQ(s.resets, 1);
    CHECK_EQ(s.open_connections, 1);
    CHECK_EQ(s.resumes, 0);
    CHECK_EQ(e.events.size(), size_t{3});  // nothing reported
    CHECK_EQ(e.state(), RL_STATE_CONNECTED);
}

TEST(expired_session_found_by_migration_is_reported_as_an_outage) {
    test::LoopbackConfig config;
    config.resume_fresh = true;  // RESUME answers resumed=0: the grace period had run out
    ClockedScene scene(config);
    auto& e = joined(scene, scene.options());
    scene.advance_to(1200);
    scene.server.stall_connections();
    scene.advance_to(4000);
    EXPECT_TIMELINE(e.events, 3, outage_then_rejoin(2501, RL_REASON_SIGNAL_DISCONNECTED, 2501));
    // The migration's RESUME, then the reconnect's (of the fresh session).
    CHECK((scene.ms_of(scene.server.stats().resumed_at) == Times{2501, 2501}));
}

// --- room messages (docs/PROTOCOL.md, "Room messages") --------------------------------------

namespace {

int32_t send_text(ClockedScene::Member& e, const std::string& text, int32_t directed = 0,
                  int64_t to_uid = 0) {
    return e.engine->send_message(directed, to_uid, reinterpret_cast<const uint8_t*>(text.data()),
                                  static_cast<int32_t>(text.size()));
}

roomlink::wire::RoomMessage room_text(uint64_t from, const std::string& text) {
    return roomlink::wire::RoomMessage{from, 0, std::vector<uint8_t>(text.begin(), text.end())};
}

// Copies each RL_EVENT_MESSAGE's data inside the callback (the pointer dies with it).
void record_messages(ClockedScene::Member& e, std::vector<std::string>* out) {
    e.on_event = [out](const TimedEvent& ev) {
        if (ev.type == RL_EVENT_MESSAGE) {
            out->emplace_back(reinterpret_cast<const char*>(static_cast<intptr_t>(ev.y)),
                              static_cast<size_t>(ev.a));
        }
    };
}

std::vector<std::string> accepted_texts(const test::LoopbackStats& s) {
    std::vector<std::string> out;
    for (const auto& m : s.messages) out.emplace_back(m.data.begin(), m.data.end());
    return out;
}

size_t count_of(const std::vector<TimedEvent>& events, int32_t type) {
    return static_cast<size_t>(std::count_if(events.begin(), events.end(),
                                             [type](const TimedEvent& ev) { return ev.type == type; }));
}

}  // namespace

TEST(messages_queued_during_an_outage_are_sent_exactly_once_after_resume) {
    ClockedScene scene;
    auto& e = joined(scene, fast_options(scene));
    scene.advance_to(100);
    REQUIRE_EQ(send_text(e, "m1"), RL_OK);
    REQUIRE_EQ(send_text(e, "m2"), RL_OK);
    scene.advance_to(1000);
    CHECK((scene.server.stats().message_seqs == std::vector<uint64_t>{1, 2}));
    scene.server.stop_listening();
    scene.server.drop_all_connections();
    scene.settle();
    REQUIRE_EQ(e.state(), RL_STATE_RECONNECTING);
    REQUIRE_EQ(send_text(e, "m3"), RL_OK);  // queued while reconnecting
    REQUIRE_EQ(send_text(e, "m4"), RL_OK);
    REQUIRE_EQ(send_text(e, "m5", 1, 43), RL_OK);
    scene.advance_to(1050);
    scene.server.resume_listening();
    scene.advance_to(3000);
    REQUIRE_EQ(e.state(), RL_STATE_CONNECTED);
    const auto& s = scene.server.stats();
    REQUIRE_EQ(s.resumes, 1);
    CHECK((s.last_received == std::vector<uint64_t>{0}));
    // RESUME_OK(lastAccepted=2): the rest numbered 3.., each sent once.
    CHECK((s.message_seqs == std::vector<uint64_t>{1, 2, 3, 4, 5}));
    CHECK_EQ(s.duplicate_messages, 0);
    CHECK((accepted_texts(s) == std::vector<std::string>{"m1", "m2", "m3", "m4", "m5"}));
    REQUIRE_EQ(s.messages.size(), size_t{5});
    CHECK_EQ(int{s.messages[4].target}, 1);
    CHECK_EQ(s.messages[4].to_uid, uint64_t{43});
    CHECK_EQ(count_of(e.events, RL_EVENT_MESSAGES_UNDELIVERED), size_t{0});
}

TEST(resume_ok_last_accepted_drops_what_the_server_took_without_an_ack) {
    test::LoopbackConfig config;
    config.ack_messages = false;  // taken, never acknowledged: only lastAccepted tells
    ClockedScene scene(config);
    auto& e = joined(scene, fast_options(scene));
    for (const char* text : {"a", "b", "c"}) REQUIRE_EQ(send_text(e, text), RL_OK);
    scene.advance_to(500);
    scene.server.stop_listening();
    scene.server.drop_all_connections();
    scene.settle();
    REQUIRE_EQ(send_text(e, "d"), RL_OK);
    REQUIRE_EQ(send_text(e, "e"), RL_OK);
    scene.server.resume_listening();
    scene.advance_to(2000);
    REQUIRE_EQ(e.state(), RL_STATE_CONNECTED);
    const auto& s = scene.server.stats();
    CHECK((s.message_seqs == std::vector<uint64_t>{1, 2, 3, 4, 5}));  // a, b, c never again
    CHECK_EQ(s.duplicate_messages, 0);
    CHECK((accepted_texts(s) == std::vector<std::string>{"a", "b", "c", "d", "e"}));
    // The leave carries them; LEAVE_OK acknowledges everything before it: nothing is lost.
    REQUIRE_EQ(e.engine->leave(), RL_OK);
    scene.advance(100);
    CHECK_EQ(scene.server.stats().leaves, 1);
    CHECK_EQ(count_of(e.events, RL_EVENT_MESSAGES_UNDELIVERED), size_t{0});
}

TEST(a_replay_after_a_migration_is_deduplicated) {
    test::LoopbackConfig config;
    ClockedScene scene(config);
    auto& e = scene.add_engine(scene.options());
    std::vector<std::string> got;
    record_messages(e, &got);
    REQUIRE_EQ(e.join(), RL_OK);
    scene.advance_to(100);
    scene.server.send_to_all(room_text(7, "a"));  // item 1
    scene.advance_to(1200);
    CHECK((got == std::vector<std::string>{"a"}));
    CHECK((scene.server.stats().stream_acks == std::vector<uint64_t>{1}));
    CHECK((scene.ms_of(scene.server.stats().stream_acks_at) == Times{120}));  // within 20 ms
    scene.server.stall_connections();
    scene.server.config().stall_new_connections = true;  // the migration's RESUME is held
    scene.advance_to(2501);
    REQUIRE_EQ(scene.server.stats().accepted, 2);  // the migration connected
    scene.server.config().stall_new_connections = false;
    // The old connection recovers and delivers item 2 after the RESUME (lastReceived=1) left.
    scene.server.unstall_connections_but_last(1);
    scene.server.send_to_all(room_text(7, "b"));
    scene.advance_to(2505);
    CHECK((got == std::vector<std::string>{"a", "b"}));
    // Now the RESUME is handled: RESUME_OK(resumed=1), then the replay of item 2: a duplicate.
    scene.server.unstall_connections_but_last(0);
    scene.advance_to(2510);
    CHECK((scene.server.stats().last_received == std::vector<uint64_t>{1}));
    scene.server.send_to_all(room_text(8, "c"));  // item 3, on the new connection
    scene.advance_to(4000);
    CHECK((got == std::vector<std::string>{"a", "b", "c"}));
    CHECK_EQ(e.state(), RL_STATE_CONNECTED);
    CHECK_EQ(count_of(e.events, RL_EVENT_RECONNECTING_START), size_t{0});
    CHECK_EQ(scene.server.stats().stream_acks.back(), uint64_t{3});
}

TEST(the_barrier_holds_stream_items_in_order_until_connected) {
    test::LoopbackConfig config;
    config.answer_bind = false;
    ClockedScene scene(config);
    auto& e = scene.add_engine(fast_options(scene));
    std::vector<std::string> got;
    record_messages(e, &got);
    REQUIRE_EQ(e.join(), RL_OK);
    scene.advance_to(10);
    // After JOIN_OK, before BIND_ACK: items 1 and 2.
    scene.server.send_to_all(roomlink::wire::PeerJoined{7});
    scene.server.send_to_all(room_text(7, "early"));
    scene.advance_to(50);
    CHECK(got.empty());
    CHECK_EQ(e.state(), RL_STATE_CONNECTING);
    scene.server.config().answer_bind = true;  // the BIND retransmitted at 100 is answered
    scene.advance_to(200);
    EXPECT_TIMELINE(e.events, 1,
                    {{100, kSC, RL_STATE_CONNECTED, RL_REASON_JOIN_SUCCEED},
                     {100, RL_EVENT_JOIN_RESULT, RL_OK, 0},
                     {100, RL_EVENT_USER_JOINED, 0, 0},
                     {100, RL_EVENT_MESSAGE, 5, 0}});
    REQUIRE_EQ(e.events.size(), size_t{5});
    CHECK_EQ(e.events[4].x, int64_t{7});
    CHECK((got == std::vector<std::string>{"early"}));
    CHECK((scene.server.stats().stream_acks == std::vector<uint64_t>{2}));
    CHECK((scene.ms_of(scene.server.stats().stream_acks_at) == Times{120}));
}

TEST(thirty_two_items_are_acknowledged_at_once) {
    ClockedScene scene;
    auto& e = joined(scene, fast_options(scene));
    scene.advance_to(10);
    for (int i = 0; i < 33; ++i) scene.server.send_to_all(room_text(7, "x"));
    scene.advance_to(40);
    CHECK_EQ(count_of(e.events, RL_EVENT_MESSAGE), size_t{33});
    CHECK((scene.server.stats().stream_acks == std::vector<uint64_t>{32, 33}));
    CHECK((scene.ms_of(scene.server.stats().stream_acks_at) == Times{10, 30}));
}

TEST(messages_undelivered_are_reported_at_the_reconnect_timeout) {
    ClockedScene scene;
    roomlink::EngineOptions o = fast_options(scene);
    o.reconnect_timeout = millis(800);
    auto& e = joined(scene, o);
    scene.advance_to(1000);
    scene.server.stop_listening();
    scene.server.drop_all_connections();
    scene.settle();
    REQUIRE_EQ(send_text(e, "lost-1"), RL_OK);
    REQUIRE_EQ(send_text(e, "lost-2"), RL_OK);
    scene.advance_to(2500);
    EXPECT_TIMELINE(e.events, 3,
                    {{1000, kSC, RL_STATE_RECONNECTING, RL_REASON_SIGNAL_DISCONNECTED},
                     {1000, RL_EVENT_RECONNECTING_START, 0, 0},
                     {1800, kSC, RL_STATE_FAILED, RL_REASON_TIMEOUT},
                     {1800, RL_EVENT_DISCONNECT, RL_ERR_RECONNECT_TIMEOUT, 0},
                     {1800, RL_EVENT_MESSAGES_UNDELIVERED, 2, RL_ERR_RECONNECT_TIMEOUT}});
    CHECK_EQ(send_text(e, "too late"), RL_ERR_NOT_JOINED);
}

TEST(messages_undelivered_are_reported_after_a_kick) {
    test::LoopbackConfig config;
    config.ack_messages = false;
    ClockedScene scene(config);
    auto& e = joined(scene, fast_options(scene));
    REQUIRE_EQ(send_text(e, "x"), RL_OK);
    REQUIRE_EQ(send_text(e, "y"), RL_OK);
    scene.advance_to(100);
    const size_t from = e.events.size();
    scene.server.send_to_all(roomlink::wire::SessionEnd{RL_ERR_SERVER_KICKED, "kicked"}, true);
    scene.advance_to(200);
    REQUIRE_EQ(e.events.size(), from + 3);
    CHECK_EQ(e.events[from].type, kSC);
    EXPECT_TIMELINE(e.events, from + 1,
                    {{100, RL_EVENT_DISCONNECT, RL_ERR_SERVER_KICKED, 0},
                     {100, RL_EVENT_MESSAGES_UNDELIVERED, 2, RL_ERR_SERVER_KICKED}});
}

TEST(leave_while_reconnecting_reports_the_queued_messages_undelivered) {
    ClockedScene scene;
    auto& e = joined(scene, fast_options(scene));
    scene.advance_to(100);
    scene.server.stop_listening();
    scene.server.drop_all_connections();
    scene.settle();
    REQUIRE_EQ(send_text(e, "q"), RL_OK);
    REQUIRE_EQ(e.engine->leave(), RL_OK);
    scene.advance_to(200);
    EXPECT_TIMELINE(e.events, 5,
                    {{100, kSC, RL_STATE_DISCONNECTED, RL_REASON_LEAVE_CHANNEL},
                     {100, RL_EVENT_LEAVE_RESULT, RL_OK, 0},
                     {100, RL_EVENT_MESSAGES_UNDELIVERED, 1, RL_ERR_SIGNAL_DISCONNECTED}});
}

TEST(replay_overflow_ends_the_session_and_joins_afresh_keeping_the_queue) {
    test::LoopbackConfig config;
    config.ack_messages = false;
    ClockedScene scene(config);
    auto& e = joined(scene, fast_options(scene));
    REQUIRE_EQ(send_text(e, "one"), RL_OK);
    REQUIRE_EQ(send_text(e, "two"), RL_OK);
    scene.advance_to(1000);
    scene.server.send_to_all(
        roomlink::wire::SessionEnd{RL_ERR_REPLAY_OVERFLOW, "replay buffer overflow"}, true);
    scene.advance_to(3000);
    CHECK_EQ(e.state(), RL_STATE_CONNECTED);
    const auto& s = scene.server.stats();
    CHECK_EQ(s.joins, 2);
    CHECK_EQ(s.resumes, 0);
    // The new session knows nothing of the old queue: numbered from 1 again, sent once.
    CHECK((s.message_seqs == std::vector<uint64_t>{1, 2, 1, 2}));
    REQUIRE_EQ(s.messages.size(), size_t{4});
    CHECK(s.messages[2].session_id != s.messages[0].session_id);
    CHECK_EQ(count_of(e.events, RL_EVENT_MESSAGES_UNDELIVERED), size_t{0});
    CHECK_EQ(count_of(e.events, RL_EVENT_RECONNECTING_START), size_t{1});
    CHECK_EQ(count_of(e.events, RL_EVENT_REJOIN_RESULT), size_t{1});
}

TEST(a_message_ack_beyond_what_was_sent_drops_the_connection) {
    ClockedScene scene;
    auto& e = joined(scene, fast_options(scene));
    scene.advance_to(150);
    scene.server.send_to_all(roomlink::wire::MessageAck{5});
    scene.advance_to(1000);
    EXPECT_TIMELINE(e.events, 3, outage_then_rejoin(150, RL_REASON_SIGNAL_DISCONNECTED, 150));
}

TEST(a_resume_replays_what_the_room_said_while_away_without_a_snapshot) {
    test::LoopbackConfig config;
    config.peers = {99, 100};
    ClockedScene scene(config);
    auto& e = scene.add_engine(fast_options(scene));
    std::vector<std::string> got;
    record_messages(e, &got);
    REQUIRE_EQ(e.join(), RL_OK);
    scene.advance_to(500);
    REQUIRE_EQ(e.events.size(), size_t{5});  // SC, SC, JOIN_RESULT, USER_JOINED x2
    scene.server.stop_listening();
    scene.server.drop_all_connections();
    scene.settle();
    // While away: 99 leaves, 100 says something, 101 arrives (the snapshot would now be {100, 101},
    // but a resumed session gets the stream, not a snapshot).
    scene.server.config().peers = {};
    scene.server.stream_to_sessions(roomlink::wire::PeerLeft{99, RL_USER_LEAVE_TIMEOUT});
    scene.server.stream_to_sessions(room_text(100, "while away"));
    scene.server.stream_to_sessions(roomlink::wire::PeerJoined{101});
    scene.server.resume_listening();
    scene.advance_to(2000);
    REQUIRE_EQ(e.state(), RL_STATE_CONNECTED);
    const size_t from = 5 + 4;  // the outage and the rejoin
    REQUIRE_EQ(e.events.size(), from + 3);
    CHECK_EQ(e.events[from].type, RL_EVENT_USER_LEFT);
    CHECK_EQ(e.events[from].a, RL_USER_LEAVE_TIMEOUT);
    CHECK_EQ(e.events[from].x, int64_t{99});
    CHECK_EQ(e.events[from + 1].type, RL_EVENT_MESSAGE);
    CHECK_EQ(e.events[from + 1].x, int64_t{100});
    CHECK_EQ(e.events[from + 2].type, RL_EVENT_USER_JOINED);
    CHECK_EQ(e.events[from + 2].x, int64_t{101});
    CHECK((got == std::vector<std::string>{"while away"}));
    CHECK_EQ(count_of(e.events, RL_EVENT_USER_LEFT), size_t{1});  // 100 stayed: no flap
}

TEST_MAIN()
