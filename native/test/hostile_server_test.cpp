// The core against a hostile server, one mechanism per case, on a manual clock where time
// matters: the per-wakeup read budget (read_budget.h), liveness from valid frames only, reconnect
// damping (reconnect_driver.h) and the presence cap (presence.h). The Java suite
// HostileServer*Test drives the same attacks end to end against a scripted server.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "clocked_engines.h"
#include "clocked_scene.h"
#include "event_loop.h"
#include "presence.h"
#include "read_budget.h"
#include "roomlink/roomlink.h"
#include "signal_connection.h"
#include "test_support.h"
#include "wire_codec.h"

using roomlink::millis;
using test::ClockedScene;
using test::fast_options;
using test::joined;
using Times = std::vector<int64_t>;

namespace {

std::vector<uint8_t> frame_of(const roomlink::wire::Message& message) {
    std::vector<uint8_t> bytes;
    roomlink::wire::encode_frame(message, bytes);
    return bytes;
}

size_t count_events(const ClockedScene::Member& m, int32_t type) {
    return static_cast<size_t>(std::count_if(m.events.begin(), m.events.end(),
                                             [type](const test::Event& e) { return e.type == type; }));
}

// Counts what a SignalConnection reports.
struct CountingListener : roomlink::SignalConnection::Listener {
    bool connected = false;
    size_t messages = 0;
    bool closed = false;
    void on_signal_connected(roomlink::SignalConnection&) override { connected = true; }
    void on_signal_message(roomlink::SignalConnection&, roomlink::wire::Message&) override {
        ++messages;
    }
    void on_signal_closed(roomlink::SignalConnection&, const std::string&, bool) override {
        closed = true;
    }
};

}  // namespace

// --- the read budget ---------------------------------------------------------------------------

TEST(read_budget_counts_down_to_exhaustion) {
    roomlink::ReadBudget budget(100);
    CHECK(budget.spend(60));
    CHECK(!budget.exhausted());
    CHECK(!budget.spend(60));  // past the budget: stop after this read
    CHECK(budget.exhausted());
}

TEST(pong_flood_is_read_a_budget_per_wakeup_and_due_timers_run_between) {
    roomlink::ManualClock clock;
    roomlink::EventLoop loop(clock);
    loop.run_once(roomlink::Duration::zero());
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(listen(listener, 4) == 0);
    socklen_t len = sizeof a;
    getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);

    CountingListener counts;
    roomlink::SignalConnection connection(loop, &counts);
    std::string error;
    REQUIRE(connection.connect(*roomlink::SocketAddress::from_numeric("127.0.0.1", ntohs(a.sin_port)),
                               &error));
    int server = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    REQUIRE(server >= 0);
    for (int i = 0; i < 100 && !counts.connected; ++i) loop.run_once(millis(10));
    REQUIRE(counts.connected);

    // Fill the connection with unsolicited PONGs (the flood), as much as the kernel buffers.
    const std::vector<uint8_t> pong = frame_of(roomlink::wire::Pong{1ULL << 40});
    std::vector<uint8_t> burst;
    for (int i = 0; i < 4096; ++i) burst.insert(burst.end(), pong.begin(), pong.end());
    size_t written = 0;
    for (;;) {
        ssize_t n = ::send(server, burst.data(), burst.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n <= 0) break;
        written += static_cast<size_t>(n);
    }
    REQUIRE(written > 4 * roomlink::kSignalReadBytesPerWakeup);

    size_t seen_by_timer = 0;
    bool fired = false;
    loop.schedule_after(roomlink::Duration::zero(), [&] {
        fired = true;
        seen_by_timer = counts.messages;
    });
    loop.run_once(roomlink::Duration::zero());
    CHECK(fired);  // the timer ran in the same round as the flooded read
    CHECK(seen_by_timer > 0);
    // One wakeup: the budget plus at most the frames of the read that crossed it.
    CHECK(seen_by_timer * pong.size() <= roomlink::kSignalReadBytesPerWakeup + 16384);
    CHECK(!counts.closed);
    close(server);
    close(listener);
}

