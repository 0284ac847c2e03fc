// Engines driven end to end through the C ABI, on the library's own loop threads and the wall
// clock, against the in-test loopback server on its thread. What depends on timing (timeouts,
// backoff, silence, migration) is asserted to the millisecond on a manual clock instead, in
// engine_clock_test.cpp; the deadlines here only bound how long a test may hang.
#include <array>
#include <memory>
#include <string>

#include "engine_support.h"
#include "loopback_server.h"
#include "roomlink/roomlink.h"
#include "test_support.h"

using test::Event;
using test::LoopbackServer;
using test::Recorder;
using Stats = LoopbackServer::Stats;

namespace {

constexpr int32_t kSC = RL_EVENT_STATE_CHANGED;
const bool kLogging = test::enable_log_from_env();

// An engine bound to a recorder, destroyed at scope exit.
struct TestEngine {
    Recorder recorder;
    rl_engine* engine = nullptr;

    explicit TestEngine(const rl_engine_options& options) {
        int32_t error = -1;
        engine = rl_engine_create(&options, &Recorder::callback, &recorder, &error);
        REQUIRE(engine != nullptr);
        REQUIRE_EQ(error, RL_OK);
    }
    ~TestEngine() { rl_engine_destroy(engine); }

    int32_t join(const char* channel = "room", int64_t uid = 42, const char* token = "tok") {
        return rl_engine_join(engine, token, channel, uid);
    }
    int32_t state() const { return rl_engine_get_state(engine); }
    std::vector<Event> events() { return recorder.events(); }

    void join_and_wait_connected(const char* channel = "room", int64_t uid = 42) {
        size_t from = recorder.size();
        REQUIRE_EQ(join(channel, uid), RL_OK);
        REQUIRE(recorder.wait_for(RL_EVENT_JOIN_RESULT, std::nullopt, from));
        REQUIRE_EQ(state(), RL_STATE_CONNECTED);
    }
};

// Short timers so that outage scenarios finish quickly.
rl_engine_options fast_options(uint16_t port) {
    rl_engine_options o = test::options_for(port);
    o.signal_keepalive_ms = 100;
    o.signal_timeout_ms = 600;
    o.media_keepalive_ms = 50;
    o.media_timeout_ms = 600;
    o.backoff_initial_ms = 100;
    o.backoff_max_ms = 400;
    o.probe_interval_ms = 50;
    return o;
}

// A fast-timer engine joined to `server` and CONNECTED; `joined` is the index of its first event
// after the join, where what a test then does to the connection shows.
struct JoinedEngine : TestEngine {
    size_t joined = 0;

    explicit JoinedEngine(LoopbackServer& server) : TestEngine(fast_options(server.signal_port())) {
        join_and_wait_connected();
        joined = recorder.size();
    }
};

// An outage as the app sees it from `from` on: RECONNECTING (the signal connection lost), the
// reconnecting start, then `end` (the state it ends in) and `result` (the event that settles it,
// waited for). Returns the events; EXPECT_OUTAGE reports failures at the caller's line.
std::vector<Event> expect_outage(TestEngine& e, size_t from, std::array<int32_t, 3> end,
                                 std::array<int32_t, 3> result, const char* file, int line) {
    if (!e.recorder.wait_for(result[0], std::nullopt, from)) {
        test::fail(file, line, "no event " + std::to_string(result[0]) + " after the outage");
        throw test::Abort{};
    }
    std::vector<Event> events = e.events();
    test::expect_sequence(events, from,
                          {{kSC, RL_STATE_RECONNECTING, RL_REASON_SIGNAL_DISCONNECTED},
                           {RL_EVENT_RECONNECTING_START, 0, 0},
                           end,
                           result},
                          file, line);
    return events;
}

#define EXPECT_OUTAGE(e, from, ...) expect_outage(e, from, __VA_ARGS__, __FILE__, __LINE__)

// How an outage that the engine recovers from ends.
constexpr std::array<int32_t, 3> kRejoined = {kSC, RL_STATE_CONNECTED, RL_REASON_REJOIN_SUCCEED};
constexpr std::array<int32_t, 3> kRejoinOk = {RL_EVENT_REJOIN_RESULT, RL_OK, 0};

size_t count_type(const std::vector<Event>& events, int32_t type) {
    size_t n = 0;
    for (const auto& e : events) n += e.type == type ? 1 : 0;
    return n;
}

const Event* find_type(const std::vector<Event>& events, int32_t type, size_t from = 0) {
    for (size_t i = from; i < events.size(); ++i) {
        if (events[i].type == type) return &events[i];
    }
    return nullptr;
}

}  // namespace

