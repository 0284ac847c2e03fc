// A minimal room server for tests: plain POSIX sockets on 127.0.0.1 and one thread, speaking
// protocol v1 through wire_codec. Behaviour is scripted through Config; observations are counted
// in Stats, and wait_for() blocks on a condition variable until a predicate over them holds.
#ifndef ROOMLINK_TEST_LOOPBACK_SERVER_H
#define ROOMLINK_TEST_LOOPBACK_SERVER_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "wire_codec.h"

namespace test {

enum class LoopbackJoinReply { kOk, kErr, kNone };


struct LoopbackConfig {
    LoopbackJoinReply join_reply = LoopbackJoinReply::kOk;
    int32_t join_err_code = 31001;
    std::chrono::milliseconds join_ok_delay{0};
    bool answer_bind = true;
    bool answer_media_ping = true;
    bool answer_signal_ping = true;
    bool accept_resume = true;
    bool resume_fresh = false;  // answer RESUME with resumed=0 and a new session
    uint64_t channel_id = 7;
    std::vector<uint64_t> peers;   // presence snapshot: PEER_JOINED each, before JOIN_OK / RESUME_OK
    int32_t resume_session_end = 0;  // answer RESUME with SESSION_END(code), e.g. kicked meanwhile
    std::string media_host = "127.0.0.1";
    int media_port_override = 0;  // advertise this port instead of the real one
    // New signal connections are stalled from the start (see LoopbackServer::stall_connections).
    bool stall_new_connections = false;
    // A RESUME closes the connection it replaces (as the real server does). With false, the old
    // connection stays open, so a test can see whether the client closes it itself.
    bool close_replaced = true;
};


class LoopbackServer {
public:
    using JoinReply = LoopbackJoinReply;
    using Config = LoopbackConfig;

    struct Stats {
        int accepted = 0;
        int open_connections = 0;
        int joins = 0;
        int resumes = 0;
        int leaves = 0;
        int signal_pings = 0;
        int binds = 0;
        int binds_before_join_ok = 0;
        int media_pings = 0;
        int stalled_frames = 0;  // frames read from stalled connections and ignored
        int resets = 0;          // client connections that ended with a reset (ECONNRESET)
        roomlink::wire::Join last_join;
        std::vector<uint64_t> resumed_media_keys;
    };

    explicit LoopbackServer(Config config = Config()) : config_(std::move(config)) {
        wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        listen_fd_ = open_listener(0);
        sockaddr_in a{};
        socklen_t len = sizeof a;
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
        signal_port_ = ntohs(a.sin_port);
        udp_fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        sockaddr_in u = loopback(0);
        bind(udp_fd_, reinterpret_cast<sockaddr*>(&u), sizeof u);
        len = sizeof u;
        getsockname(udp_fd_, reinterpret_cast<sockaddr*>(&u), &len);
        media_port_ = ntohs(u.sin_port);
        thread_ = std::thread([this] { run(); });
    }

    ~LoopbackServer() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        wake();
        thread_.join();
        for (auto& c : clients_) close(c.first);
        if (listen_fd_ >= 0) close(listen_fd_);
        close(udp_fd_);
        close(wake_fd_);
    }

    uint16_t signal_port() const { return signal_port_; }
    uint16_t media_port() const { return media_port_; }

    void configure(const std::function<void(Config&)>& change) {
        std::lock_guard<std::mutex> lock(mutex_);
        change(config_);
    }

    Stats stats() {
        std::lock_guard<std::mutex> lock(mutex_);
        return stats_;
    }

