// The C ABI as a host sees it: argument validation, option validation messages, refusal codes,
// the shared loop pool, and logging.

#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine_support.h"
#include "loopback_server.h"
#include "options.h"
#include "roomlink/roomlink.h"
#include "test_support.h"
#include "thread_slice.h"

using test::Recorder;

namespace {

int thread_count() { return test::directory_entries("/proc/self/task"); }

// Validates and returns the message (empty when valid).
std::string validation_message(const rl_engine_options& o) {
    char msg[256];
    std::memset(msg, 'x', sizeof msg);
    int32_t rc = rl_options_validate(&o, msg, sizeof msg);
    std::string text(msg);
    if (rc == RL_OK) {
        CHECK(text.empty());
    } else {
        CHECK_EQ(rc, int32_t{RL_ERR_INVALID_ARGUMENT});
    }
    return text;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

std::mutex g_log_mutex;
std::vector<std::pair<int32_t, std::string>> g_log_lines;
void capture_log(int32_t level, const char* message) {
    std::lock_guard<std::mutex> lock(g_log_mutex);
    g_log_lines.emplace_back(level, message);
}

// Every numeric option with its documented range and default (README, "Configuration"); the Java
// SDK's ValidationAgreementTest walks the same edges through the builder and this ABI.
struct DocumentedOption {
    const char* name;
    int32_t rl_engine_options::*member;
    int32_t min;
    int32_t max;
    int32_t default_value;
    std::function<void(rl_engine_options&)> make_room;  // companions that let the range's edges pass
};

std::vector<DocumentedOption> documented_options() {
    auto nothing = [](rl_engine_options&) {};
    return {
        {"join_timeout_ms", &rl_engine_options::join_timeout_ms, 100, 120000, 10000, nothing},
        {"signal_keepalive_ms", &rl_engine_options::signal_keepalive_ms, 20, 10000, 1000,
         [](rl_engine_options& o) { o.signal_timeout_ms = 60000; }},
        {"signal_timeout_ms", &rl_engine_options::signal_timeout_ms, 100, 60000, 1500,
         [](rl_engine_options& o) { o.signal_keepalive_ms = 20; }},
        {"media_keepalive_ms", &rl_engine_options::media_keepalive_ms, 20, 10000, 500,
         [](rl_engine_options& o) { o.media_timeout_ms = 60000; }},
        {"media_timeout_ms", &rl_engine_options::media_timeout_ms, 100, 60000, 1500,
         [](rl_engine_options& o) { o.media_keepalive_ms = 20; }},
        {"reconnect_timeout_ms", &rl_engine_options::reconnect_timeout_ms, 1000, 600000, 40000, nothing},
        {"backoff_initial_ms", &rl_engine_options::backoff_initial_ms, 10, 60000, 250,
         [](rl_engine_options& o) { o.backoff_max_ms = 300000; }},
        {"backoff_max_ms", &rl_engine_options::backoff_max_ms, 10, 300000, 5000,
         [](rl_engine_options& o) { o.backoff_initial_ms = 10; }},
        {"backoff_max_ms", &rl_engine_options::backoff_max_ms, 250, 300000, 5000, nothing},
        {"backoff_multiplier_pct", &rl_engine_options::backoff_multiplier_pct, 100, 1000, 200, nothing},
        {"backoff_jitter_pct", &rl_engine_options::backoff_jitter_pct, 0, 100, 20,
         [](rl_engine_options& o) { o.backoff_jitter_explicit = 1; }},
        {"probe_interval_ms", &rl_engine_options::probe_interval_ms, 20, 5000, 90, nothing},
        {"network_watcher_off", &rl_engine_options::network_watcher_off, 0, 1, 0, nothing},
        {"server_port", &rl_engine_options::server_port, 1, 65535, 0, nothing},  // no default: 0 is refused
    };
}

// An engine made through the C ABI with nothing listening at its server (port 9, discard), and its
// recorder: what the argument checks need. Destroyed at the end of the scope, before the recorder.
struct UnservedEngine {
    Recorder recorder;
    rl_engine_options options = test::options_for(9);
    rl_engine* e = rl_engine_create(&options, &Recorder::callback, &recorder, nullptr);

    UnservedEngine() { REQUIRE(e != nullptr); }
    ~UnservedEngine() { rl_engine_destroy(e); }
    UnservedEngine(const UnservedEngine&) = delete;
    UnservedEngine& operator=(const UnservedEngine&) = delete;
};

}  // namespace

// Must run first: the pool size can only be chosen before the first engine exists.
TEST(loop_threads_are_configurable_until_the_pool_starts) {
    CHECK_EQ(rl_runtime_loop_threads(), 0);
    CHECK_EQ(rl_runtime_set_loop_threads(0), int32_t{RL_ERR_INVALID_ARGUMENT});
    CHECK_EQ(rl_runtime_set_loop_threads(17), int32_t{RL_ERR_INVALID_ARGUMENT});
    CHECK_EQ(rl_runtime_set_loop_threads(-1), int32_t{RL_ERR_INVALID_ARGUMENT});
    CHECK_EQ(rl_runtime_set_loop_threads(3), int32_t{RL_OK});
    CHECK_EQ(rl_runtime_loop_threads(), 0);  // lazily started

    Recorder recorder;
    rl_engine_options o = test::options_for(9);
    rl_engine* e = rl_engine_create(&o, &Recorder::callback, &recorder, nullptr);
    REQUIRE(e != nullptr);
    CHECK_EQ(rl_runtime_loop_threads(), 3);
    CHECK_EQ(rl_runtime_set_loop_threads(2), int32_t{RL_ERR_INTERNAL});
    CHECK_EQ(rl_runtime_set_loop_threads(3), int32_t{RL_ERR_INTERNAL});
    rl_engine_destroy(e);
    CHECK_EQ(rl_runtime_loop_threads(), 3);  // the pool lives for the process
}

TEST(version_and_clock) {
    // The pom's version without its qualifier (CMakeLists.txt); the SDK's tests compare it with
    // the version Maven builds.
    CHECK_EQ(std::string(rl_version()), std::string(ROOMLINK_VERSION));
    CHECK(std::string(rl_version()).find_first_not_of("0123456789.") == std::string::npos);
    int64_t a = rl_monotonic_ns();
    int64_t b = rl_monotonic_ns();
    CHECK(a > 0);
    CHECK(b >= a);
}

TEST(latency_slice_is_set_on_the_calling_thread_only_and_validated) {
    long long before = roomlink::current_thread_slice_ns();
    REQUIRE(before >= 0);  // the default slice (kernels before 6.12 report 0)
    CHECK_EQ(rl_thread_set_latency_slice(99'999), int32_t{RL_ERR_INVALID_ARGUMENT});
    CHECK_EQ(rl_thread_set_latency_slice(100'000'001), int32_t{RL_ERR_INVALID_ARGUMENT});
    CHECK_EQ(rl_thread_set_latency_slice(-1), int32_t{RL_ERR_INVALID_ARGUMENT});
    CHECK_EQ(roomlink::current_thread_slice_ns(), before);  // refused: unchanged

    long long seen_by_other = 0;
    std::thread other([&] {
        CHECK_EQ(rl_thread_set_latency_slice(200'000), int32_t{RL_OK});
        seen_by_other = roomlink::current_thread_slice_ns();
    });
    other.join();
    // Kernels before 6.12 keep their own slice and report no custom one; either way the calling
    // thread is the only one touched.
    CHECK(seen_by_other == 200'000 || seen_by_other == before);
    CHECK_EQ(roomlink::current_thread_slice_ns(), before);
}

TEST(options_init_fills_documented_defaults) {
    rl_engine_options o;
    std::memset(&o, 0x7f, sizeof o);
    rl_options_init(&o);
    CHECK_EQ(o.struct_size, uint32_t{sizeof(rl_engine_options)});
    CHECK(o.app_key == nullptr);
    CHECK(o.server_host == nullptr);
    for (const DocumentedOption& f : documented_options()) {
        test::equal(__FILE__, __LINE__, f.name, o.*f.member, f.default_value);
    }
    rl_options_init(nullptr);  // ignored
}

TEST(options_validation_names_the_offending_field) {
    CHECK_EQ(validation_message(test::options_for(4000)), std::string());

    CHECK_EQ(rl_options_validate(nullptr, nullptr, 0), int32_t{RL_ERR_INVALID_ARGUMENT});
    char msg[64];
    CHECK_EQ(rl_options_validate(nullptr, msg, sizeof msg), int32_t{RL_ERR_INVALID_ARGUMENT});
    CHECK(starts_with(msg, "options"));

    struct Case {
        const char* field;
        std::function<void(rl_engine_options&)> spoil;
    };
    static const std::string long_key(65, 'k');
    std::vector<Case> cases = {
        {"struct_size", [](rl_engine_options& o) { o.struct_size = 8; }},
        {"app_key", [](rl_engine_options& o) { o.app_key = nullptr; }},
        {"app_key", [](rl_engine_options& o) { o.app_key = ""; }},
        {"app_key", [](rl_engine_options& o) { o.app_key = long_key.c_str(); }},
        {"app_key", [](rl_engine_options& o) { o.app_key = "\xc3\x28"; }},
        {"server_host", [](rl_engine_options& o) { o.server_host = nullptr; }},
        {"server_host", [](rl_engine_options& o) { o.server_host = ""; }},
        {"server_port", [](rl_engine_options& o) { o.server_port = 0; }},
        {"server_port", [](rl_engine_options& o) { o.server_port = 65536; }},
        {"join_timeout_ms", [](rl_engine_options& o) { o.join_timeout_ms = -1; }},
        {"signal_keepalive_ms", [](rl_engine_options& o) { o.signal_keepalive_ms = -5; }},
        {"signal_timeout_ms", [](rl_engine_options& o) { o.signal_timeout_ms = 200; }},
        {"media_keepalive_ms", [](rl_engine_options& o) { o.media_keepalive_ms = -1; }},
        {"media_timeout_ms", [](rl_engine_options& o) { o.media_timeout_ms = 100; }},
        {"reconnect_timeout_ms", [](rl_engine_options& o) { o.reconnect_timeout_ms = -1; }},
        {"backoff_initial_ms", [](rl_engine_options& o) { o.backoff_initial_ms = -1; }},
        {"backoff_max_ms", [](rl_engine_options& o) { o.backoff_max_ms = 100; }},
        {"backoff_multiplier_pct", [](rl_engine_options& o) { o.backoff_multiplier_pct = 50; }},
        {"backoff_jitter_pct", [](rl_engine_options& o) { o.backoff_jitter_pct = 101; }},
        {"backoff_jitter_pct", [](rl_engine_options& o) { o.backoff_jitter_pct = -1; }},
        {"probe_interval_ms", [](rl_engine_options& o) { o.probe_interval_ms = -1; }},
    };
    for (const auto& c : cases) {
        rl_engine_options o = test::options_for(4000);
        c.spoil(o);
        std::string message = validation_message(o);
        if (!starts_with(message, c.field)) {
            test::fail(__FILE__, __LINE__,
                       std::string("expected a message naming ") + c.field + ", got '" + message + "'");
        }
        // The same options are refused by rl_engine_create.
        int32_t error = 0;
        Recorder recorder;
        CHECK(rl_engine_create(&o, &Recorder::callback, &recorder, &error) == nullptr);
        CHECK_EQ(error, int32_t{RL_ERR_INVALID_ARGUMENT});
    }

    // Zero means default, and the message buffer is truncated safely.
    rl_engine_options zeros = test::options_for(4000);
    zeros.join_timeout_ms = 0;
    zeros.backoff_multiplier_pct = 0;
    zeros.backoff_jitter_pct = 0;
    CHECK_EQ(validation_message(zeros), std::string());
    rl_engine_options bad = test::options_for(0);
    char tiny[8];
    CHECK_EQ(rl_options_validate(&bad, tiny, sizeof tiny), int32_t{RL_ERR_INVALID_ARGUMENT});
    CHECK_EQ(std::string(tiny), std::string("server_"));
    CHECK_EQ(rl_options_validate(&bad, tiny, 0), int32_t{RL_ERR_INVALID_ARGUMENT});
}

// Every documented range at min-1, min, max and max+1.
TEST(every_option_is_accepted_exactly_within_its_documented_range) {
    for (const DocumentedOption& f : documented_options()) {
        for (int32_t value : {f.min - 1, f.min, f.max, f.max + 1}) {
            rl_engine_options o = test::options_for(4000);
            f.make_room(o);
            o.*f.member = value;
            const bool want_ok = value >= f.min && value <= f.max;
            const bool zero_is_default = value == 0 && f.member != &rl_engine_options::server_port;
            std::string message = validation_message(o);
            int32_t error = -1;
            Recorder recorder;
            rl_engine* e = rl_engine_create(&o, &Recorder::callback, &recorder, &error);
            const std::string last = rl_last_error_message();
            rl_engine_destroy(e);
            const std::string what = std::string(f.name) + "=" + std::to_string(value);
            if (want_ok || zero_is_default) {
                if (!message.empty() || e == nullptr || error != RL_OK || !last.empty()) {
                    test::fail(__FILE__, __LINE__, what + " refused: '" + message + "'");
                }
            } else if (!starts_with(message, f.name) || e != nullptr ||
                       error != RL_ERR_INVALID_ARGUMENT || last != message) {
                test::fail(__FILE__, __LINE__,
                           what + " accepted or not named: '" + message + "' / '" + last + "'");
            }
        }
    }
}

TEST(timeouts_must_be_at_least_one_and_a_half_intervals) {
    struct Edge {
        int32_t interval;
        int32_t timeout;
        bool ok;
    };
    const Edge edges[] = {{1000, 1500, true}, {1000, 1499, false}, {1001, 1500, false},
                          {101, 152, true},   {101, 151, false},   {10000, 15000, true},
                          {10000, 14999, false}};
    for (const Edge& edge : edges) {
        rl_engine_options o = test::options_for(4000);
        o.signal_keepalive_ms = edge.interval;
        o.signal_timeout_ms = edge.timeout;
        CHECK_EQ(validation_message(o).empty(), edge.ok);
        if (!edge.ok) CHECK(starts_with(validation_message(o), "signal_timeout_ms: "));
        o = test::options_for(4000);
        o.media_keepalive_ms = edge.interval;
        o.media_timeout_ms = edge.timeout;
        CHECK_EQ(validation_message(o).empty(), edge.ok);
        if (!edge.ok) CHECK(starts_with(validation_message(o), "media_timeout_ms: "));
    }
}

TEST(zero_jitter_is_expressible_and_zero_alone_still_means_the_default) {
    rl_engine_options o = test::options_for(4000);
    roomlink::EngineOptions parsed;
    std::string error;
    o.backoff_jitter_pct = 0;
    REQUIRE(roomlink::parse_options(&o, &parsed, &error));
    CHECK_EQ(parsed.backoff.jitter_pct, 20);
    o.backoff_jitter_explicit = 1;
    REQUIRE(roomlink::parse_options(&o, &parsed, &error));
    CHECK_EQ(parsed.backoff.jitter_pct, 0);
    o.backoff_jitter_pct = 35;
    REQUIRE(roomlink::parse_options(&o, &parsed, &error));
    CHECK_EQ(parsed.backoff.jitter_pct, 35);
    // A host built before the flag existed: its struct ends before it, so 0 is the default.
    o.backoff_jitter_pct = 0;
    o.struct_size = static_cast<uint32_t>(offsetof(rl_engine_options, backoff_jitter_explicit));
    REQUIRE(roomlink::parse_options(&o, &parsed, &error));
    CHECK_EQ(parsed.backoff.jitter_pct, 20);
}

TEST(join_limits_are_inclusive_and_refusals_name_the_argument) {
    UnservedEngine unserved;
    rl_engine* e = unserved.e;
    struct Case {
        std::string token;
        std::string channel;
        int64_t uid;
        const char* refused_by;  // nullptr: accepted
    };
    const Case cases[] = {
        {"t", std::string(1, 'c'), 0, nullptr},     {"t", std::string(64, 'c'), 1, nullptr},
        {"t", std::string(), 1, "channel"},         {"t", std::string(65, 'c'), 1, "channel"},
        {std::string(), "c", 1, nullptr},           {std::string(1024, 't'), "c", 1, nullptr},
        {std::string(1025, 't'), "c", 1, "token"},  {"t", "c", -1, "uid"},
        {"\xc3\x28", "c", 1, "token"},              {"t", "\xc3\x28", 1, "channel"},
    };
    for (const Case& c : cases) {
        int32_t rc = rl_engine_join(e, c.token.c_str(), c.channel.c_str(), c.uid);
        const std::string last = rl_last_error_message();
        if (c.refused_by == nullptr) {
            CHECK_EQ(rc, int32_t{RL_OK});
            CHECK(last.empty());
            CHECK_EQ(rl_engine_leave(e), int32_t{RL_OK});
        } else {
            CHECK_EQ(rc, int32_t{RL_ERR_INVALID_ARGUMENT});
            if (!starts_with(last, std::string(c.refused_by) + ": ")) {
                test::fail(__FILE__, __LINE__, std::string("expected ") + c.refused_by + ", got '" + last + "'");
            }
        }
    }
    CHECK_EQ(rl_engine_join(e, "t", nullptr, 1), int32_t{RL_ERR_INVALID_ARGUMENT});
    CHECK(starts_with(rl_last_error_message(), "channel: "));
    CHECK_EQ(rl_engine_join(nullptr, "t", "c", 1), int32_t{RL_ERR_INVALID_ARGUMENT});
    CHECK(starts_with(rl_last_error_message(), "engine: "));
}

TEST(older_hosts_with_a_shorter_struct_get_defaults_for_missing_fields) {
    rl_engine_options o = test::options_for(4000);
    o.struct_size = static_cast<uint32_t>(offsetof(rl_engine_options, join_timeout_ms));
    o.join_timeout_ms = -77;  // beyond struct_size: must not be read
    o.probe_interval_ms = -77;
    CHECK_EQ(validation_message(o), std::string());
}

TEST(create_rejects_null_arguments) {
    int32_t error = 0;
    CHECK(rl_engine_create(nullptr, &Recorder::callback, nullptr, &error) == nullptr);
    CHECK_EQ(error, int32_t{RL_ERR_INVALID_ARGUMENT});
    rl_engine_options o = test::options_for(4000);
    error = 0;
    CHECK(rl_engine_create(&o, nullptr, nullptr, &error) == nullptr);
    CHECK_EQ(error, int32_t{RL_ERR_INVALID_ARGUMENT});
    CHECK(rl_engine_create(nullptr, nullptr, nullptr, nullptr) == nullptr);  // error may be NULL
    rl_engine_destroy(nullptr);
    CHECK_EQ(rl_engine_join(nullptr, "t", "c", 1), int32_t{RL_ERR_INVALID_ARGUMENT});
    CHECK_EQ(rl_engine_leave(nullptr), int32_t{RL_ERR_INVALID_ARGUMENT});
    CHECK_EQ(rl_engine_get_state(nullptr), int32_t{RL_ERR_INVALID_ARGUMENT});
    CHECK_EQ(rl_engine_notify_network_changed(nullptr), int32_t{RL_ERR_INVALID_ARGUMENT});
}

TEST(join_validates_its_arguments_and_changes_nothing_when_invalid) {
    UnservedEngine unserved;
    rl_engine* e = unserved.e;
    const std::string channel64(64, 'c');
    const std::string channel65(65, 'c');
    const std::string token1025(1025, 't');
    CHECK_EQ(rl_engine_join(e, "t", nullptr, 1), int32_t{RL_ERR_INVALID_ARGUMENT});
    CHECK_EQ(rl_engine_join(e, "t", "", 1), int32_t{RL_ERR_INVALID_ARGUMENT});
    CHECK_EQ(rl_engine_join(e, "t", channel65.c_str(), 1), int32_t{RL_ERR_INVALID_ARGUMENT});
    CHECK_EQ(rl_engine_join(e, "t", "\xc3\x28", 1), int32_t{RL_ERR_INVALID_ARGUMENT});
    CHECK_EQ(rl_engine_join(e, token1025.c_str(), "c", 1), int32_t{RL_ERR_INVALID_ARGUMENT});
    CHECK_EQ(rl_engine_join(e, "t", "c", -1), int32_t{RL_ERR_INVALID_ARGUMENT});
    CHECK_EQ(rl_engine_get_state(e), int32_t{RL_STATE_DISCONNECTED});
    CHECK_EQ(unserved.recorder.size(), size_t{0});

    CHECK_EQ(rl_engine_leave(e), int32_t{RL_ERR_NOT_JOINED});
    // Limits are inclusive; a NULL token means the empty token.
    CHECK_EQ(rl_engine_join(e, nullptr, channel64.c_str(), 0), int32_t{RL_OK});
    CHECK_EQ(rl_engine_get_state(e), int32_t{RL_STATE_CONNECTING});
    CHECK_EQ(rl_engine_join(e, "t", "c", 1), int32_t{RL_ERR_ALREADY_JOINED});
    CHECK_EQ(rl_engine_get_state(e), int32_t{RL_STATE_CONNECTING});
    CHECK_EQ(rl_engine_leave(e), int32_t{RL_OK});
    CHECK_EQ(rl_engine_get_state(e), int32_t{RL_STATE_DISCONNECTED});
    CHECK_EQ(rl_engine_leave(e), int32_t{RL_ERR_NOT_JOINED});
    CHECK_EQ(rl_engine_notify_network_changed(e), int32_t{RL_OK});
    CHECK(unserved.recorder.wait_for(RL_EVENT_LEAVE_RESULT));
}

TEST(renew_token_validates_its_argument_and_needs_a_membership) {
    UnservedEngine unserved;
    rl_engine* e = unserved.e;
    const std::string token1024(1024, 't');
    const std::string token1025(1025, 't');
    CHECK_EQ(rl_engine_renew_token(nullptr, "t"), int32_t{RL_ERR_INVALID_ARGUMENT});
    CHECK_EQ(rl_engine_renew_token(e, nullptr), int32_t{RL_ERR_INVALID_ARGUMENT});
    CHECK(std::string(rl_last_error_message()).rfind("token:", 0) == 0);
    CHECK_EQ(rl_engine_renew_token(e, token1025.c_str()), int32_t{RL_ERR_INVALID_ARGUMENT});
    CHECK_EQ(rl_engine_renew_token(e, "\xc3\x28"), int32_t{RL_ERR_INVALID_ARGUMENT});
    CHECK_EQ(rl_engine_renew_token(e, "t"), int32_t{RL_ERR_NOT_JOINED});
    CHECK_EQ(rl_engine_join(e, "t", "c", 1), int32_t{RL_OK});
    CHECK_EQ(rl_engine_renew_token(e, token1024.c_str()), int32_t{RL_OK});  // queued while joining
    CHECK_EQ(rl_engine_renew_token(e, ""), int32_t{RL_OK});
    CHECK_EQ(rl_engine_leave(e), int32_t{RL_OK});
    CHECK_EQ(rl_engine_renew_token(e, "t"), int32_t{RL_ERR_NOT_JOINED});
    CHECK(unserved.recorder.wait_for(RL_EVENT_LEAVE_RESULT));
}

TEST(two_hundred_engines_share_the_configured_loop_threads) {
    test::LoopbackServer server;
    const int before = thread_count();
    const int n = 200;
    std::vector<std::unique_ptr<Recorder>> recorders;
    std::vector<rl_engine*> engines;
    for (int i = 0; i < n; ++i) {
        recorders.push_back(std::make_unique<Recorder>());
        rl_engine_options o = test::options_for(server.signal_port());
        rl_engine* e = rl_engine_create(&o, &Recorder::callback, recorders.back().get(), nullptr);
        REQUIRE(e != nullptr);
        engines.push_back(e);
        REQUIRE_EQ(rl_engine_join(e, "tok", "big-room", i), int32_t{RL_OK});
    }
    for (auto& r : recorders) REQUIRE(r->wait_for(RL_EVENT_JOIN_RESULT, RL_OK));
    for (rl_engine* e : engines) CHECK_EQ(rl_engine_get_state(e), int32_t{RL_STATE_CONNECTED});
    // No thread per engine: only the pool (started by the first test) runs them.
    CHECK(thread_count() <= before);
    CHECK_EQ(rl_runtime_loop_threads(), 3);
    for (auto& r : recorders) CHECK(r->all_on_loop_threads());
    for (rl_engine* e : engines) rl_engine_destroy(e);
    CHECK(server.wait_for([n](const test::LoopbackServer::Stats& s) { return s.leaves == n; }));
}

TEST(log_callback_filters_by_level) {
    test::LoopbackServer server;
    rl_set_log_callback(&capture_log, RL_LOG_INFO);
    Recorder recorder;
    rl_engine_options o = test::options_for(server.signal_port());
    rl_engine* e = rl_engine_create(&o, &Recorder::callback, &recorder, nullptr);
    REQUIRE(e != nullptr);
    REQUIRE_EQ(rl_engine_join(e, "tok", "room", 5), int32_t{RL_OK});
    REQUIRE(recorder.wait_for(RL_EVENT_JOIN_RESULT));
    rl_engine_destroy(e);
    rl_set_log_callback(nullptr, RL_LOG_TRACE);
    std::lock_guard<std::mutex> lock(g_log_mutex);
    bool saw_join = false;
    bool saw_connected = false;
    for (const auto& [level, line] : g_log_lines) {
        CHECK(level >= RL_LOG_INFO);
        saw_join = saw_join || line.find("joining channel 'room'") != std::string::npos;
        saw_connected = saw_connected || line.find("connected to channel 7") != std::string::npos;
    }
    CHECK(saw_join);
    CHECK(saw_connected);

    // OFF suppresses everything.
    g_log_lines.clear();
    rl_set_log_callback(&capture_log, RL_LOG_OFF);
    Recorder quiet;
    e = rl_engine_create(&o, &Recorder::callback, &quiet, nullptr);
    REQUIRE_EQ(rl_engine_join(e, "tok", "room", 6), int32_t{RL_OK});
    REQUIRE(quiet.wait_for(RL_EVENT_JOIN_RESULT));
    rl_engine_destroy(e);
    CHECK(g_log_lines.empty());
    rl_set_log_callback(nullptr, RL_LOG_OFF);
}

TEST_MAIN()
