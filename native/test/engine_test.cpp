// Engines driven through the C ABI against the in-test loopback server.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <thread>

#include "engine.h"
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

uint16_t unused_port() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    close(fd);  // nobody listens there now: connects are refused
    return ntohs(a.sin_port);
}

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

TEST(refused_connect_fails_after_the_join_timeout) {
    rl_engine_options o = test::options_for(unused_port());
    o.join_timeout_ms = 600;
    TestEngine e(o);
    auto start = std::chrono::steady_clock::now();
    REQUIRE_EQ(e.join(), RL_OK);
    REQUIRE(e.recorder.wait_for(RL_EVENT_JOIN_RESULT));
    auto waited = std::chrono::steady_clock::now() - start;
    auto events = e.events();
    EXPECT_SEQUENCE(events, 0,
                    {{kSC, RL_STATE_CONNECTING, RL_REASON_JOIN_CHANNEL},
                     {kSC, RL_STATE_FAILED, RL_REASON_JOIN_CHANNEL_FAILED},
                     {RL_EVENT_JOIN_RESULT, RL_ERR_CONNECT_FAILED, 0}});
    CHECK(waited >= std::chrono::milliseconds(590));
    CHECK(events[2].y >= 590);
    CHECK_EQ(e.state(), RL_STATE_FAILED);
}

TEST(unanswered_join_fails_with_join_timeout) {
    LoopbackServer::Config config;
    config.join_reply = LoopbackServer::JoinReply::kNone;
    LoopbackServer server(config);
    rl_engine_options o = test::options_for(server.signal_port());
    o.join_timeout_ms = 700;
    TestEngine e(o);
    REQUIRE_EQ(e.join(), RL_OK);
    REQUIRE(e.recorder.wait_for(RL_EVENT_JOIN_RESULT));
    EXPECT_SEQUENCE(e.events(), 0,
                    {{kSC, RL_STATE_CONNECTING, RL_REASON_JOIN_CHANNEL},
                     {kSC, RL_STATE_FAILED, RL_REASON_JOIN_CHANNEL_FAILED},
                     {RL_EVENT_JOIN_RESULT, RL_ERR_JOIN_TIMEOUT, 0}});
    // The connection stayed up the whole time (it answered pings), so there was one JOIN only.
    CHECK_EQ(server.stats().joins, 1);
}