// --- join / leave ---------------------------------------------------------------------------

TEST(join_reaches_connected_then_leave_disconnects) {
    LoopbackServer::Config config;
    config.peers = {99};
    LoopbackServer server(config);
    TestEngine e(test::options_for(server.signal_port()));

    CHECK_EQ(e.state(), RL_STATE_DISCONNECTED);
    REQUIRE_EQ(e.join("room", 42, "tok"), RL_OK);
    // Synchronously out of DISCONNECTED; on loopback the loop may already have connected.
    const int32_t after_join = e.state();
    CHECK(after_join == RL_STATE_CONNECTING || after_join == RL_STATE_CONNECTED);
    CHECK_EQ(e.join("room", 42, "tok"), RL_ERR_ALREADY_JOINED);
    REQUIRE(e.recorder.wait_for(RL_EVENT_USER_JOINED));
    CHECK_EQ(e.state(), RL_STATE_CONNECTED);
    CHECK_EQ(e.join("room", 42, "tok"), RL_ERR_ALREADY_JOINED);

    auto events = e.events();
    EXPECT_SEQUENCE(events, 0,
                    {{kSC, RL_STATE_CONNECTING, RL_REASON_JOIN_CHANNEL},
                     {kSC, RL_STATE_CONNECTED, RL_REASON_JOIN_SUCCEED},
                     {RL_EVENT_JOIN_RESULT, RL_OK, 0},
                     {RL_EVENT_USER_JOINED, 0, 0}});
    REQUIRE(events.size() == 4);
    CHECK_EQ(events[2].x, int64_t{7});     // channel id
    CHECK(events[2].y >= 0 && events[2].y < 5000);  // elapsed ms
    CHECK_EQ(events[2].z, int64_t{42});    // uid
    CHECK_EQ(events[3].x, int64_t{99});
    CHECK(events[0].mono_ns <= events[3].mono_ns && events[0].mono_ns > 0);

    Stats s = server.stats();
    CHECK_EQ(s.joins, 1);
    CHECK_EQ(s.last_join.app_key, std::string("test-app"));
    CHECK_EQ(s.last_join.channel, std::string("room"));
    CHECK_EQ(s.last_join.uid, uint64_t{42});
    CHECK_EQ(s.last_join.token, std::string("tok"));
    CHECK(s.last_join.media_key != 0);

    // Keepalives run on both paths while connected.
    CHECK(server.wait_for([](const Stats& st) { return st.signal_pings >= 1 && st.media_pings >= 2; }));

    // Peers come and go.
    server.send_to_all(roomlink::wire::PeerJoined{100});
    REQUIRE(e.recorder.wait_for(RL_EVENT_USER_JOINED, std::nullopt, 4));
    server.send_to_all(roomlink::wire::PeerLeft{100, RL_USER_LEAVE_KICKED});
    REQUIRE(e.recorder.wait_for(RL_EVENT_USER_LEFT));
    events = e.events();
    CHECK_EQ(events[4].x, int64_t{100});
    CHECK_EQ(events[5].a, int32_t{RL_USER_LEAVE_KICKED});
    CHECK_EQ(events[5].x, int64_t{100});

    size_t before_leave = e.recorder.size();
    REQUIRE_EQ(rl_engine_leave(e.engine), RL_OK);
    CHECK_EQ(e.state(), RL_STATE_DISCONNECTED);  // synchronously
    CHECK_EQ(rl_engine_leave(e.engine), RL_ERR_NOT_JOINED);
    REQUIRE(e.recorder.wait_for(RL_EVENT_LEAVE_RESULT));
    EXPECT_SEQUENCE(e.events(), before_leave,
                    {{kSC, RL_STATE_DISCONNECTED, RL_REASON_LEAVE_CHANNEL},
                     {RL_EVENT_LEAVE_RESULT, RL_OK, 0}});
    // The server hears LEAVE, so peers see a NORMAL leave.
    CHECK(server.wait_for([](const Stats& st) { return st.leaves == 1 && st.open_connections == 0; }));
    CHECK(e.recorder.all_on_loop_threads());
}

