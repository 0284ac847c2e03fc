// Helpers for tests that drive engines through the C ABI: an event recorder and option presets.
#ifndef ROOMLINK_TEST_ENGINE_SUPPORT_H
#define ROOMLINK_TEST_ENGINE_SUPPORT_H

#include <pthread.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "roomlink/roomlink.h"
#include "test_support.h"

namespace test {

struct Event {
    int32_t type;
    int32_t a;
    int32_t b;
    int64_t x;
    int64_t y;
    int64_t z;
    int64_t mono_ns;

    std::string str() const {
        char text[160];
        std::snprintf(text, sizeof text, "{type=%d a=%d b=%d x=%lld y=%lld z=%lld}", type, a, b,
                      static_cast<long long>(x), static_cast<long long>(y),
                      static_cast<long long>(z));
        return text;
    }
};

// Collects events from rl_event_fn and lets a test block until some have arrived.
class Recorder {
public:
    static void callback(void* user, int32_t type, int32_t a, int32_t b, int64_t x, int64_t y,
                         int64_t z, int64_t mono_ns) {
        static_cast<Recorder*>(user)->push(Event{type, a, b, x, y, z, mono_ns});
    }

    std::vector<Event> events() {
        std::lock_guard<std::mutex> lock(mutex_);
        return events_;
    }

    size_t size() {
        std::lock_guard<std::mutex> lock(mutex_);
        return events_.size();
    }

    // Waits until an event of `type` (and, if given, with a == `a`) arrives after index `from`.
    bool wait_for(int32_t type, std::optional<int32_t> a = std::nullopt, size_t from = 0,
                  std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
        std::unique_lock<std::mutex> lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] {
            for (size_t i = from; i < events_.size(); ++i) {
                if (events_[i].type == type && (!a || events_[i].a == *a)) return true;
            }
            return false;
        });
    }

    bool wait_until(const std::function<bool(const std::vector<Event>&)>& predicate,
                    std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
        std::unique_lock<std::mutex> lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] { return predicate(events_); });
    }

    bool wait_for_count(size_t n, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
        std::unique_lock<std::mutex> lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] { return events_.size() >= n; });
    }

    // Fails the test if a callback ever ran on a thread that is not a roomlink loop thread.
    bool all_on_loop_threads() const { return !foreign_thread_.load(); }
    void forbid_events() { forbidden_ = true; }
    bool got_forbidden_event() const { return got_forbidden_.load(); }

private:
    void push(const Event& e) {
        char name[32] = "";
        pthread_getname_np(pthread_self(), name, sizeof name);
        if (std::string(name).find("loop-") == std::string::npos) foreign_thread_ = true;
        if (forbidden_) got_forbidden_ = true;
        std::lock_guard<std::mutex> lock(mutex_);
        events_.push_back(e);
        changed_.notify_all();
    }

    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<Event> events_;
    std::atomic<bool> foreign_thread_{false};
    std::atomic<bool> forbidden_{false};
    std::atomic<bool> got_forbidden_{false};
};

// ROOMLINK_TEST_LOG=0..4 prints the core's log lines at that level and above (for debugging).
inline void log_to_stderr(int32_t level, const char* message) {
    std::fprintf(stderr, "    log[%d] %s\n", level, message);
}
inline bool enable_log_from_env() {
    const char* level = std::getenv("ROOMLINK_TEST_LOG");
    if (level != nullptr) rl_set_log_callback(&log_to_stderr, std::atoi(level));
    return level != nullptr;
}

inline rl_engine_options options_for(uint16_t port, const char* host = "127.0.0.1") {
    rl_engine_options o;
    rl_options_init(&o);
    o.app_key = "test-app";
    o.server_host = host;
    o.server_port = port;
    o.network_watcher_off = 1;  // exact sequences: no connection-type event, no host events
    o.plaintext = 1;  // the loopback servers speak plaintext
    return o;
}

// Expects events[from..] to start with exactly `want` (type, a, b).
inline void expect_sequence(const std::vector<Event>& events, size_t from,
                            const std::vector<std::array<int32_t, 3>>& want, const char* file,
                            int line) {
    expect_events(events, from, want, false,
                  [](const Event& e, const std::array<int32_t, 3>& w) {
                      return e.type == w[0] && e.a == w[1] && e.b == w[2];
                  },
                  file, line);
}

#define EXPECT_SEQUENCE(events, from, ...) \
    test::expect_sequence(events, from, __VA_ARGS__, __FILE__, __LINE__)

}  // namespace test

#endif