TEST(unacknowledged_bind_fails_with_media_bind_timeout) {
    LoopbackServer::Config config;
    config.answer_bind = false;
    LoopbackServer server(config);
    rl_engine_options o = test::options_for(server.signal_port());
    o.join_timeout_ms = 700;
    TestEngine e(o);
    REQUIRE_EQ(e.join(), RL_OK);
    REQUIRE(e.recorder.wait_for(RL_EVENT_JOIN_RESULT));
    EXPECT_SEQUENCE(e.events(), 0,
                    {{kSC, RL_STATE_CONNECTING, RL_REASON_JOIN_CHANNEL},
                     {kSC, RL_STATE_FAILED, RL_REASON_JOIN_CHANNEL_FAILED},
                     {RL_EVENT_JOIN_RESULT, RL_ERR_MEDIA_BIND_TIMEOUT, 0}});
    Stats s = server.stats();
    CHECK(s.binds >= 3);  // retransmitted every ~100 ms
    // The half-made session is left politely.
    CHECK(server.wait_for([](const Stats& st) { return st.leaves == 1; }));
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

TEST(session_end_before_connected_fails_the_join) {
    LoopbackServer::Config config;
    config.join_reply = LoopbackServer::JoinReply::kNone;
    LoopbackServer server(config);
    TestEngine e(test::options_for(server.signal_port()));
    REQUIRE_EQ(e.join(), RL_OK);
    REQUIRE(server.wait_for([](const Stats& st) { return st.joins == 1; }));
    server.send_to_all(roomlink::wire::SessionEnd{RL_ERR_SAME_UID_LOGIN, "newer login"}, true);
    REQUIRE(e.recorder.wait_for(RL_EVENT_JOIN_RESULT));
    EXPECT_SEQUENCE(e.events(), 0,
                    {{kSC, RL_STATE_CONNECTING, RL_REASON_JOIN_CHANNEL},
                     {kSC, RL_STATE_FAILED, RL_REASON_REQUEST_CHANNEL_FAILED},
                     {RL_EVENT_JOIN_RESULT, RL_ERR_SAME_UID_LOGIN, 0}});
}

TEST(server_protocol_error_fails_the_join) {
    LoopbackServer::Config config;
    config.join_reply = LoopbackServer::JoinReply::kNone;
    LoopbackServer server(config);
    TestEngine e(test::options_for(server.signal_port()));
    REQUIRE_EQ(e.join(), RL_OK);
    REQUIRE(server.wait_for([](const Stats& st) { return st.joins == 1; }));
    server.send_to_all(roomlink::wire::ServerError{RL_ERR_PROTOCOL, "bad frame"}, true);
    REQUIRE(e.recorder.wait_for(RL_EVENT_JOIN_RESULT));
    EXPECT_SEQUENCE(e.events(), 0,
                    {{kSC, RL_STATE_CONNECTING, RL_REASON_JOIN_CHANNEL},
                     {kSC, RL_STATE_FAILED, RL_REASON_REQUEST_CHANNEL_FAILED},
                     {RL_EVENT_JOIN_RESULT, RL_ERR_PROTOCOL, 0}});
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
    o.join_timeout_ms = 300;  // would fire soon after destroy if anything were left running
    auto recorder = std::make_unique<Recorder>();
    rl_engine* engine = rl_engine_create(&o, &Recorder::callback, recorder.get(), nullptr);
    REQUIRE(engine != nullptr);
    REQUIRE_EQ(rl_engine_join(engine, "tok", "room", 1), RL_OK);
    REQUIRE(server.wait_for([](const Stats& st) { return st.joins == 1; }));
    rl_engine_destroy(engine);
    recorder->forbid_events();
    CHECK(server.wait_for([](const Stats& st) { return st.open_connections == 0; }));
    // Outlive the join timeout the engine had armed: it must have been cancelled.
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
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
    REQUIRE(e.recorder.wait_for(RL_EVENT_REJOIN_RESULT, std::nullopt, from));
    auto events = e.events();
    EXPECT_SEQUENCE(events, from,
                    {{kSC, RL_STATE_RECONNECTING, RL_REASON_SIGNAL_DISCONNECTED},
                     {RL_EVENT_RECONNECTING_START, 0, 0},
                     {kSC, RL_STATE_CONNECTED, RL_REASON_REJOIN_SUCCEED},
                     {RL_EVENT_REJOIN_RESULT, RL_OK, 0}});
    CHECK_EQ(find_type(events, RL_EVENT_REJOIN_RESULT)->x, int64_t{7});
    CHECK_EQ(e.state(), RL_STATE_CONNECTED);
    Stats s = server.stats();
    CHECK_EQ(s.joins, 1);
    CHECK_EQ(s.resumes, 1);
    CHECK(s.resumed_media_keys.at(0) != s.last_join.media_key);  // fresh mediaKey per attempt
    // The resume's presence snapshot listed peer 99 again; the app already knew it.
    CHECK(server.wait_for([](const Stats& st) { return st.media_pings >= 1; }));
    CHECK_EQ(count_type(e.events(), RL_EVENT_USER_JOINED), size_t{1});
    CHECK(e.recorder.all_on_loop_threads());
}

TEST(restarted_server_gets_a_fresh_join_and_rejoin_succeeds) {
    LoopbackServer server;
    TestEngine e(fast_options(server.signal_port()));
    e.join_and_wait_connected();
    size_t from = e.recorder.size();
    server.forget_sessions();
    server.drop_all_connections();
    REQUIRE(e.recorder.wait_for(RL_EVENT_REJOIN_RESULT, std::nullopt, from));
    EXPECT_SEQUENCE(e.events(), from,
                    {{kSC, RL_STATE_RECONNECTING, RL_REASON_SIGNAL_DISCONNECTED},
                     {RL_EVENT_RECONNECTING_START, 0, 0},
                     {kSC, RL_STATE_CONNECTED, RL_REASON_REJOIN_SUCCEED},
                     {RL_EVENT_REJOIN_RESULT, RL_OK, 0}});
    Stats s = server.stats();
    CHECK_EQ(s.resumes, 1);
    CHECK_EQ(s.joins, 2);
    CHECK_EQ(s.last_join.token, std::string("tok"));  // the original token
}

TEST(refused_fresh_join_during_reconnect_fails_with_rejoin_result) {
    LoopbackServer server;
    TestEngine e(fast_options(server.signal_port()));
    e.join_and_wait_connected();
    size_t from = e.recorder.size();
    server.configure([](LoopbackServer::Config& c) {
        c.join_reply = LoopbackServer::JoinReply::kErr;  // e.g. the token has expired meanwhile
        c.join_err_code = RL_ERR_INVALID_TOKEN;
    });
    server.forget_sessions();
    server.drop_all_connections();
    REQUIRE(e.recorder.wait_for(RL_EVENT_REJOIN_RESULT, std::nullopt, from));
    EXPECT_SEQUENCE(e.events(), from,
                    {{kSC, RL_STATE_RECONNECTING, RL_REASON_SIGNAL_DISCONNECTED},
                     {RL_EVENT_RECONNECTING_START, 0, 0},
                     {kSC, RL_STATE_FAILED, RL_REASON_REQUEST_CHANNEL_FAILED},
                     {RL_EVENT_REJOIN_RESULT, RL_ERR_INVALID_TOKEN, 0}});
    CHECK_EQ(e.state(), RL_STATE_FAILED);
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

TEST(presence_after_rejoin_reports_only_the_difference) {
    LoopbackServer::Config config;
    config.peers = {99, 100};
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
    TestEngine e(fast_options(server.signal_port()));
    e.join_and_wait_connected();
    size_t from = e.recorder.size();
    server.configure([](LoopbackServer::Config& c) { c.resume_session_end = RL_ERR_SERVER_KICKED; });
    server.drop_all_connections();
    REQUIRE(e.recorder.wait_for(RL_EVENT_DISCONNECT, std::nullopt, from));
    EXPECT_SEQUENCE(e.events(), from,
                    {{kSC, RL_STATE_RECONNECTING, RL_REASON_SIGNAL_DISCONNECTED},
                     {RL_EVENT_RECONNECTING_START, 0, 0},
                     {kSC, RL_STATE_DISCONNECTED, RL_REASON_BE_KICKED},
                     {RL_EVENT_DISCONNECT, RL_ERR_SERVER_KICKED, 0}});
    CHECK_EQ(e.state(), RL_STATE_DISCONNECTED);
}

TEST(server_shutdown_notice_is_an_outage_not_a_disconnect) {
    LoopbackServer server;
    TestEngine e(fast_options(server.signal_port()));
    e.join_and_wait_connected();
    size_t from = e.recorder.size();
    server.send_to_all(roomlink::wire::SessionEnd{RL_ERR_SERVER_SHUTDOWN, "restarting"}, true);
    REQUIRE(e.recorder.wait_for(RL_EVENT_REJOIN_RESULT, std::nullopt, from));
    EXPECT_SEQUENCE(e.events(), from,
                    {{kSC, RL_STATE_RECONNECTING, RL_REASON_SIGNAL_DISCONNECTED},
                     {RL_EVENT_RECONNECTING_START, 0, 0},
                     {kSC, RL_STATE_CONNECTED, RL_REASON_REJOIN_SUCCEED},
                     {RL_EVENT_REJOIN_RESULT, RL_OK, 0}});
}

// --- signal stall: silent migration ----------------------------------------------------------
//
// fast_options: signal_timeout 600 ms (PING every 100 ms), media_timeout 600 ms (PING every 50 ms).
// Stalled connections (LoopbackServer::stall_connections) model TCP stuck in retransmission
// backoff: open, but nothing gets through either way.

using Clock = std::chrono::steady_clock;

// fast_options with a longer media timeout: "media healthy" then survives a loaded machine
// starving the test server for a few hundred ms, so these tests only see what they provoke.
rl_engine_options migration_options(uint16_t port) {
    rl_engine_options o = fast_options(port);
    o.media_timeout_ms = 1500;
    return o;
}

long long ms_since(Clock::time_point start) {
    return static_cast<long long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
}

TEST(signal_stall_with_healthy_media_migrates_silently) {
    // Twice: once with the server closing the replaced connection (as the real one does; the
    // client may see that EOF before RESUME_OK), once leaving it open, so that only the client
    // can close it.
    for (bool server_closes_old : {true, false}) {
        LoopbackServer::Config config;
        config.peers = {99, 100};
        config.close_replaced = server_closes_old;
        LoopbackServer server(config);
        TestEngine e(migration_options(server.signal_port()));
        e.join_and_wait_connected();
        REQUIRE(e.recorder.wait_for_count(5));  // SC, SC, JOIN_RESULT, USER_JOINED x2
        const uint64_t media_key = server.stats().last_join.media_key;

        // While the signal is stalled, 99 leaves and 101 arrives; their events would be stuck
        // on the stalled connection, so the new connection's snapshot must tell.
        server.configure([](LoopbackServer::Config& c) { c.peers = {100, 101}; });
        size_t from = e.recorder.size();
        auto start = Clock::now();
        server.stall_connections();
        REQUIRE(server.wait_for([](const Stats& st) { return st.resumes == 1; }, std::chrono::milliseconds(3000)));
        const long long migrated = ms_since(start);
        std::fprintf(stderr, "    measured: migration RESUME %lld ms after the stall (close_replaced=%d)\n",
                     migrated, server_closes_old ? 1 : 0);
        CHECK(migrated >= 450);   // signal_timeout minus one ping gap
        CHECK(migrated < 1100);   // well before 2 x signal_timeout
        // The old connection is gone (reset by the client when the server left it open).
        CHECK(server.wait_for([](const Stats& st) { return st.open_connections == 1; }));
        if (!server_closes_old) {
            CHECK(server.stats().resets >= 1);
        }
        // Keep going for more than 2 x signal_timeout on the new connection: pings answered there.
        const int pings = server.stats().signal_pings;
        CHECK(server.wait_for([pings](const Stats& st) { return st.signal_pings >= pings + 15; }));

        auto events = e.events();
        // No state change at all: only the presence difference.
        CHECK_EQ(count_type(events, kSC), size_t{2});
        CHECK_EQ(count_type(events, RL_EVENT_RECONNECTING_START), size_t{0});
        EXPECT_SEQUENCE(events, from,
                        {{RL_EVENT_USER_LEFT, RL_USER_LEAVE_NORMAL, 0}, {RL_EVENT_USER_JOINED, 0, 0}});
        CHECK_EQ(events.size(), from + 2);
        if (events.size() == from + 2) {
            CHECK_EQ(events[from].x, int64_t{99});
            CHECK_EQ(events[from + 1].x, int64_t{101});
        }
        CHECK_EQ(e.state(), RL_STATE_CONNECTED);
        Stats s = server.stats();
        CHECK_EQ(s.accepted, 2);
        CHECK_EQ(s.joins, 1);
        CHECK_EQ(s.resumes, 1);
        REQUIRE_EQ(s.resumed_media_keys.size(), size_t{1});
        CHECK_EQ(s.resumed_media_keys[0], media_key);  // media binding untouched
        CHECK(s.stalled_frames >= 1);                  // the old connection kept pinging meanwhile

        // Leaving afterwards goes out on the new connection.
        REQUIRE_EQ(rl_engine_leave(e.engine), RL_OK);
        CHECK(server.wait_for([](const Stats& st) { return st.leaves == 1; }));
    }
}

TEST(signal_stall_with_unanswered_migration_is_an_outage_after_twice_the_timeout) {
    LoopbackServer server;
    TestEngine e(migration_options(server.signal_port()));
    e.join_and_wait_connected();
    size_t from = e.recorder.size();
    auto start = Clock::now();
    server.configure([](LoopbackServer::Config& c) { c.stall_new_connections = true; });
    server.stall_connections();
    REQUIRE(e.recorder.wait_for(RL_EVENT_RECONNECTING_START, std::nullopt, from, std::chrono::milliseconds(4000)));
    const long long detected = ms_since(start);
    std::fprintf(stderr, "    measured: signal-only stall reported after %lld ms\n", detected);
    EXPECT_SEQUENCE(e.events(), from,
                    {{kSC, RL_STATE_RECONNECTING, RL_REASON_SIGNAL_DISCONNECTED},
                     {RL_EVENT_RECONNECTING_START, 0, 0}});
    CHECK(detected >= 1050);  // 2 x signal_timeout minus one ping gap
    CHECK(detected < 1600);
    CHECK(server.stats().accepted >= 2);  // the migration was tried
    server.configure([](LoopbackServer::Config& c) { c.stall_new_connections = false; });
    REQUIRE(e.recorder.wait_for(RL_EVENT_REJOIN_RESULT, std::nullopt, from));
    auto events = e.events();
    CHECK_EQ(count_type(events, RL_EVENT_RECONNECTING_START), size_t{1});
    size_t reconnecting = 0;
    for (const auto& ev : events) reconnecting += ev.type == kSC && ev.a == RL_STATE_RECONNECTING;
    CHECK_EQ(reconnecting, size_t{1});
    CHECK_EQ(e.state(), RL_STATE_CONNECTED);
}

TEST(unanswered_migration_is_abandoned_when_the_old_connection_recovers) {
    LoopbackServer server;
    TestEngine e(migration_options(server.signal_port()));
    e.join_and_wait_connected();
    size_t from = e.recorder.size();
    server.configure([](LoopbackServer::Config& c) { c.stall_new_connections = true; });
    server.stall_connections();
    REQUIRE(server.wait_for([](const Stats& st) { return st.accepted == 2 && st.stalled_frames >= 1; },
                            std::chrono::milliseconds(3000)));
    // The migration connection is up (its RESUME unanswered); the old connection recovers.
    server.unstall_connections_but_last(1);
    // The migration is dropped with a reset after signal_timeout; the old connection carries on.
    REQUIRE(server.wait_for([](const Stats& st) { return st.open_connections == 1 && st.resets >= 1; },
                            std::chrono::milliseconds(3000)));
    const int pings = server.stats().signal_pings;
    CHECK(server.wait_for([pings](const Stats& st) { return st.signal_pings >= pings + 15; }));
    CHECK_EQ(e.recorder.size(), from);  // nothing reported
    CHECK_EQ(e.state(), RL_STATE_CONNECTED);
    CHECK_EQ(server.stats().resumes, 0);
}

TEST(silent_reconnect_attempt_is_kept_open_until_the_next_one) {
    LoopbackServer server;
    rl_engine_options o = fast_options(server.signal_port());
    o.backoff_initial_ms = 3000;  // the next attempt would come only after 3 s
    o.backoff_max_ms = 3000;
    TestEngine e(o);
    e.join_and_wait_connected();
    size_t from = e.recorder.size();
    server.configure([](LoopbackServer::Config& c) { c.stall_new_connections = true; });
    server.drop_all_connections();
    REQUIRE(e.recorder.wait_for(RL_EVENT_RECONNECTING_START, std::nullopt, from));
    REQUIRE(server.wait_for([](const Stats& st) { return st.accepted == 2 && st.stalled_frames >= 1; }));
    // Scenario time: let the attempt go silent for more than signal_timeout (600 ms), so that it
    // counts as failed and the 3 s backoff runs.
    std::this_thread::sleep_for(std::chrono::milliseconds(900));
    auto restored = Clock::now();
    server.unstall_connections_but_last(0);  // its RESUME, held until now, is answered
    REQUIRE(e.recorder.wait_for(RL_EVENT_REJOIN_RESULT, std::nullopt, from));
    const long long recovered = ms_since(restored);
    std::fprintf(stderr, "    measured: rejoined %lld ms after the path came back\n", recovered);
    CHECK(recovered < 1000);  // not after the backoff
    CHECK_EQ(server.stats().accepted, 2);  // on the silent attempt's connection
    EXPECT_SEQUENCE(e.events(), from,
                    {{kSC, RL_STATE_RECONNECTING, RL_REASON_SIGNAL_DISCONNECTED},
                     {RL_EVENT_RECONNECTING_START, 0, 0},
                     {kSC, RL_STATE_CONNECTED, RL_REASON_REJOIN_SUCCEED},
                     {RL_EVENT_REJOIN_RESULT, RL_OK, 0}});
}

TEST(both_paths_silent_is_an_outage_within_the_media_timeout) {
    LoopbackServer server;
    TestEngine e(fast_options(server.signal_port()));
    e.join_and_wait_connected();
    size_t from = e.recorder.size();
    auto start = Clock::now();
    server.configure([](LoopbackServer::Config& c) {
        c.answer_media_ping = false;
        c.stall_new_connections = true;
    });
    server.stall_connections();
    REQUIRE(e.recorder.wait_for(RL_EVENT_RECONNECTING_START, std::nullopt, from, std::chrono::milliseconds(4000)));
    const long long detected = ms_since(start);
    std::fprintf(stderr, "    measured: hard cut reported after %lld ms\n", detected);
    auto events = e.events();
    REQUIRE(events.size() >= from + 2);
    CHECK_EQ(events[from].type, kSC);
    CHECK_EQ(events[from].a, int32_t{RL_STATE_RECONNECTING});
    CHECK(events[from].b == RL_REASON_MEDIA_CONNECTION_DISCONNECTED ||
          events[from].b == RL_REASON_SIGNAL_DISCONNECTED);
    CHECK_EQ(events[from + 1].type, int32_t{RL_EVENT_RECONNECTING_START});
    CHECK(detected >= 500);  // media_timeout minus one media ping gap
    CHECK(detected < 900);   // media_timeout + one ping gap + slack: not 2 x signal_timeout
    server.configure([](LoopbackServer::Config& c) {
        c.answer_media_ping = true;
        c.stall_new_connections = false;
    });
    REQUIRE(e.recorder.wait_for(RL_EVENT_REJOIN_RESULT, std::nullopt, from));
    CHECK_EQ(count_type(e.events(), RL_EVENT_RECONNECTING_START), size_t{1});
}

TEST(expired_session_found_by_migration_is_reported_as_an_outage) {
    LoopbackServer::Config config;
    config.resume_fresh = true;  // RESUME answers resumed=0: the grace period had run out
    LoopbackServer server(config);
    TestEngine e(migration_options(server.signal_port()));
    e.join_and_wait_connected();
    size_t from = e.recorder.size();
    server.stall_connections();
    REQUIRE(e.recorder.wait_for(RL_EVENT_REJOIN_RESULT, std::nullopt, from, std::chrono::milliseconds(4000)));
    EXPECT_SEQUENCE(e.events(), from,
                    {{kSC, RL_STATE_RECONNECTING, RL_REASON_SIGNAL_DISCONNECTED},
                     {RL_EVENT_RECONNECTING_START, 0, 0},
                     {kSC, RL_STATE_CONNECTED, RL_REASON_REJOIN_SUCCEED},
                     {RL_EVENT_REJOIN_RESULT, RL_OK, 0}});
    CHECK_EQ(e.state(), RL_STATE_CONNECTED);
    CHECK_EQ(server.stats().resumes, 2);  // the migration's, then the reconnect's (fresh session)
}

TEST(reset_signal_is_still_reported_at_once_while_media_is_healthy) {
    LoopbackServer server;
    TestEngine e(fast_options(server.signal_port()));
    e.join_and_wait_connected();
    size_t from = e.recorder.size();
    auto start = Clock::now();
    server.drop_all_connections();
    REQUIRE(e.recorder.wait_for(RL_EVENT_RECONNECTING_START, std::nullopt, from));
    CHECK(ms_since(start) < 300);
    EXPECT_SEQUENCE(e.events(), from,
                    {{kSC, RL_STATE_RECONNECTING, RL_REASON_SIGNAL_DISCONNECTED},
                     {RL_EVENT_RECONNECTING_START, 0, 0}});
    REQUIRE(e.recorder.wait_for(RL_EVENT_REJOIN_RESULT, std::nullopt, from));
}

TEST(silent_media_is_detected_and_reported_once) {
    LoopbackServer server;
    TestEngine e(fast_options(server.signal_port()));
    e.join_and_wait_connected();
    size_t from = e.recorder.size();
    server.configure([](LoopbackServer::Config& c) { c.answer_media_ping = false; });
    REQUIRE(e.recorder.wait_for(RL_EVENT_RECONNECTING_START, std::nullopt, from));
    server.configure([](LoopbackServer::Config& c) { c.answer_media_ping = true; });
    REQUIRE(e.recorder.wait_for(RL_EVENT_REJOIN_RESULT, std::nullopt, from));
    auto events = e.events();
    EXPECT_SEQUENCE(events, from,
                    {{kSC, RL_STATE_RECONNECTING, RL_REASON_MEDIA_CONNECTION_DISCONNECTED},
                     {RL_EVENT_RECONNECTING_START, 0, 0},
                     {kSC, RL_STATE_CONNECTED, RL_REASON_REJOIN_SUCCEED},
                     {RL_EVENT_REJOIN_RESULT, RL_OK, 0}});
    CHECK_EQ(count_type(events, RL_EVENT_RECONNECTING_START), size_t{1});
}

TEST(recovery_starts_soon_after_the_server_returns_despite_long_backoff) {
    LoopbackServer server;
    rl_engine_options o = fast_options(server.signal_port());
    o.backoff_initial_ms = 1000;
    o.backoff_multiplier_pct = 400;  // attempts at 0 s, ~1 s, ~5 s after the outage
    o.backoff_max_ms = 10000;
    o.probe_interval_ms = 100;
    o.reconnect_timeout_ms = 20000;
    TestEngine e(o);
    e.join_and_wait_connected();
    size_t from = e.recorder.size();
    server.stop_listening();
    server.drop_all_connections();
    REQUIRE(e.recorder.wait_for(RL_EVENT_RECONNECTING_START, std::nullopt, from));
    // Scenario time, not synchronisation: stay down past the second attempt, into the long
    // backoff before the third.
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    auto back = std::chrono::steady_clock::now();
    server.resume_listening();
    REQUIRE(e.recorder.wait_for(RL_EVENT_REJOIN_RESULT, std::nullopt, from));
    auto recovery = std::chrono::steady_clock::now() - back;
    CHECK(recovery < std::chrono::milliseconds(1000));  // without probes: ~3.5 s
    EXPECT_SEQUENCE(e.events(), from,
                    {{kSC, RL_STATE_RECONNECTING, RL_REASON_SIGNAL_DISCONNECTED},
                     {RL_EVENT_RECONNECTING_START, 0, 0},
                     {kSC, RL_STATE_CONNECTED, RL_REASON_REJOIN_SUCCEED},
                     {RL_EVENT_REJOIN_RESULT, RL_OK, 0}});
}

TEST(network_change_notification_retries_at_once) {
    LoopbackServer server;
    rl_engine_options o = fast_options(server.signal_port());
    o.backoff_initial_ms = 5000;
    o.backoff_max_ms = 5000;
    o.probe_interval_ms = 5000;  // no probes within the test: only the notification can help
    TestEngine e(o);
    e.join_and_wait_connected();
    size_t from = e.recorder.size();
    server.stop_listening();
    server.drop_all_connections();
    REQUIRE(e.recorder.wait_for(RL_EVENT_RECONNECTING_START, std::nullopt, from));
    // Scenario time: let the immediate first attempt be refused, entering the 5 s backoff.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    server.resume_listening();
    auto notified = std::chrono::steady_clock::now();
    CHECK_EQ(rl_engine_notify_network_changed(e.engine), RL_OK);
    REQUIRE(e.recorder.wait_for(RL_EVENT_REJOIN_RESULT, std::nullopt, from));
    CHECK(std::chrono::steady_clock::now() - notified < std::chrono::milliseconds(1500));
}

TEST(reconnect_gives_up_after_the_reconnect_timeout) {
    LoopbackServer server;
    rl_engine_options o = fast_options(server.signal_port());
    o.reconnect_timeout_ms = 1000;  // the documented minimum
    TestEngine e(o);
    e.join_and_wait_connected();
    size_t from = e.recorder.size();
    server.stop_listening();
    server.drop_all_connections();
    REQUIRE(e.recorder.wait_for(RL_EVENT_DISCONNECT, std::nullopt, from));
    auto events = e.events();
    EXPECT_SEQUENCE(events, from,
                    {{kSC, RL_STATE_RECONNECTING, RL_REASON_SIGNAL_DISCONNECTED},
                     {RL_EVENT_RECONNECTING_START, 0, 0},
                     {kSC, RL_STATE_FAILED, RL_REASON_TIMEOUT},
                     {RL_EVENT_DISCONNECT, RL_ERR_RECONNECT_TIMEOUT, 0}});
    CHECK(events.back().mono_ns - events[from].mono_ns >= 990'000'000);
    CHECK_EQ(e.state(), RL_STATE_FAILED);
    CHECK_EQ(rl_engine_leave(e.engine), RL_ERR_NOT_JOINED);

    // Nothing is left on the wire: once the server listens again, only a new join connects.
    int accepted = server.stats().accepted;
    server.resume_listening();
    e.join_and_wait_connected();
    CHECK_EQ(server.stats().accepted, accepted + 1);
}

TEST(leave_while_reconnecting_stops_at_once) {
    LoopbackServer server;
    TestEngine e(fast_options(server.signal_port()));
    e.join_and_wait_connected();
    size_t from = e.recorder.size();
    server.stop_listening();
    server.drop_all_connections();
    REQUIRE(e.recorder.wait_for(RL_EVENT_RECONNECTING_START, std::nullopt, from));
    REQUIRE_EQ(rl_engine_leave(e.engine), RL_OK);
    CHECK_EQ(e.state(), RL_STATE_DISCONNECTED);
    REQUIRE(e.recorder.wait_for(RL_EVENT_LEAVE_RESULT, std::nullopt, from));
    EXPECT_SEQUENCE(e.events(), from,
                    {{kSC, RL_STATE_RECONNECTING, RL_REASON_SIGNAL_DISCONNECTED},
                     {RL_EVENT_RECONNECTING_START, 0, 0},
                     {kSC, RL_STATE_DISCONNECTED, RL_REASON_LEAVE_CHANNEL},
                     {RL_EVENT_LEAVE_RESULT, RL_OK, 0}});
    int accepted = server.stats().accepted;
    server.resume_listening();
    e.join_and_wait_connected();
    CHECK_EQ(server.stats().accepted, accepted + 1);
}

// --- scale ----------------------------------------------------------------------------------

TEST(an_idle_engine_is_small) {
    // A few hundred bytes: thousands of idle engines cost next to nothing.
    CHECK(sizeof(roomlink::Engine) < 2048);
}

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
