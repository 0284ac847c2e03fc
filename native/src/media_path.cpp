#include "media_path.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "log.h"

namespace roomlink {

MediaPath::MediaPath(EventLoop& loop, Listener* listener, uint64_t media_key,
                     Duration bind_retransmit)
    : loop_(loop), listener_(listener), media_key_(media_key), bind_retransmit_(bind_retransmit) {}

MediaPath::~MediaPath() { close(); }

void MediaPath::close() {
    loop_.cancel(bind_timer_);
    loop_.cancel(keepalive_timer_);
    loop_.unwatch(watch_);
    fd_.reset();
}

namespace {
// Early BINDs back off to this while the request they go with is unanswered: a restarted server
// is not flooded by the retransmissions of thousands of waiting engines.
constexpr Duration kEarlyBindMaxInterval = std::chrono::seconds(1);
}  // namespace

bool MediaPath::open(const SocketAddress& to, std::string* error, bool eager) {
    remote_ = to;
    bind_eager_ = eager;
    bind_interval_ = bind_retransmit_;
    int err = 0;
    fd_ = open_connected_udp(to, &err);
    if (!fd_.valid()) {
        *error = "media socket to " + to.to_string() + ": " + error_text(err);
        return false;
    }
    watch_ = loop_.watch(fd_.get(), EPOLLIN, [this](uint32_t) { on_readable(); });
    if (watch_ == 0) {
        *error = "cannot watch media socket";
        fd_.reset();
        return false;
    }
    bind_tick();
    return true;
}

void MediaPath::send_packet(wire::MediaType type) {
    wire::MediaPacket packet;
    packet.type = type;
    packet.media_key = media_key_;
    packet.seq = next_seq_++;
    packet.echo_ns = static_cast<uint64_t>(loop_.now().time_since_epoch().count());
    auto bytes = wire::encode_media(packet);
    // Loss is expected on UDP (and ECONNREFUSED after an ICMP unreachable): retransmission and
    // the silence timeout deal with it, so a failed send is not an error by itself.
    ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
}

void MediaPath::send_bind_now() {
    if (fd_.valid() && !bound_) {
        bind_eager_ = true;
        bind_interval_ = bind_retransmit_;
        loop_.cancel(bind_timer_);
        bind_tick();
    }
}

void MediaPath::bind_tick() {
    bind_timer_ = 0;
    if (bound_) {
        return;
    }
    send_packet(wire::MediaType::kBind);
    const Duration wait = bind_interval_;
    if (!bind_eager_) {
        bind_interval_ = std::min(std::max(bind_retransmit_, kEarlyBindMaxInterval),
                                  bind_interval_ * 2);
    }
    bind_timer_ = loop_.schedule_after(wait, [this] { bind_tick(); });
}

void MediaPath::on_readable() {
    uint8_t buffer[wire::kMaxDatagram + 1];
    for (;;) {
        ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, 0);
        if (n < 0) {
            if (errno == EINTR || errno == ECONNREFUSED) {
                continue;  // ECONNREFUSED: ICMP port unreachable for an earlier datagram
            }
            return;  // EAGAIN or a transient error: the keepalive timeout judges the path
        }
        auto packet = wire::decode_media(buffer, static_cast<size_t>(n));
        if (!packet || packet->media_key != media_key_ ||
            (packet->type != wire::MediaType::kBindAck && packet->type != wire::MediaType::kPong)) {
            ++dropped_;
            continue;
        }
        handle(*packet);
        // One answer per wakeup: nearly always the only datagram queued, and stopping here saves
        // the recv that would only report EAGAIN, a third of an idle session's media syscalls.
        // epoll is level-triggered, so anything still queued wakes the loop again.
        return;
    }
}

void MediaPath::handle(const wire::MediaPacket& packet) {
    const TimePoint now = loop_.now();
    last_inbound_ = now;
    const int64_t now_ns = now.time_since_epoch().count();
    if (packet.echo_ns != 0 && packet.echo_ns <= static_cast<uint64_t>(now_ns)) {
        last_rtt_ = Duration(now_ns - static_cast<int64_t>(packet.echo_ns));
        if (packet.type == wire::MediaType::kPong) {
            keepalive_.rtt_sample(*last_rtt_);
        }
    }
    if (keepalive_started_ && !lost_) {
        keepalive_.heard(now);
        // The answer moved the next thing to do later (no suspect check due any more): re-arm
        // rather than wake up for nothing.
        if (keepalive_timer_ != 0 && keepalive_.next_wakeup() > keepalive_wake_) {
            arm_keepalive();
        }
    }
    if (packet.type == wire::MediaType::kBindAck && !bound_) {
        bound_ = true;
        loop_.cancel(bind_timer_);
        listener_->on_media_bound(*this);
    }
}

void MediaPath::start_keepalive(KeepaliveTiming timing) {
    last_inbound_ = loop_.now();
    keepalive_.start(timing, last_inbound_);
    keepalive_started_ = true;
    loop_.cancel(keepalive_timer_);
    keepalive_tick();
}

void MediaPath::ping_now() {
    if (fd_.valid() && bound_) {
        send_packet(wire::MediaType::kPing);
        if (keepalive_started_ && !lost_) {
            // Unanswered, this PING makes the path suspect sooner than the timer now armed.
            keepalive_.pinged(loop_.now());
            arm_keepalive();
        }
    }
}

void MediaPath::keepalive_tick() {
    keepalive_timer_ = 0;
    if (lost_) {
        return;
    }
    const TimePoint now = loop_.now();
    KeepaliveSchedule::Action action = keepalive_.due(now);
    if (action == KeepaliveSchedule::Action::kLost) {
        // A loop thread that fell behind (hundreds of sockets ready at once, a stalled process)
        // may run this timer before the handler of a PONG that has already arrived: read what
        // the socket holds before calling the path lost.
        on_readable();
        if (!fd_.valid() || lost_) {
            return;
        }
        action = keepalive_.due(now);
    }
    switch (action) {
        case KeepaliveSchedule::Action::kLost:
            lost_ = true;
            listener_->on_media_lost(*this, "no media PONG for " +
                                                std::to_string(to_millis(now - last_inbound_)) +
                                                " ms");
            return;
        case KeepaliveSchedule::Action::kPing:
            if (!keepalive_.pinging_fast() || loop_.fast_ping_budget().take(now)) {
                send_packet(wire::MediaType::kPing);
            }
            keepalive_.pinged(now);
            break;
        case KeepaliveSchedule::Action::kWait:
            break;
    }
    arm_keepalive();
}

void MediaPath::arm_keepalive() {
    loop_.cancel(keepalive_timer_);
    keepalive_wake_ = keepalive_.next_wakeup();
    keepalive_timer_ = loop_.schedule_at(keepalive_wake_, [this] { keepalive_tick(); });
}

}  // namespace roomlink