TEST(second_join_binds_media_in_parallel_with_join) {
    LoopbackServer::Config config;
    config.join_ok_delay = std::chrono::milliseconds(300);
    LoopbackServer server(config);
    TestEngine e(test::options_for(server.signal_port()));

    e.join_and_wait_connected();
    // First join: the media address was unknown, so BIND waited for JOIN_OK.
    CHECK_EQ(server.stats().binds_before_join_ok, 0);
    REQUIRE_EQ(rl_engine_leave(e.engine), RL_OK);
    REQUIRE(server.wait_for([](const Stats& st) { return st.leaves == 1; }));

    // Second join: the address is cached, so BIND is on its way before JOIN_OK comes back.
    e.join_and_wait_connected();
    CHECK(server.stats().binds_before_join_ok >= 1);
}

TEST(join_err_fails_the_join_with_the_server_code) {
    LoopbackServer::Config config;
    config.join_reply = LoopbackServer::JoinReply::kErr;
    config.join_err_code = RL_ERR_INVALID_TOKEN;
    LoopbackServer server(config);
    TestEngine e(test::options_for(server.signal_port()));

    REQUIRE_EQ(e.join(), RL_OK);
    REQUIRE(e.recorder.wait_for(RL_EVENT_JOIN_RESULT));
    auto events = e.events();
    EXPECT_SEQUENCE(events, 0,
                    {{kSC, RL_STATE_CONNECTING, RL_REASON_JOIN_CHANNEL},
                     {kSC, RL_STATE_FAILED, RL_REASON_REQUEST_CHANNEL_FAILED},
                     {RL_EVENT_JOIN_RESULT, RL_ERR_INVALID_TOKEN, 0}});
    CHECK_EQ(events[2].x, int64_t{0});
    CHECK_EQ(events[2].z, int64_t{42});
    CHECK_EQ(e.state(), RL_STATE_FAILED);
    CHECK_EQ(rl_engine_leave(e.engine), RL_ERR_NOT_JOINED);

    // FAILED is not final: the app may join again.
    server.configure([](LoopbackServer::Config& c) { c.join_reply = LoopbackServer::JoinReply::kOk; });
    e.join_and_wait_connected();
}

TEST(host_name_is_resolved_off_the_loop) {
    LoopbackServer server;
    TestEngine e(test::options_for(server.signal_port(), "localhost"));
    e.join_and_wait_connected();
}

TEST(wildcard_media_host_means_the_signal_server_address) {
    LoopbackServer::Config config;
    config.media_host = "0.0.0.0";
    LoopbackServer server(config);
    TestEngine e(test::options_for(server.signal_port()));
    e.join_and_wait_connected();
}

