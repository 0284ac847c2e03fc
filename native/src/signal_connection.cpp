#include "signal_connection.h"

#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "log.h"
#include "read_budget.h"

namespace roomlink {

SignalConnection::SignalConnection(EventLoop& loop, Listener* listener,
                                   std::shared_ptr<const TlsContext> tls)
    : loop_(loop), listener_(listener), tls_(std::move(tls)), keepalive_(loop, *this, nullptr) {}

SignalConnection::~SignalConnection() { close(); }

std::optional<SocketAddress> SignalConnection::local_address() const {
    if (!fd_.valid()) {
        return std::nullopt;
    }
    sockaddr_storage local{};
    socklen_t length = sizeof local;
    if (getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&local), &length) != 0) {
        return std::nullopt;
    }
    return SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&local), length);
}

void SignalConnection::close() {
    closed_ = true;
    connected_ = false;
    keepalive_.stop();
    loop_.unwatch(watch_);
    if (fd_.valid() && !graceful_close_) {
        linger abort_on_close{1, 0};
        setsockopt(fd_.get(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    }
    stream_.reset();
    fd_.reset();
}

bool SignalConnection::connect(const SocketAddress& to, std::string* error) {
    remote_ = to;
    bool in_progress = false;
    int err = 0;
    fd_ = start_tcp_connect(to, &in_progress, &err);
    if (!fd_.valid()) {
        connect_error_ = err;
        *error = "connect to " + to.to_string() + ": " + error_text(err);
        closed_ = true;
        return false;
    }
    want_write_ = true;  // EPOLLOUT signals connect completion
    watch_ = loop_.watch(fd_.get(), EPOLLIN | EPOLLOUT | EPOLLRDHUP,
                         [this](uint32_t events) { on_io(events); });
    if (watch_ == 0) {
        *error = "cannot watch socket";
        fd_.reset();
        closed_ = true;
        return false;
    }
    last_inbound_ = loop_.now();
    return true;
}

void SignalConnection::on_io(uint32_t events) {
    if (!connected_) {
        if (handshaking_) {
            continue_handshake();
        } else if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) {
            finish_connect();
        }
        return;
    }
    // A TLS session may need the other direction to go on (a record half written, a key update).
    const bool tls_blocked = tls_wants_write_;
    if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0 ||
        (tls_blocked && (events & EPOLLOUT) != 0)) {
        read_available();
        if (closed_) {
            return;
        }
    }
    if ((events & (EPOLLOUT | (stream_ ? EPOLLIN : 0u))) != 0) {
        flush();
    }
}

void SignalConnection::finish_connect() {
    int err = pending_socket_error(fd_.get());
    if (err != 0) {
        connect_error_ = err;
        fail("connect to " + remote_.to_string() + ": " + error_text(err));
        return;
    }
    tcp_connected_ = true;
    if (tls_) {
        std::string error;
        stream_ = TlsStream::open(*tls_, fd_.get(), &error, remote_.to_string());
        if (!stream_) {
            fail(error);
            return;
        }
        handshaking_ = true;
        continue_handshake();
        return;
    }
    become_connected();
}

namespace {

// TCP_CORK holds partial segments until it is cleared (TCP_NODELAY notwithstanding).
void set_cork(int fd, bool on) {
    const int value = on ? 1 : 0;
    setsockopt(fd, IPPROTO_TCP, TCP_CORK, &value, sizeof value);
}

}  // namespace

