#include "media_path.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "log.h"
#include "read_budget.h"

namespace roomlink {

namespace {
// Early BINDs back off to this while the request they go with is unanswered: a restarted server
// is not flooded by the retransmissions of thousands of waiting engines.
constexpr Duration kEarlyBindMaxInterval = std::chrono::seconds(1);
}  // namespace

MediaPath::MediaPath(EventLoop& loop, Listener* listener, uint64_t media_key,
                     const MediaKeys& keys, Duration bind_retransmit)
    : loop_(loop),
      listener_(listener),
      media_key_(media_key),
      sealer_(keys.client_to_server),
      opener_(keys.server_to_client),
      bind_retransmit_(bind_retransmit),
      early_bind_({bind_retransmit, std::max(bind_retransmit, kEarlyBindMaxInterval), 200,
                   Jitter::none()}),
      keepalive_(loop, *this, this) {}

MediaPath::~MediaPath() { close(); }

void MediaPath::close() {
    loop_.cancel(bind_timer_);
    keepalive_.stop();
    loop_.unwatch(watch_);
    fd_.reset();
}

bool MediaPath::open(const SocketAddress& to, std::string* error, bool eager) {
    remote_ = to;
    bind_eager_ = eager;
    early_bind_.reset();
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
    packet.counter = next_counter_++;  // retransmissions too: a nonce is never sealed twice
    packet.seq = next_seq_++;
    packet.echo_ns = static_cast<uint64_t>(loop_.now().time_since_epoch().count());
    if (first_sent_ns_ == 0) {
        first_sent_ns_ = packet.echo_ns;
    }
    last_sent_ns_ = packet.echo_ns;
    wire::MediaDatagram bytes;
    if (!sealer_.seal(packet, &bytes)) {
        return;  // OpenSSL failed: as good as a lost datagram, the timeout judges the path
    }
    // Loss is expected on UDP (and ECONNREFUSED after an ICMP unreachable): retransmission and
    // the silence timeout deal with it, so a failed send is not an error by itself.
    ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
}

void MediaPath::send_bind_now() {
    if (fd_.valid() && !bound_) {
        bind_eager_ = true;
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
    const Duration wait = bind_eager_ ? bind_retransmit_ : early_bind_.next();
    bind_timer_ = loop_.schedule_after(wait, [this] { bind_tick(); });
}

void MediaPath::on_readable() {
    uint8_t buffer[wire::kMaxDatagram + 1];
    // Datagrams that are not ours (garbage, another key, a PONG nobody asked for) are read and
    // dropped, but at most the budget's worth per wakeup: a flood must not pin the shared loop.
    ReadBudget budget(kMediaDatagramsPerWakeup);
    while (budget.spend(1)) {
        ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, 0);
        if (n < 0) {
            if (errno == EINTR || errno == ECONNREFUSED) {
                continue;  // ECONNREFUSED: ICMP port unreachable for an earlier datagram
            }
            return;  // EAGAIN or a transient error: the keepalive timeout judges the path
        }
        auto packet = authentic(buffer, static_cast<size_t>(n));
        if (!packet || !expected(*packet)) {
            continue;
        }
        handle(*packet);
        // One answer per wakeup: nearly always the only datagram queued, and stopping here saves
        // the recv that would only report EAGAIN, a third of an idle session's media syscalls.
        // epoll is level-triggered, so anything still queued wakes the loop again.
        return;
    }
}

// A datagram for our key whose tag verifies and whose counter is fresh; the window moves only then.
std::optional<wire::MediaPacket> MediaPath::authentic(const uint8_t* data, size_t size) {
    auto header = wire::decode_media_header(data, size);
    if (!header || header->media_key != media_key_) {
        return std::nullopt;
    }
    auto packet = opener_.open(data, size);
    if (!packet) {
        ++unauthenticated_;
        return std::nullopt;
    }
    if (!replay_.fresh(packet->counter)) {
        ++replayed_;
        return std::nullopt;
    }
    replay_.accept(packet->counter);
    return packet;
}

// Liveness is only an answer to something this path sent: a BIND_ACK for our key, or a PONG for
// our key echoing the send time of one of our datagrams (not older than the path, not in the
// future). A server that floods made-up PONGs does not keep a dead path alive.
bool MediaPath::expected(const wire::MediaPacket& packet) const {
    if (packet.media_key != media_key_) {
        return false;
    }
    if (packet.type == wire::MediaType::kBindAck) {
        return true;
    }
    return packet.type == wire::MediaType::kPong && packet.echo_ns >= first_sent_ns_ &&
           packet.echo_ns <= last_sent_ns_ && first_sent_ns_ != 0;
}

void MediaPath::handle(const wire::MediaPacket& packet) {
    const TimePoint now = loop_.now();
    last_inbound_ = now;
    const int64_t now_ns = now.time_since_epoch().count();
    if (packet.type == wire::MediaType::kPong && packet.echo_ns <= static_cast<uint64_t>(now_ns)) {
        keepalive_.rtt_sample(Duration(now_ns - static_cast<int64_t>(packet.echo_ns)));
    }
    keepalive_.heard(now);
    if (packet.type == wire::MediaType::kBindAck && !bound_) {
        bound_ = true;
        loop_.cancel(bind_timer_);
        listener_->on_media_bound(*this);
    }
}

void MediaPath::start_keepalive(KeepaliveTiming timing) {
    last_inbound_ = loop_.now();
    keepalive_.start(timing, last_inbound_);
    if (!keepalive_.schedule().rtt().measured()) {
        // Nothing measured yet (a first join, or a reconnect after a network change): one PING
        // now rather than a healthy interval later, so that the silence threshold adapts within
        // a round trip instead of being the timeout for the first interval. Once per path; the
        // grid of the healthy pings is the same. (A BIND_ACK's echo is no round trip to trust:
        // the server may hold an early BIND until it has processed the JOIN/RESUME.)
        ping_now();
    }
}

void MediaPath::ping_now() {
    if (fd_.valid() && bound_) {
        send_packet(wire::MediaType::kPing);
        keepalive_.pinged_out_of_turn();
    }
}

bool MediaPath::send_keepalive_ping() {
    send_packet(wire::MediaType::kPing);
    return true;
}

bool MediaPath::read_pending_before_verdict() {
    on_readable();
    return fd_.valid();  // a listener may have closed the path meanwhile
}

void MediaPath::on_keepalive_silent(TimePoint now) {
    listener_->on_media_lost(*this, "no media PONG for " +
                                        std::to_string(to_millis(now - last_inbound_)) + " ms");
}

}  // namespace roomlink