TEST(leave_and_rejoin_without_waiting_reports_each_step_once) {
    LoopbackServer server;
    TestEngine e(test::options_for(server.signal_port()));
    // Join, leave, join in quick succession: nothing from the first attempt may leak into the
    // second. Whether the first join completed before the leave is up to the scheduler; both
    // outcomes are truthful and accepted below.
    REQUIRE_EQ(e.join(), RL_OK);
    REQUIRE_EQ(rl_engine_leave(e.engine), RL_OK);
    REQUIRE_EQ(e.join(), RL_OK);
    REQUIRE(e.recorder.wait_until([](const std::vector<Event>& events) {
        const Event* left = find_type(events, RL_EVENT_LEAVE_RESULT);
        return left != nullptr &&
               find_type(events, RL_EVENT_JOIN_RESULT, static_cast<size_t>(left - events.data())) != nullptr;
    }));
    size_t before = e.recorder.size();
    REQUIRE_EQ(rl_engine_leave(e.engine), RL_OK);
    REQUIRE_EQ(e.join(), RL_OK);
    REQUIRE(e.recorder.wait_for(RL_EVENT_JOIN_RESULT, std::nullopt, before));
    auto events = e.events();
    REQUIRE(events.size() >= 2);
    EXPECT_SEQUENCE(events, 0, {{kSC, RL_STATE_CONNECTING, RL_REASON_JOIN_CHANNEL}});
    size_t i = 1;
    if (events[1].type == kSC && events[1].a == RL_STATE_CONNECTED) {
        EXPECT_SEQUENCE(events, 1, {{kSC, RL_STATE_CONNECTED, RL_REASON_JOIN_SUCCEED},
                                    {RL_EVENT_JOIN_RESULT, RL_OK, 0}});
        i = 3;
    }
    EXPECT_SEQUENCE(events, i,
                    {{kSC, RL_STATE_DISCONNECTED, RL_REASON_LEAVE_CHANNEL},
                     {RL_EVENT_LEAVE_RESULT, RL_OK, 0},
                     {kSC, RL_STATE_CONNECTING, RL_REASON_JOIN_CHANNEL},
                     {kSC, RL_STATE_CONNECTED, RL_REASON_JOIN_SUCCEED},
                     {RL_EVENT_JOIN_RESULT, RL_OK, 0},
                     {kSC, RL_STATE_DISCONNECTED, RL_REASON_LEAVE_CHANNEL},
                     {RL_EVENT_LEAVE_RESULT, RL_OK, 0},
                     {kSC, RL_STATE_CONNECTING, RL_REASON_JOIN_CHANNEL},
                     {kSC, RL_STATE_CONNECTED, RL_REASON_JOIN_SUCCEED},
                     {RL_EVENT_JOIN_RESULT, RL_OK, 0}});
    CHECK_EQ(events.size(), i + 10);
    CHECK_EQ(e.state(), RL_STATE_CONNECTED);
    CHECK(server.wait_for([](const Stats& st) { return st.leaves >= 1; }));
}

// The server answers a JOIN with `message` (which ends the session or the connection) instead
// of JOIN_OK: the join fails with `code`, and nothing is retried.
void expect_join_failed_by(const roomlink::wire::Message& message, int code) {
    LoopbackServer::Config config;
    config.join_reply = LoopbackServer::JoinReply::kNone;
    LoopbackServer server(config);
    TestEngine e(test::options_for(server.signal_port()));
    REQUIRE_EQ(e.join(), RL_OK);
    REQUIRE(server.wait_for([](const Stats& st) { return st.joins == 1; }));
    server.send_to_all(message, true);
    REQUIRE(e.recorder.wait_for(RL_EVENT_JOIN_RESULT));
    EXPECT_SEQUENCE(e.events(), 0,
                    {{kSC, RL_STATE_CONNECTING, RL_REASON_JOIN_CHANNEL},
                     {kSC, RL_STATE_FAILED, RL_REASON_REQUEST_CHANNEL_FAILED},
                     {RL_EVENT_JOIN_RESULT, code, 0}});
}

TEST(session_end_before_connected_fails_the_join) {
    expect_join_failed_by(roomlink::wire::SessionEnd{RL_ERR_SAME_UID_LOGIN, "newer login"}, RL_ERR_SAME_UID_LOGIN);
}

TEST(server_protocol_error_fails_the_join) {
    expect_join_failed_by(roomlink::wire::ServerError{RL_ERR_PROTOCOL, "bad frame"}, RL_ERR_PROTOCOL);
}

TEST(connection_dropped_during_join_is_retried_within_the_join_timeout) {
    LoopbackServer::Config config;
    config.join_reply = LoopbackServer::JoinReply::kNone;
    LoopbackServer server(config);
    TestEngine e(fast_options(server.signal_port()));
    REQUIRE_EQ(e.join(), RL_OK);
    REQUIRE(server.wait_for([](const Stats& st) { return st.joins == 1; }));
    server.configure([](LoopbackServer::Config& c) { c.join_reply = LoopbackServer::JoinReply::kOk; });
    server.drop_all_connections();
    REQUIRE(e.recorder.wait_for(RL_EVENT_JOIN_RESULT));
    EXPECT_SEQUENCE(e.events(), 0,
                    {{kSC, RL_STATE_CONNECTING, RL_REASON_JOIN_CHANNEL},
                     {kSC, RL_STATE_CONNECTED, RL_REASON_JOIN_SUCCEED},
                     {RL_EVENT_JOIN_RESULT, RL_OK, 0}});
    CHECK_EQ(server.stats().joins, 2);
}