void SignalConnection::continue_handshake() {
    // The client's last flight (its Finished) is written inside the call that completes the
    // handshake; corked, it leaves in one segment with the JOIN or RESUME written right after
    // instead of one segment (and one wakeup of the server) of its own.
    set_cork(fd_.get(), true);
    const TlsStream::Result r = stream_->handshake();
    if (r.status != TlsStream::Status::kDone) {
        set_cork(fd_.get(), false);  // a ClientHello or nothing: send it now
    }
    switch (r.status) {
        case TlsStream::Status::kDone:
            handshaking_ = false;
            become_connected();
            if (fd_.valid()) {
                set_cork(fd_.get(), false);  // Finished + the first frame, together
            }
            return;
        case TlsStream::Status::kWantRead:
        case TlsStream::Status::kWantWrite: {
            const bool want_write = r.status == TlsStream::Status::kWantWrite;
            if (want_write != want_write_) {
                want_write_ = want_write;
                loop_.modify(watch_, EPOLLIN | EPOLLRDHUP | (want_write ? EPOLLOUT : 0u));
            }
            return;
        }
        case TlsStream::Status::kClosed:
            handshake_failed_ = true;
            RL_LOG(RL_LOG_WARN, "signal %s: TLS handshake: connection closed by server",
                   remote_.to_string().c_str());
            fail("TLS handshake with " + remote_.to_string() + ": connection closed by server");
            return;
        case TlsStream::Status::kFailed:
            handshake_failed_ = true;
            RL_LOG(RL_LOG_WARN, "signal %s (%s): %s", remote_.to_string().c_str(),
                   tls_->server_name().c_str(), r.why.c_str());
            fail(r.why + " (" + tls_->server_name() + " at " + remote_.to_string() + ")");
            return;
    }
}

void SignalConnection::become_connected() {
    connected_ = true;
    last_inbound_ = loop_.now();
    update_interest();
    listener_->on_signal_connected(*this);
    if (!closed_ && out_.size() > out_start_) {
        flush();
    }
}

void SignalConnection::read_available() {
    uint8_t buffer[16384];
    ReadBudget budget(kSignalReadBytesPerWakeup);
    for (;;) {
        ssize_t n = receive(buffer, sizeof buffer);
        if (n > 0) {
            reader_.append(buffer, static_cast<size_t>(n));
            for (;;) {
                wire::DecodeResult r = reader_.next();
                if (r.status == wire::DecodeStatus::kNeedMore) {
                    break;
                }
                if (r.status == wire::DecodeStatus::kError) {
                    RL_LOG(RL_LOG_ERROR, "signal %s: protocol error from server: %s",
                           remote_.to_string().c_str(), r.error.c_str());
                    fail("protocol error: " + r.error);
                    return;
                }
                if (counts_as_liveness(r.message)) {
                    heard_valid_frame();
                }
                listener_->on_signal_message(*this, r.message);
                if (closed_) {
                    return;
                }
            }
            // A TLS record may hold more than the buffer took: those bytes are out of the socket, so
            // epoll will not fire for them; drain them even past the budget (one record at most).
            const bool spent = !budget.spend(static_cast<size_t>(n));
            const bool buffered = stream_ && stream_->pending();
            if (!buffered && (static_cast<size_t>(n) < sizeof buffer || spent)) {
                return;  // drained, or the wakeup's budget is spent: epoll is level-triggered
            }
        } else {
            return;  // would block, or failed and reported
        }
    }
}

ssize_t SignalConnection::receive(uint8_t* buffer, size_t capacity) {
    if (stream_) {
        const TlsStream::Result r = stream_->read(buffer, capacity);
        const bool wanted_write = tls_wants_write_;
        tls_wants_write_ = r.status == TlsStream::Status::kWantWrite;
        if (tls_wants_write_ != wanted_write) {
            update_interest();
        }
        switch (r.status) {
            case TlsStream::Status::kDone: return static_cast<ssize_t>(r.bytes);
            case TlsStream::Status::kWantRead:
            case TlsStream::Status::kWantWrite: return 0;
            case TlsStream::Status::kClosed: closed_by_server_ = true; fail("connection closed by server"); return -1;
            case TlsStream::Status::kFailed: fail(r.why); return -1;
        }
        return -1;
    }
    for (;;) {
        ssize_t n = ::recv(fd_.get(), buffer, capacity, 0);
        if (n > 0) {
            return n;
        }
        if (n == 0) {
            closed_by_server_ = true;
            fail("connection closed by server");
            return -1;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return 0;
        }
        closed_by_server_ = errno == ECONNRESET;
        fail(error_text(errno));
        return -1;
    }
}

ssize_t SignalConnection::transmit(const uint8_t* data, size_t length) {
    if (stream_) {
        const TlsStream::Result r = stream_->write(data, length);
        switch (r.status) {
            case TlsStream::Status::kDone: return static_cast<ssize_t>(r.bytes);
            case TlsStream::Status::kWantRead:
            case TlsStream::Status::kWantWrite: return 0;  // EPOLLIN and EPOLLOUT both retry it
            case TlsStream::Status::kClosed: closed_by_server_ = true; fail("connection closed by server"); return -1;
            case TlsStream::Status::kFailed: fail(r.why); return -1;
        }
        return -1;
    }
    for (;;) {
        ssize_t n = ::send(fd_.get(), data, length, MSG_NOSIGNAL);
        if (n > 0) {
            return n;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0;
        }
        fail(error_text(errno));
        return -1;
    }
}