    bool wait_for(const std::function<bool(const Stats&)>& predicate,
                  std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
        std::unique_lock<std::mutex> lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] { return predicate(stats_); });
    }

    // Closes every client connection without a goodbye (like a crash or a cut cable).
    void drop_all_connections() {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto& c : clients_) {
            close(c.first);
            --stats_.open_connections;
        }
        clients_.clear();
        wake();
    }

    // Forgets every session, like a restarted server: RESUME now gets JOIN_ERR.
    void forget_sessions() {
        std::lock_guard<std::mutex> lock(mutex_);
        sessions_.clear();
        key_to_session_.clear();
        bound_.clear();
    }

    // Stalls every open signal connection, in both directions, like TCP stuck in retransmission
    // backoff: what the client sends is held (handled only once unstalled), nothing is sent to
    // it. New connections are served normally unless Config::stall_new_connections says otherwise.
    void stall_connections() {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto& c : clients_) c.second.stalled = true;
    }

    // Serves the connections accepted so far again, except the last `keep_stalled` of them:
    // the frames they sent meanwhile are handled now, in order.
    void unstall_connections_but_last(int keep_stalled) {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<int> fds;
        for (auto& c : clients_) {
            if (c.second.stalled && c.second.id + static_cast<uint64_t>(keep_stalled) < next_client_id_) {
                fds.push_back(c.first);
            }
        }
        for (int fd : fds) {
            Client& c = clients_.at(fd);
            c.stalled = false;
            std::vector<roomlink::wire::Message> held = std::move(c.held);
            for (auto& m : held) {
                if (!handle_frame(fd, m)) break;  // closed
            }
        }
        changed_.notify_all();
    }

    void stop_listening() {
        std::lock_guard<std::mutex> lock(mutex_);
        if (listen_fd_ >= 0) {
            close(listen_fd_);
            listen_fd_ = -1;
        }
        wake();
    }

    void resume_listening() {
        std::lock_guard<std::mutex> lock(mutex_);
        if (listen_fd_ < 0) {
            listen_fd_ = open_listener(signal_port_);
        }
        wake();
    }

    void send_to_all(const roomlink::wire::Message& message, bool then_close = false) {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<int> fds;
        for (auto& c : clients_) fds.push_back(c.first);
        for (int fd : fds) {
            if (clients_.at(fd).stalled) continue;
            send_frame(fd, message);
            if (then_close) close_client(fd);
        }
        wake();
    }