// --- destroy --------------------------------------------------------------------------------

TEST(destroy_while_connecting_stops_callbacks_and_closes_sockets) {
    LoopbackServer::Config config;
    config.join_reply = LoopbackServer::JoinReply::kNone;
    LoopbackServer server(config);
    rl_engine_options o = test::options_for(server.signal_port());
    auto recorder = std::make_unique<Recorder>();
    rl_engine* engine = rl_engine_create(&o, &Recorder::callback, recorder.get(), nullptr);
    REQUIRE(engine != nullptr);
    REQUIRE_EQ(rl_engine_join(engine, "tok", "room", 1), RL_OK);
    REQUIRE(server.wait_for([](const Stats& st) { return st.joins == 1; }));
    rl_engine_destroy(engine);
    recorder->forbid_events();
    CHECK(server.wait_for([](const Stats& st) { return st.open_connections == 0; }));
    // That no timer it had armed fires later is shown on the manual clock (engine_clock_test).
    CHECK(!recorder->got_forbidden_event());
}

TEST(destroy_while_connected_says_leave) {
    LoopbackServer server;
    auto e = std::make_unique<TestEngine>(test::options_for(server.signal_port()));
    e->join_and_wait_connected();
    e.reset();
    CHECK(server.wait_for([](const Stats& st) { return st.leaves == 1; }));
}

TEST(destroy_right_after_join_is_safe) {
    LoopbackServer server;
    for (int i = 0; i < 50; ++i) {
        TestEngine e(test::options_for(server.signal_port()));
        REQUIRE_EQ(e.join(), RL_OK);
    }
}

// --- server-ended sessions ------------------------------------------------------------------

TEST(session_end_codes_disconnect_without_reconnecting) {
    struct Case {
        int32_t code;
        int32_t reason;
    };
    for (Case c : {Case{RL_ERR_SERVER_KICKED, RL_REASON_BE_KICKED},
                   Case{RL_ERR_CHANNEL_CLOSED, RL_REASON_CHANNEL_CLOSED},
                   Case{RL_ERR_SAME_UID_LOGIN, RL_REASON_BE_KICKED_DUE_TO_SAME_USER_ID}}) {
        LoopbackServer server;
        TestEngine e(test::options_for(server.signal_port()));
        e.join_and_wait_connected();
        size_t from = e.recorder.size();
        server.send_to_all(roomlink::wire::SessionEnd{c.code, "bye"}, true);
        REQUIRE(e.recorder.wait_for(RL_EVENT_DISCONNECT, std::nullopt, from));
        EXPECT_SEQUENCE(e.events(), from,
                        {{kSC, RL_STATE_DISCONNECTED, c.reason}, {RL_EVENT_DISCONNECT, c.code, 0}});
        CHECK_EQ(e.state(), RL_STATE_DISCONNECTED);
        CHECK_EQ(rl_engine_leave(e.engine), RL_ERR_NOT_JOINED);
        CHECK_EQ(count_type(e.events(), RL_EVENT_RECONNECTING_START), size_t{0});
        CHECK_EQ(server.stats().resumes, 0);
    }
}

// --- outages and reconnection ---------------------------------------------------------------

TEST(dropped_signal_connection_resumes_the_session) {
    LoopbackServer::Config config;
    config.peers = {99};
    LoopbackServer server(config);
    TestEngine e(fast_options(server.signal_port()));
    e.join_and_wait_connected();
    REQUIRE(e.recorder.wait_for(RL_EVENT_USER_JOINED));
    size_t from = e.recorder.size();

    server.drop_all_connections();
    auto events = EXPECT_OUTAGE(e, from, kRejoined, kRejoinOk);
    CHECK_EQ(find_type(events, RL_EVENT_REJOIN_RESULT)->x, int64_t{7});
    CHECK_EQ(e.state(), RL_STATE_CONNECTED);
    Stats s = server.stats();
    CHECK_EQ(s.joins, 1);
    CHECK_EQ(s.resumes, 1);
    CHECK(s.resumed_media_keys.at(0) != s.last_join.media_key);  // fresh mediaKey per attempt
    // A resumed session gets no presence snapshot: peer 99, already known, is not reported again.
    CHECK(server.wait_for([](const Stats& st) { return st.media_pings >= 1; }));
    CHECK_EQ(count_type(e.events(), RL_EVENT_USER_JOINED), size_t{1});
    CHECK(e.recorder.all_on_loop_threads());
}