// Liveness is a complete, valid frame the protocol lets the server send us, never a byte: a
// server that trickles bytes (or floods PONGs nobody asked for) must not look alive. A PONG
// counts only as the answer to a PING still unanswered (nonces increase; each answers once).
bool SignalConnection::counts_as_liveness(const wire::Message& message) {
    if (const auto* pong = std::get_if<wire::Pong>(&message)) {
        if (pong->nonce <= last_answered_nonce_ || pong->nonce >= next_nonce_) {
            return false;
        }
        last_answered_nonce_ = pong->nonce;
        if (pong->nonce == rtt_nonce_) {
            keepalive_.rtt_sample(loop_.now() - rtt_sent_);
            rtt_nonce_ = 0;
        }
    }
    return true;
}

void SignalConnection::heard_valid_frame() {
    last_inbound_ = loop_.now();
    last_data_ = last_inbound_;
    keepalive_.heard(last_inbound_);
}

void SignalConnection::read_pending() {
    if (connected_ && !closed_) {
        read_available();
    }
}

bool SignalConnection::send(const wire::Message& message) {
    if (closed_ || !fd_.valid()) {
        return false;
    }
    if (!wire::encode_frame(message, out_)) {
        RL_LOG(RL_LOG_ERROR, "signal: refusing to send %s with out-of-range fields",
               wire::type_name(wire::type_code(message)));
        return false;
    }
    if (connected_) {
        flush();  // may fail and report closed; the caller learns through the listener
    }
    return true;
}

void SignalConnection::flush() {
    while (out_start_ < out_.size()) {
        ssize_t n = transmit(out_.data() + out_start_, out_.size() - out_start_);
        if (n > 0) {
            out_start_ += static_cast<size_t>(n);
        } else if (n == 0) {
            break;
        } else {
            return;  // failed and reported
        }
    }
    if (out_start_ == out_.size()) {
        out_.clear();
        if (out_.capacity() > 4096) {
            out_.shrink_to_fit();
        }
        out_start_ = 0;
    }
    update_interest();
}

bool SignalConnection::all_acknowledged() const {
    if (!connected_ || closed_ || out_start_ < out_.size()) {
        return false;
    }
    int unacknowledged = 0;  // SIOCOUTQ: bytes in the send queue, sent or not, not yet acked
    return ::ioctl(fd_.get(), SIOCOUTQ, &unacknowledged) == 0 && unacknowledged == 0;
}

void SignalConnection::update_interest() {
    bool want_write = out_start_ < out_.size() || tls_wants_write_;
    if (want_write != want_write_ && watch_ != 0) {
        want_write_ = want_write;
        loop_.modify(watch_, EPOLLIN | EPOLLRDHUP | (want_write ? EPOLLOUT : 0u));
    }
}

void SignalConnection::start_keepalive(KeepaliveTiming timing) {
    keepalive_.start(timing, loop_.now());
}

bool SignalConnection::send_ping() {
    wire::Ping ping;
    ping.nonce = next_nonce_++;
    rtt_nonce_ = ping.nonce;
    rtt_sent_ = loop_.now();
    return send(ping);
}

void SignalConnection::ping_now() {
    if (connected_ && !closed_) {
        send_ping();
        if (closed_) {
            return;
        }
        keepalive_.pinged_out_of_turn();
    }
}

bool SignalConnection::send_keepalive_ping() {
    if (!connected_) {
        return true;  // nowhere to send yet; the schedule goes on as if it were lost
    }
    send_ping();
    return !closed_;
}

void SignalConnection::fail(const std::string& why) {
    if (closed_) {
        return;
    }
    closed_ = true;
    const bool was_connected = connected_;
    connected_ = false;
    keepalive_.stop();
    loop_.unwatch(watch_);
    stream_.reset();
    fd_.reset();
    listener_->on_signal_closed(*this, why, was_connected);
}

}  // namespace roomlink