// --- liveness ----------------------------------------------------------------------------------

TEST(byte_trickle_of_unsolicited_pongs_is_not_liveness_the_stalled_signal_migrates) {
    ClockedScene scene;
    auto& e = joined(scene, fast_options(scene));
    scene.advance_to(1000);
    scene.server.config().answer_signal_ping = false;
    // One byte every 100 ms: complete, valid PONG frames now and then, none answering a PING.
    const std::vector<uint8_t> pong = frame_of(roomlink::wire::Pong{1ULL << 40});
    size_t next = 0;
    while (scene.now_ms() < 2000) {
        scene.server.send_bytes_to_all({pong[next++ % pong.size()]});
        scene.advance(100);
    }
    // The last PONG answered the PING of 1000: silent from then, migrated at the signal timeout
    // (media stayed healthy, so silently: the app sees no state change).
    const Times resumed = scene.ms_of(scene.server.stats().resumed_at);
    REQUIRE(!resumed.empty());
    CHECK(resumed[0] >= 1500 && resumed[0] <= 1700);
    CHECK_EQ(e.events.size(), size_t{3});  // CONNECTING, CONNECTED, JOIN_RESULT only
    CHECK_EQ(e.state(), RL_STATE_CONNECTED);
}

TEST(trickle_with_both_paths_silent_ends_in_an_outage_not_connected_forever) {
    ClockedScene scene;
    auto& e = joined(scene, fast_options(scene));
    scene.advance_to(1000);
    scene.server.config().answer_signal_ping = false;
    scene.server.config().answer_media_ping = false;
    scene.server.config().close_new_connections = true;
    while (scene.now_ms() < 3000 && e.state() == RL_STATE_CONNECTED) {
        scene.server.send_bytes_to_all({0x00});  // the first byte of a frame that never ends
        scene.advance(100);
    }
    CHECK_EQ(e.state(), RL_STATE_RECONNECTING);
    CHECK(scene.now_ms() <= 1800);
}

TEST(made_up_media_pongs_are_not_liveness_the_media_loss_is_reported_at_the_timeout) {
    ClockedScene scene;
    auto& e = joined(scene, fast_options(scene));
    scene.advance_to(1000);
    scene.server.config().answer_media_ping = false;
    // PONGs for the session's key, but echoing no PING the engine sent (1 ns after the epoch, or
    // the far future), every 10 ms.
    while (scene.now_ms() < 2000) {
        scene.server.send_media_pong_to_bound(1);
        scene.server.send_media_pong_to_bound(UINT64_MAX / 2);
        scene.advance(10);
    }
    // (The loopback server answers the reconnect's RESUME and BIND at once: CONNECTED again.)
    const size_t first_outage = static_cast<size_t>(
        std::find_if(e.events.begin(), e.events.end(),
                     [](const test::TimedEvent& ev) { return ev.type == RL_EVENT_RECONNECTING_START; }) -
        e.events.begin());
    REQUIRE(first_outage < e.events.size());
    CHECK_EQ(e.events[first_outage - 1].b, RL_REASON_MEDIA_CONNECTION_DISCONNECTED);
    // The last real PONG answered the PING of about 1000: lost the clean path's silence
    // threshold later (50 + 100 + 10 x 25 + 100 = 500 ms: keepalive.h), as without the forgeries.
    CHECK(e.events[first_outage].at_ms >= 1450 && e.events[first_outage].at_ms <= 1550);
}

// --- reconnect damping -------------------------------------------------------------------------