TEST(restarted_server_gets_a_fresh_join_and_rejoin_succeeds) {
    LoopbackServer server;
    JoinedEngine e(server);
    server.forget_sessions();
    server.drop_all_connections();
    EXPECT_OUTAGE(e, e.joined, kRejoined, kRejoinOk);
    Stats s = server.stats();
    CHECK_EQ(s.resumes, 1);
    CHECK_EQ(s.joins, 2);
    CHECK_EQ(s.last_join.token, std::string("tok"));  // the original token
}

TEST(refused_fresh_join_during_reconnect_fails_with_rejoin_result) {
    LoopbackServer server;
    JoinedEngine e(server);
    server.configure([](LoopbackServer::Config& c) {
        c.join_reply = LoopbackServer::JoinReply::kErr;  // e.g. the token has expired meanwhile
        c.join_err_code = RL_ERR_INVALID_TOKEN;
    });
    server.forget_sessions();
    server.drop_all_connections();
    EXPECT_OUTAGE(e, e.joined, {kSC, RL_STATE_FAILED, RL_REASON_REQUEST_CHANNEL_FAILED},
                  {RL_EVENT_REJOIN_RESULT, RL_ERR_INVALID_TOKEN, 0});
    CHECK_EQ(e.state(), RL_STATE_FAILED);
}

TEST(resume_refused_by_a_server_limit_keeps_the_session_and_retries) {
    LoopbackServer server;
    JoinedEngine e(server);
    server.configure([](LoopbackServer::Config& c) { c.resume_join_err = RL_ERR_SERVER_LIMIT; });
    server.drop_all_connections();
    REQUIRE(server.wait_for([](const Stats& st) { return st.resumes >= 2; }));  // retried, not given up
    server.configure([](LoopbackServer::Config& c) { c.resume_join_err = 0; });
    EXPECT_OUTAGE(e, e.joined, kRejoined, kRejoinOk);
    Stats s = server.stats();
    CHECK_EQ(s.joins, 1);  // the session was kept: no fresh JOIN
    CHECK(s.resumes >= 3);
}

TEST(fresh_session_from_resume_is_used_for_the_next_resume) {
    LoopbackServer::Config config;
    config.resume_fresh = true;
    LoopbackServer server(config);
    TestEngine e(fast_options(server.signal_port()));
    e.join_and_wait_connected();
    for (int outage = 1; outage <= 2; ++outage) {
        size_t from = e.recorder.size();
        server.drop_all_connections();
        REQUIRE(e.recorder.wait_for(RL_EVENT_REJOIN_RESULT, RL_OK, from));
    }
    // Had the client kept the first session's credentials, the second RESUME would have been
    // refused and followed by a fresh JOIN.
    Stats s = server.stats();
    CHECK_EQ(s.resumes, 2);
    CHECK_EQ(s.joins, 1);
}