private:
    struct Client {
        uint64_t id = 0;
        roomlink::wire::FrameReader reader;
        uint64_t session_id = 0;
        bool stalled = false;
        std::vector<roomlink::wire::Message> held;  // received while stalled
    };
    struct Session {
        roomlink::wire::SessionSecret secret{};
        uint64_t media_key = 0;
        uint64_t client_id = 0;
        bool join_ok_sent = false;
    };
    struct Delayed {
        std::chrono::steady_clock::time_point due;
        uint64_t client_id;
        uint64_t session_id;
    };

    static sockaddr_in loopback(uint16_t port) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return a;
    }

    static int open_listener(uint16_t port) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a = loopback(port);
        if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 256) != 0) {
            close(fd);
            return -1;
        }
        return fd;
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
                fds.push_back({udp_fd_, POLLIN, 0});
                if (listen_fd_ >= 0) fds.push_back({listen_fd_, POLLIN, 0});
                for (auto& c : clients_) fds.push_back({c.first, POLLIN, 0});
                auto now = std::chrono::steady_clock::now();
                for (auto& d : delayed_) {
                    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d.due - now)
                                  .count() + 1;
                    int t = ms < 0 ? 0 : static_cast<int>(ms);
                    if (timeout_ms < 0 || t < timeout_ms) timeout_ms = t;
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
                } else if (p.fd == udp_fd_) {
                    read_datagrams();
                } else if (p.fd == listen_fd_) {
                    accept_all();
                } else if (clients_.count(p.fd) != 0) {
                    read_client(p.fd);
                }
            }
            run_delayed();
            changed_.notify_all();
        }
    }

    void accept_all() {
        for (;;) {
            int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) return;
            Client c;
            c.id = next_client_id_++;
            c.stalled = config_.stall_new_connections;
            clients_.emplace(fd, std::move(c));
            ++stats_.accepted;
            ++stats_.open_connections;
        }
    }

    void close_client(int fd) {
        if (clients_.erase(fd) != 0) {
            close(fd);
            --stats_.open_connections;
        }
    }

    void send_frame(int fd, const roomlink::wire::Message& m) {
        std::vector<uint8_t> bytes;
        roomlink::wire::encode_frame(m, bytes);
        ssize_t ignored = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        (void)ignored;
    }

    int fd_of_client(uint64_t client_id) {
        for (auto& c : clients_) {
            if (c.second.id == client_id) return c.first;
        }
        return -1;
    }

    void read_client(int fd) {
        uint8_t buf[4096];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            if (n < 0 && errno == ECONNRESET) ++stats_.resets;
            close_client(fd);
            return;
        }
        if (n < 0) return;
        Client& c = clients_.at(fd);
        c.reader.append(buf, static_cast<size_t>(n));
        for (;;) {
            auto r = c.reader.next();
            if (r.status == roomlink::wire::DecodeStatus::kNeedMore) return;
            if (r.status == roomlink::wire::DecodeStatus::kError) {
                send_frame(fd, roomlink::wire::ServerError{31006, r.error});
                close_client(fd);
                return;
            }
            if (!handle_frame(fd, r.message)) return;  // connection closed
        }
    }

    std::string advertised_host() const { return config_.media_host; }
    uint16_t advertised_port() const {
        return config_.media_port_override != 0 ? static_cast<uint16_t>(config_.media_port_override)
                                                 : media_port_;
    }

    void announce_peers(int fd) {
        for (uint64_t uid : config_.peers) send_frame(fd, roomlink::wire::PeerJoined{uid});
    }

    void ack_pending_bind(uint64_t key) {
        auto it = pending_binds_.find(key);
        if (it != pending_binds_.end() && config_.answer_bind) {
            bound_[key] = it->second;
            send_media(roomlink::wire::MediaType::kBindAck, key, it->second);
            pending_binds_.erase(it);
        }
    }

    void send_join_ok(int fd, uint64_t session_id) {
        Session& s = sessions_.at(session_id);
        roomlink::wire::JoinOk ok{config_.channel_id, session_id, s.secret, advertised_host(),
                                  advertised_port(), 1700000000000ULL};
        announce_peers(fd);  // the snapshot comes first; JOIN_OK ends it
        send_frame(fd, ok);
        s.join_ok_sent = true;
        ack_pending_bind(s.media_key);
    }

    // Returns false if the connection was closed.
    bool handle_frame(int fd, roomlink::wire::Message& message) {
        using namespace roomlink::wire;
        Client& c = clients_.at(fd);
        if (c.stalled) {
            ++stats_.stalled_frames;
            c.held.push_back(message);
            return true;
        }
        if (auto* join = std::get_if<Join>(&message)) {
            ++stats_.joins;
            stats_.last_join = *join;
            if (config_.join_reply == JoinReply::kErr) {
                send_frame(fd, JoinErr{config_.join_err_code, "refused"});
                close_client(fd);
                return false;
            }
            if (config_.join_reply == JoinReply::kNone) return true;
            uint64_t id = next_session_id_++;
            Session s;
            for (size_t i = 0; i < s.secret.size(); ++i) s.secret[i] = static_cast<uint8_t>(id + i);
            s.media_key = join->media_key;
            s.client_id = c.id;
            sessions_[id] = s;
            key_to_session_[join->media_key] = id;
            c.session_id = id;
            if (config_.join_ok_delay.count() > 0) {
                delayed_.push_back({std::chrono::steady_clock::now() + config_.join_ok_delay, c.id, id});
            } else {
                send_join_ok(fd, id);
            }
        } else if (auto* resume = std::get_if<Resume>(&message)) {
            ++stats_.resumes;
            stats_.resumed_media_keys.push_back(resume->media_key);
            if (config_.resume_session_end != 0) {
                send_frame(fd, SessionEnd{config_.resume_session_end, "ended while you were away"});
                close_client(fd);
                return false;
            }
            auto it = sessions_.find(resume->session_id);
            if (!config_.accept_resume || it == sessions_.end() ||
                it->second.secret != resume->session_secret) {
                send_frame(fd, JoinErr{31001, "unknown session"});
                close_client(fd);
                return false;
            }
            if (config_.resume_fresh) {
                // The grace period had expired: admit the client as a new session.
                Session fresh = it->second;
                key_to_session_.erase(fresh.media_key);
                sessions_.erase(it);
                uint64_t id = next_session_id_++;
                for (size_t i = 0; i < fresh.secret.size(); ++i) {
                    fresh.secret[i] = static_cast<uint8_t>(id * 3 + i);
                }
                it = sessions_.emplace(id, fresh).first;
                resume->session_id = id;
            }
            Session& s = it->second;
            int old_fd = fd_of_client(s.client_id);
            if (old_fd >= 0 && old_fd != fd && config_.close_replaced) {
                close_client(old_fd);  // replaced, silently
            }
            key_to_session_.erase(s.media_key);
            s.media_key = resume->media_key;
            s.client_id = c.id;
            key_to_session_[s.media_key] = resume->session_id;
            c.session_id = resume->session_id;
            announce_peers(fd);
            send_frame(fd, ResumeOk{config_.channel_id, config_.resume_fresh ? uint8_t{0} : uint8_t{1},
                                    resume->session_id, s.secret,
                                    advertised_host(), advertised_port()});
            ack_pending_bind(s.media_key);
        } else if (std::holds_alternative<Leave>(message)) {
            ++stats_.leaves;
            if (c.session_id != 0) {
                key_to_session_.erase(sessions_[c.session_id].media_key);
                sessions_.erase(c.session_id);
            }
            send_frame(fd, LeaveOk{});
            close_client(fd);
            return false;
        } else if (auto* ping = std::get_if<Ping>(&message)) {
            ++stats_.signal_pings;
            if (config_.answer_signal_ping) send_frame(fd, Pong{ping->nonce});
        }
        return true;
    }

    void run_delayed() {
        auto now = std::chrono::steady_clock::now();
        for (size_t i = 0; i < delayed_.size();) {
            if (delayed_[i].due <= now) {
                Delayed d = delayed_[i];
                delayed_.erase(delayed_.begin() + static_cast<long>(i));
                int fd = fd_of_client(d.client_id);
                if (fd >= 0 && sessions_.count(d.session_id) != 0) send_join_ok(fd, d.session_id);
            } else {
                ++i;
            }
        }
    }

    void send_media(roomlink::wire::MediaType type, uint64_t key, const sockaddr_in& to,
                    uint32_t seq = 0, uint64_t echo = 0) {
        auto bytes = roomlink::wire::encode_media({type, key, seq, echo});
        sendto(udp_fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to),
               sizeof to);
    }

    void read_datagrams() {
        using namespace roomlink::wire;
        for (;;) {
            uint8_t buf[1500];
            sockaddr_in from{};
            socklen_t len = sizeof from;
            ssize_t n = recvfrom(udp_fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
            if (n < 0) return;
            auto p = decode_media(buf, static_cast<size_t>(n));
            if (!p) continue;
            if (p->type == MediaType::kBind) {
                ++stats_.binds;
                auto it = key_to_session_.find(p->media_key);
                bool join_ok_sent = it != key_to_session_.end() &&
                                    sessions_[it->second].join_ok_sent;
                if (!join_ok_sent) ++stats_.binds_before_join_ok;
                if (it == key_to_session_.end()) {
                    pending_binds_[p->media_key] = from;
                } else if (config_.answer_bind) {
                    bound_[p->media_key] = from;
                    send_media(MediaType::kBindAck, p->media_key, from, p->seq, p->echo_ns);
                }
            } else if (p->type == MediaType::kPing) {
                ++stats_.media_pings;
                auto it = bound_.find(p->media_key);
                if (config_.answer_media_ping && it != bound_.end() &&
                    it->second.sin_port == from.sin_port) {
                    send_media(MediaType::kPong, p->media_key, from, p->seq, p->echo_ns);
                }
            }
        }
    }

    std::mutex mutex_;
    std::condition_variable changed_;
    Config config_;
    Stats stats_;
    bool stopping_ = false;
    int wake_fd_ = -1;
    int listen_fd_ = -1;
    int udp_fd_ = -1;
    uint16_t signal_port_ = 0;
    uint16_t media_port_ = 0;
    std::map<int, Client> clients_;
    std::map<uint64_t, Session> sessions_;
    std::map<uint64_t, uint64_t> key_to_session_;
    std::map<uint64_t, sockaddr_in> pending_binds_;
    std::map<uint64_t, sockaddr_in> bound_;
    std::vector<Delayed> delayed_;
    uint64_t next_client_id_ = 1;
    uint64_t next_session_id_ = 1000;
    std::thread thread_;
};

}  // namespace test

#endif
