// The in-test room server on the engine's own EventLoop: LoopbackProtocol (loopback_protocol.h)
// with its sockets watched by that loop and its delayed answers on that loop's timers. Real
// sockets on 127.0.0.1, but every handler runs on the one thread that steps the loop, so with a
// ManualClock time moves only when the test advances it (see ClockedScene, clocked_scene.h).
#ifndef ROOMLINK_TEST_CLOCKED_LOOPBACK_SERVER_H
#define ROOMLINK_TEST_CLOCKED_LOOPBACK_SERVER_H

#include <sys/epoll.h>

#include <map>

#include "event_loop.h"
#include "loopback_protocol.h"

namespace test {

class ClockedLoopbackServer {
public:
    using JoinReply = LoopbackJoinReply;
    using Config = LoopbackConfig;
    using Stats = LoopbackStats;

    ClockedLoopbackServer(roomlink::EventLoop& loop, Config config = Config())
        : loop_(loop),
          protocol_(std::move(config),
                    LoopbackProtocol::Driver{[this] { return loop_.now(); },
                                             [this](int fd) { watch(fd); },
                                             [this](int fd) { unwatch(fd); },
                                             [this](Stats::Time due) { wake_at(due); }}) {
        protocol_.start();
    }

    ~ClockedLoopbackServer() {
        for (auto& w : watches_) loop_.unwatch(w.second);
        for (auto& t : timers_) loop_.cancel(t);
    }

    ClockedLoopbackServer(const ClockedLoopbackServer&) = delete;
    ClockedLoopbackServer& operator=(const ClockedLoopbackServer&) = delete;

    uint16_t signal_port() const { return protocol_.signal_port(); }
    Config& config() { return protocol_.config(); }
    const Stats& stats() const { return protocol_.stats(); }
    uint64_t activity() const { return protocol_.activity(); }

    void drop_all_connections() { protocol_.drop_all_connections(); }
    void forget_sessions() { protocol_.forget_sessions(); }
    void stall_connections() { protocol_.stall_connections(); }
    void unstall_connections_but_last(int keep_stalled) {
        protocol_.unstall_connections_but_last(keep_stalled);
    }
    void stop_listening() { protocol_.stop_listening(); }
    void resume_listening() { protocol_.resume_listening(); }
    void send_to_all(const roomlink::wire::Message& message, bool then_close = false) {
        protocol_.send_to_all(message, then_close);
    }
    void send_bytes_to_all(const std::vector<uint8_t>& bytes) { protocol_.send_bytes_to_all(bytes); }
    void stream_to_sessions(const roomlink::wire::Message& item) { protocol_.stream_to_sessions(item); }
    void send_media_pong_to_bound(uint64_t echo_ns) { protocol_.send_media_pong_to_bound(echo_ns); }

private:
    void watch(int fd) {
        watches_[fd] =
            loop_.watch(fd, EPOLLIN, [this, fd](uint32_t) { protocol_.on_readable(fd); });
    }

    void unwatch(int fd) {
        auto it = watches_.find(fd);
        if (it != watches_.end()) {
            loop_.unwatch(it->second);
            watches_.erase(it);
        }
    }

    void wake_at(Stats::Time due) {
        timers_.push_back(loop_.schedule_at(due, [this] { protocol_.run_delayed(); }));
    }

    roomlink::EventLoop& loop_;
    LoopbackProtocol protocol_;
    std::map<int, roomlink::EventLoop::WatchId> watches_;
    std::vector<roomlink::EventLoop::TimerId> timers_;
};

}  // namespace test

#endif