// A session that expired while away comes back as a fresh one (RESUME_OK resumed=0) with a
// snapshot. (After resumed=1 there is no snapshot: engine_clock_test covers the replay.)
TEST(presence_after_rejoin_reports_only_the_difference) {
    LoopbackServer::Config config;
    config.peers = {99, 100};
    config.resume_fresh = true;
    LoopbackServer server(config);
    TestEngine e(fast_options(server.signal_port()));
    e.join_and_wait_connected();
    REQUIRE(e.recorder.wait_for_count(5));
    auto initial = e.events();
    EXPECT_SEQUENCE(initial, 3, {{RL_EVENT_USER_JOINED, 0, 0}, {RL_EVENT_USER_JOINED, 0, 0}});
    CHECK_EQ(initial[3].x, int64_t{99});
    CHECK_EQ(initial[4].x, int64_t{100});

    // While A is away, 99 leaves and 101 arrives; 100 stays.
    server.configure([](LoopbackServer::Config& c) { c.peers = {100, 101}; });
    size_t from = e.recorder.size();
    server.drop_all_connections();
    REQUIRE(e.recorder.wait_for(RL_EVENT_REJOIN_RESULT, std::nullopt, from));
    REQUIRE(e.recorder.wait_for_count(from + 6));
    auto events = e.events();
    EXPECT_SEQUENCE(events, from,
                    {{kSC, RL_STATE_RECONNECTING, RL_REASON_SIGNAL_DISCONNECTED},
                     {RL_EVENT_RECONNECTING_START, 0, 0},
                     {kSC, RL_STATE_CONNECTED, RL_REASON_REJOIN_SUCCEED},
                     {RL_EVENT_REJOIN_RESULT, RL_OK, 0},
                     {RL_EVENT_USER_LEFT, RL_USER_LEAVE_NORMAL, 0},
                     {RL_EVENT_USER_JOINED, 0, 0}});
    CHECK_EQ(events[from + 4].x, int64_t{99});
    CHECK_EQ(events[from + 5].x, int64_t{101});
    // Live changes continue from the reconciled view.
    server.send_to_all(roomlink::wire::PeerLeft{100, RL_USER_LEAVE_TIMEOUT});
    REQUIRE(e.recorder.wait_for(RL_EVENT_USER_LEFT, RL_USER_LEAVE_TIMEOUT, from));
    auto final_events = e.events();
    CHECK_EQ(final_events.back().x, int64_t{100});
    CHECK_EQ(final_events.size(), from + 7);
}

TEST(session_ended_while_away_is_reported_on_resume) {
    LoopbackServer server;
    JoinedEngine e(server);
    server.configure([](LoopbackServer::Config& c) { c.resume_session_end = RL_ERR_SERVER_KICKED; });
    server.drop_all_connections();
    EXPECT_OUTAGE(e, e.joined, {kSC, RL_STATE_DISCONNECTED, RL_REASON_BE_KICKED},
                  {RL_EVENT_DISCONNECT, RL_ERR_SERVER_KICKED, 0});
    CHECK_EQ(e.state(), RL_STATE_DISCONNECTED);
}

TEST(server_shutdown_notice_is_an_outage_not_a_disconnect) {
    LoopbackServer server;
    JoinedEngine e(server);
    server.send_to_all(roomlink::wire::SessionEnd{RL_ERR_SERVER_SHUTDOWN, "restarting"}, true);
    EXPECT_OUTAGE(e, e.joined, kRejoined, kRejoinOk);
}

TEST(leave_while_reconnecting_stops_at_once) {
    LoopbackServer server;
    JoinedEngine e(server);
    server.stop_listening();
    server.drop_all_connections();
    REQUIRE(e.recorder.wait_for(RL_EVENT_RECONNECTING_START, std::nullopt, e.joined));
    REQUIRE_EQ(rl_engine_leave(e.engine), RL_OK);
    CHECK_EQ(e.state(), RL_STATE_DISCONNECTED);
    EXPECT_OUTAGE(e, e.joined, {kSC, RL_STATE_DISCONNECTED, RL_REASON_LEAVE_CHANNEL}, {RL_EVENT_LEAVE_RESULT, RL_OK, 0});
    int accepted = server.stats().accepted;
    server.resume_listening();
    e.join_and_wait_connected();
    CHECK_EQ(server.stats().accepted, accepted + 1);
}

// --- scale ----------------------------------------------------------------------------------

TEST(many_engines_join_and_leave_concurrently) {
    LoopbackServer server;
    const int n = 40;
    std::vector<std::unique_ptr<TestEngine>> engines;
    for (int i = 0; i < n; ++i) {
        engines.push_back(std::make_unique<TestEngine>(test::options_for(server.signal_port())));
    }
    for (int i = 0; i < n; ++i) REQUIRE_EQ(engines[static_cast<size_t>(i)]->join("room", i), RL_OK);
    for (auto& e : engines) {
        REQUIRE(e->recorder.wait_for(RL_EVENT_JOIN_RESULT, RL_OK));
        CHECK_EQ(e->state(), RL_STATE_CONNECTED);
    }
    for (auto& e : engines) REQUIRE_EQ(rl_engine_leave(e->engine), RL_OK);
    CHECK(server.wait_for([n](const Stats& st) { return st.leaves == n; }));
    engines.clear();
}

TEST_MAIN()