TEST(server_answering_twice_before_the_bind_gets_backed_off_attempts_then_the_join_timeout) {
    test::LoopbackConfig config;
    config.answer_twice = true;  // the second answer is a protocol error: the attempt fails
    ClockedScene scene(config);
    auto& e = scene.add_engine(scene.options());  // the default backoff: 250 ms doubling to 5 s
    REQUIRE_EQ(e.join(), RL_OK);
    scene.advance_to(10000);
    CHECK((scene.ms_of(scene.server.stats().accepted_at) == Times{0, 250, 750, 1750, 3750, 7750}));
    EXPECT_TIMELINE(e.events, 0,
                    {{0, RL_EVENT_STATE_CHANGED, RL_STATE_CONNECTING, RL_REASON_JOIN_CHANNEL},
                     {10000, RL_EVENT_STATE_CHANGED, RL_STATE_FAILED, RL_REASON_JOIN_CHANNEL_FAILED},
                     {10000, RL_EVENT_JOIN_RESULT, RL_ERR_JOIN_TIMEOUT, 0}});
}

TEST(server_answering_twice_once_connected_gets_damped_reconnects_not_a_tight_loop) {
    ClockedScene scene;
    auto& e = scene.add_engine(scene.options());  // the default backoff: 250 ms doubling to 5 s
    // Every time the session is up the server repeats its answer: a protocol error, an outage.
    e.on_event = [&scene](const test::TimedEvent& ev) {
        if (ev.type == RL_EVENT_STATE_CHANGED && ev.a == RL_STATE_CONNECTED) {
            scene.server.send_to_all(roomlink::wire::JoinOk{7, 1000, {}, "127.0.0.1", 1, 0});
        }
    };
    REQUIRE_EQ(e.join(), RL_OK);
    scene.advance_to(10000);
    const Times accepted = scene.ms_of(scene.server.stats().accepted_at);
    const Times resumed = scene.ms_of(scene.server.stats().resumed_at);
    // The first short session's RESUME at once but 100 ms after the last attempt reached the
    // server; then the backoff, not reset by sessions this short: 250, 500, ... Each held
    // attempt goes out on the probe that found the server up during its hold, so there is one
    // connection per attempt, no more (the last hold's probe is parked at the end).
    CHECK((resumed == Times{100, 350, 850, 1850, 3850, 7850}));
    for (size_t i = 1; i < resumed.size(); ++i) CHECK(resumed[i] - resumed[i - 1] >= 100);
    CHECK_EQ(accepted.size(), resumed.size() + 2);  // and the join's, and the parked probe
    CHECK_EQ(count_events(e, RL_EVENT_RECONNECTING_START), resumed.size() + 1);
    CHECK_EQ(count_events(e, RL_EVENT_REJOIN_RESULT), resumed.size());
}

TEST(a_stable_session_earns_an_immediate_attempt_and_a_fresh_backoff) {
    ClockedScene scene;
    auto& e = joined(scene, fast_options(scene));
    // Two short sessions in a row: the second outage waits for the backoff.
    scene.advance_to(1000);
    scene.server.drop_all_connections();
    scene.advance_to(1500);
    scene.server.drop_all_connections();
    scene.advance_to(8000);  // a session of 6.4 s
    scene.server.drop_all_connections();
    scene.advance_to(9000);
    CHECK((scene.ms_of(scene.server.stats().resumed_at) == Times{1000, 1600, 8000}));
    CHECK_EQ(e.state(), RL_STATE_CONNECTED);
}

TEST(outages_found_by_silence_are_not_damped_the_first_attempt_goes_at_once) {
    ClockedScene scene;
    auto& e = joined(scene, fast_options(scene));
    scene.advance_to(1000);
    scene.server.config().answer_media_ping = false;  // every session dies of media silence
    scene.advance_to(5000);
    std::vector<int64_t> lost;
    for (const auto& ev : e.events) {
        if (ev.type == RL_EVENT_RECONNECTING_START) lost.push_back(ev.at_ms);
    }
    REQUIRE(lost.size() >= 3);  // short sessions in a row
    const Times resumed = scene.ms_of(scene.server.stats().resumed_at);
    CHECK(resumed == lost);  // each outage's RESUME at the instant it was detected
}

