#include "signal_connection.h"

#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "log.h"

namespace roomlink {

SignalConnection::SignalConnection(EventLoop& loop, Listener* listener)
    : loop_(loop), listener_(listener), keepalive_(loop, *this, nullptr) {}

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
        if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) {
            finish_connect();
        }
        return;
    }
    if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
        read_available();
        if (closed_) {
            return;
        }
    }
    if ((events & EPOLLOUT) != 0) {
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
    for (;;) {
        ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, 0);
        if (n > 0) {
            last_inbound_ = loop_.now();
            last_data_ = last_inbound_;
            keepalive_.heard(last_inbound_);
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
                if (const auto* pong = std::get_if<wire::Pong>(&r.message)) {
                    if (rtt_nonce_ != 0 && pong->nonce == rtt_nonce_) {
                        keepalive_.rtt_sample(last_inbound_ - rtt_sent_);
                        rtt_nonce_ = 0;
                    }
                }
                listener_->on_signal_message(*this, r.message);
                if (closed_) {
                    return;
                }
            }
            if (static_cast<size_t>(n) < sizeof buffer) {
                return;  // drained; epoll is level-triggered, so nothing is lost
            }
        } else if (n == 0) {
            fail("connection closed by server");
            return;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return;
        } else {
            fail(error_text(errno));
            return;
        }
    }
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
        ssize_t n = ::send(fd_.get(), out_.data() + out_start_, out_.size() - out_start_,
                           MSG_NOSIGNAL);
        if (n > 0) {
            out_start_ += static_cast<size_t>(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            fail(error_text(errno));
            return;
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
    bool want_write = out_start_ < out_.size();
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
    fd_.reset();
    listener_->on_signal_closed(*this, why, was_connected);
}

}  // namespace roomlink
