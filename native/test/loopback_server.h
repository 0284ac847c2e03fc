// The in-test room server on its own thread and the wall clock, for end-to-end tests through
// the C ABI: LoopbackProtocol (loopback_protocol.h) driven by poll(). Observations are counted in
// Stats, and wait_for() blocks on a condition variable until a predicate over them holds.
#ifndef ROOMLINK_TEST_LOOPBACK_SERVER_H
#define ROOMLINK_TEST_LOOPBACK_SERVER_H

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "loopback_protocol.h"

namespace test {

class LoopbackServer {
public:
    using JoinReply = LoopbackJoinReply;
    using Config = LoopbackConfig;
    using Stats = LoopbackStats;

    explicit LoopbackServer(Config config = Config())
        : protocol_(std::move(config),
                    LoopbackProtocol::Driver{[] { return std::chrono::steady_clock::now(); },
                                             [](int) {}, [](int) {}, [](Stats::Time) {}}) {
        wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        thread_ = std::thread([this] { run(); });
    }

    ~LoopbackServer() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        wake();
        thread_.join();
        close(wake_fd_);
    }

    uint16_t signal_port() const { return protocol_.signal_port(); }
    uint16_t media_port() const { return protocol_.media_port(); }

    void configure(const std::function<void(Config&)>& change) {
        std::lock_guard<std::mutex> lock(mutex_);
        change(protocol_.config());
    }

    Stats stats() {
        std::lock_guard<std::mutex> lock(mutex_);
        return protocol_.stats();
    }

    bool wait_for(const std::function<bool(const Stats&)>& predicate,
                  std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
        std::unique_lock<std::mutex> lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] { return predicate(protocol_.stats()); });
    }

    void drop_all_connections() { control([this] { protocol_.drop_all_connections(); }); }
    void forget_sessions() { control([this] { protocol_.forget_sessions(); }); }
    void stall_connections() { control([this] { protocol_.stall_connections(); }); }
    void unstall_connections_but_last(int keep_stalled) {
        control([this, keep_stalled] { protocol_.unstall_connections_but_last(keep_stalled); });
    }
    void stop_listening() { control([this] { protocol_.stop_listening(); }); }
    void resume_listening() { control([this] { protocol_.resume_listening(); }); }
    void stream_to_sessions(const roomlink::wire::Message& item) {
        control([&] { protocol_.stream_to_sessions(item); });
    }
    void send_to_all(const roomlink::wire::Message& message, bool then_close = false) {
        control([&] { protocol_.send_to_all(message, then_close); });
    }

private:
    // A change made from the test thread: the server thread re-reads its socket set at once.
    void control(const std::function<void()>& change) {
        std::lock_guard<std::mutex> lock(mutex_);
        change();
        changed_.notify_all();
        wake();
    }

    void wake() {
        uint64_t one = 1;
        ssize_t ignored = write(wake_fd_, &one, sizeof one);
        (void)ignored;
    }

    void run() {
        for (;;) {
            std::vector<pollfd> fds;
            int timeout_ms = -1;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                if (stopping_) return;
                fds.push_back({wake_fd_, POLLIN, 0});
                for (int fd : protocol_.sockets()) fds.push_back({fd, POLLIN, 0});
                Stats::Time due;
                if (protocol_.next_delayed(&due)) {
                    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  due - std::chrono::steady_clock::now())
                                  .count() + 1;
                    timeout_ms = ms < 0 ? 0 : static_cast<int>(ms);
                }
            }
            poll(fds.data(), fds.size(), timeout_ms);
            std::lock_guard<std::mutex> lock(mutex_);
            for (const pollfd& p : fds) {
                if (p.revents == 0) continue;
                if (p.fd == wake_fd_) {
                    uint64_t n;
                    while (read(wake_fd_, &n, sizeof n) > 0) {
                    }
                } else {
                    protocol_.on_readable(p.fd);
                }
            }
            protocol_.run_delayed();
            changed_.notify_all();
        }
    }

    std::mutex mutex_;
    std::condition_variable changed_;
    LoopbackProtocol protocol_;  // guarded by mutex_
    bool stopping_ = false;
    int wake_fd_ = -1;
    std::thread thread_;
};

}  // namespace test

#endif