// --- the presence cap --------------------------------------------------------------------------

TEST(presence_past_the_cap_is_dropped_and_counted) {
    roomlink::EventEmitter events(roomlink::EventSink{});
    roomlink::Presence presence(events, 3);
    for (uint64_t uid = 1; uid <= 5; ++uid) presence.deliver({true, uid, 0});
    CHECK_EQ(presence.known(), size_t{3});
    CHECK_EQ(presence.dropped(), uint64_t{2});
    presence.deliver({false, 2, RL_USER_LEAVE_NORMAL});
    presence.deliver({true, 5, 0});  // room again
    CHECK_EQ(presence.known(), size_t{3});
    presence.reconcile({10, 11, 12, 13});
    CHECK_EQ(presence.known(), size_t{3});
}

TEST(presence_snapshot_is_bounded_under_churn_and_keeps_announcement_order) {
    roomlink::PresenceSnapshot snapshot(4);
    snapshot.add({true, 1, 0});
    snapshot.add({true, 2, 0});
    snapshot.add({true, 3, 0});
    snapshot.add({false, 2, 0});
    snapshot.add({true, 2, 0});
    for (int i = 0; i < 100000; ++i) {
        snapshot.add({true, 9, 0});
        snapshot.add({false, 9, 0});
    }
    snapshot.add({true, 4, 0});
    snapshot.add({true, 5, 0});  // past the cap of 4
    CHECK_EQ(snapshot.dropped(), size_t{1});
    CHECK((snapshot.take() == std::vector<uint64_t>{1, 3, 2, 4}));
}

TEST(endless_peer_joined_reports_at_most_the_cap) {
    test::LoopbackConfig config;
    for (uint64_t uid = 1; uid <= roomlink::kDefaultMaxPeers + 500; ++uid) config.peers.push_back(uid);
    ClockedScene scene(config);
    auto& e = scene.add_engine(fast_options(scene));
    REQUIRE_EQ(e.join(), RL_OK);
    scene.advance_to(100);
    CHECK_EQ(e.state(), RL_STATE_CONNECTED);
    CHECK_EQ(count_events(e, RL_EVENT_USER_JOINED), roomlink::kDefaultMaxPeers);
    // More, live: none is reported.
    for (uint64_t uid = 100000; uid < 100500; ++uid) {
        scene.server.send_to_all(roomlink::wire::PeerJoined{uid});
    }
    scene.advance_to(200);
    CHECK_EQ(count_events(e, RL_EVENT_USER_JOINED), roomlink::kDefaultMaxPeers);
}

TEST(the_peer_cap_is_the_engine_option) {
    test::LoopbackConfig config;
    for (uint64_t uid = 1; uid <= 300; ++uid) config.peers.push_back(uid);
    ClockedScene scene(config);
    roomlink::EngineOptions o = fast_options(scene);
    o.max_peers = 100;
    auto& e = scene.add_engine(o);
    REQUIRE_EQ(e.join(), RL_OK);
    scene.advance_to(100);
    CHECK_EQ(e.state(), RL_STATE_CONNECTED);
    CHECK_EQ(count_events(e, RL_EVENT_USER_JOINED), size_t{100});
    // One leaves: room for the next one announced.
    scene.server.send_to_all(roomlink::wire::PeerLeft{1, RL_USER_LEAVE_NORMAL});
    scene.server.send_to_all(roomlink::wire::PeerJoined{1000});
    scene.advance_to(200);
    CHECK_EQ(count_events(e, RL_EVENT_USER_LEFT), size_t{1});
    CHECK_EQ(count_events(e, RL_EVENT_USER_JOINED), size_t{101});
    CHECK_EQ(e.events.back().x, int64_t{1000});
}

TEST_MAIN()
