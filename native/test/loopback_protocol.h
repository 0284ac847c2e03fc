// The protocol half of the in-test room server: plain POSIX sockets on 127.0.0.1 speaking
// protocol v1 through wire_codec, scripted by LoopbackConfig and counted in LoopbackStats.
// It owns no thread and never blocks: a driver tells it which of its sockets are readable
// (on_readable) and when delayed answers are due (run_delayed). Two drivers exist:
// LoopbackServer (loopback_server.h, its own thread, wall clock) and ClockedLoopbackServer
// (clocked_loopback_server.h, on the engine's EventLoop, manual clock).
#ifndef ROOMLINK_TEST_LOOPBACK_PROTOCOL_H
#define ROOMLINK_TEST_LOOPBACK_PROTOCOL_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "media_server_key.h"
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
    int32_t resume_join_err = 0;     // answer RESUME with JOIN_ERR(code), e.g. a server limit (31022)
    std::string media_host = "127.0.0.1";
    int media_port_override = 0;  // advertise this port instead of the real one
    // New signal connections are stalled from the start (see stall_connections).
    bool stall_new_connections = false;
    // New signal connections are accepted and closed at once: the server's host answers, the
    // server does not (a crash loop behind a live listener).
    bool close_new_connections = false;
    // A RESUME closes the connection it replaces (as the real server does). With false, the old
    // connection stays open, so a test can see whether the client closes it itself.
    bool close_replaced = true;
    // A hostile server: every JOIN_OK / RESUME_OK is sent twice.
    bool answer_twice = false;
    // Room messages (docs/PROTOCOL.md): MESSAGE is answered with MESSAGE_ACK unless false (then
    // the server takes messages silently: they count in RESUME_OK.lastAccepted only).
    bool ack_messages = true;
    // RESUME_OK(resumed=0) carries the ended session's accepted seq (the server remembers it).
    bool fresh_remembers_accepted = true;
};

// A MESSAGE the server accepted (seq = accepted + 1), in the order it took them.
struct LoopbackMessage {
    uint64_t session_id = 0;
    uint64_t seq = 0;
    uint8_t target = 0;
    uint64_t to_uid = 0;
    std::vector<uint8_t> data;
};

struct LoopbackStats {
    using Time = std::chrono::steady_clock::time_point;  // the driver's clock

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
    uint64_t unauthenticated_datagrams = 0;  // media datagrams whose tag did not verify
    // When things happened, on the driver's clock.
    std::vector<Time> accepted_at;
    std::vector<Time> joined_at;   // JOIN received (answered or not)
    std::vector<Time> resumed_at;  // RESUME received and handled (not held by a stall)
    std::vector<Time> client_closed_at;  // the client closed (EOF) or reset a connection
    // Room messages.
    int message_frames = 0;      // MESSAGE frames received, duplicates included
    int duplicate_messages = 0;  // seq <= accepted: a retransmission
    std::vector<LoopbackMessage> messages;  // accepted, in order
    std::vector<uint64_t> message_seqs;     // every MESSAGE seq received, in order
    std::vector<uint64_t> stream_acks;      // STREAM_ACK seqs, in order
    std::vector<Time> stream_acks_at;
    std::vector<uint64_t> last_received;    // RESUME.lastReceived, in order
};

class LoopbackProtocol {
public:
    using Config = LoopbackConfig;
    using Stats = LoopbackStats;
    using Time = Stats::Time;
    using JoinReply = LoopbackJoinReply;

    // What a driver must know: sockets it should watch come and go, answers fall due later.
    struct Driver {
        std::function<Time()> now;
        std::function<void(int fd)> opened;   // watch it for readability
        std::function<void(int fd)> closing;  // stop watching: it is closed right after
        std::function<void(Time due)> delayed;  // call run_delayed() at `due`
    };

    LoopbackProtocol(Config config, Driver driver)
        : config_(std::move(config)), driver_(std::move(driver)) {
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
    }

    // Call once the driver is ready to hear about the sockets that exist from the start.
    void start() {
        driver_.opened(udp_fd_);
        driver_.opened(listen_fd_);
    }

    ~LoopbackProtocol() {
        for (auto& c : clients_) close(c.first);
        if (listen_fd_ >= 0) close(listen_fd_);
        close(udp_fd_);
    }

    LoopbackProtocol(const LoopbackProtocol&) = delete;
    LoopbackProtocol& operator=(const LoopbackProtocol&) = delete;

    uint16_t signal_port() const { return signal_port_; }
    uint16_t media_port() const { return media_port_; }
    Config& config() { return config_; }
    const Stats& stats() const { return stats_; }
    // Counts every socket event handled: a driver stepping a manual clock uses it to tell when
    // the exchange a step started has come to rest.
    uint64_t activity() const { return activity_; }

    // Every socket a driver should watch (for a driver that polls the whole set each round).
    std::vector<int> sockets() const {
        std::vector<int> fds{udp_fd_};
        if (listen_fd_ >= 0) fds.push_back(listen_fd_);
        for (auto& c : clients_) fds.push_back(c.first);
        return fds;
    }

    void on_readable(int fd) {
        ++activity_;
        if (fd == udp_fd_) {
            read_datagrams();
        } else if (fd == listen_fd_) {
            accept_all();
        } else if (clients_.count(fd) != 0) {
            read_client(fd);
        }
    }

    // Closes every client connection without a goodbye (like a crash or a cut cable).
    void drop_all_connections() {
        std::vector<int> fds;
        for (auto& c : clients_) fds.push_back(c.first);
        for (int fd : fds) close_client(fd);
    }

    // Forgets every session, like a restarted server: RESUME now gets JOIN_ERR.
    void forget_sessions() {
        sessions_.clear();
        key_to_session_.clear();
        bound_.clear();
    }

    // Stalls every open signal connection, in both directions, like TCP stuck in retransmission
    // backoff: what the client sends is held (handled only once unstalled), nothing is sent to
    // it. New connections are served normally unless Config::stall_new_connections says otherwise.
    void stall_connections() {
        for (auto& c : clients_) c.second.stalled = true;
    }

    // Serves the connections accepted so far again, except the last `keep_stalled` of them:
    // the frames they sent meanwhile are handled now, in order.
    void unstall_connections_but_last(int keep_stalled) {
        std::vector<int> fds;
        for (auto& c : clients_) {
            if (c.second.stalled &&
                c.second.id + static_cast<uint64_t>(keep_stalled) < next_client_id_) {
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
    }

    void stop_listening() {
        if (listen_fd_ >= 0) {
            driver_.closing(listen_fd_);
            close(listen_fd_);
            listen_fd_ = -1;
        }
    }

    void resume_listening() {
        if (listen_fd_ < 0) {
            listen_fd_ = open_listener(signal_port_);
            if (listen_fd_ >= 0) driver_.opened(listen_fd_);
        }
    }

    // A stream item (PEER_JOINED, PEER_LEFT, ROOM_MESSAGE) to a connection whose session has
    // its answer is appended to that session's receiver stream (kept for replay until a
    // STREAM_ACK covers it) and sent unless the connection is stalled; anything else is sent as is.
    void send_to_all(const roomlink::wire::Message& message, bool then_close = false) {
        std::vector<int> fds;
        for (auto& c : clients_) fds.push_back(c.first);
        for (int fd : fds) {
            Client& c = clients_.at(fd);
            if (is_stream_item(message) && c.answered && sessions_.count(c.session_id) != 0) {
                append_item(c.session_id, message);
            } else if (!c.stalled) {
                send_frame(fd, message);
            }
            if (then_close) close_client(fd);
        }
    }

    // A stream item for every session, connected or not (what the room says while a member is
    // away is replayed after its RESUME).
    void stream_to_sessions(const roomlink::wire::Message& item) {
        std::vector<uint64_t> ids;
        for (auto& s : sessions_) ids.push_back(s.first);
        for (uint64_t id : ids) append_item(id, item);
    }

    // Items of the session's receiver stream sent so far (numbered 1.. from its answer).
    uint64_t stream_items(uint64_t session_id) const {
        auto it = sessions_.find(session_id);
        return it == sessions_.end() ? 0 : it->second.stream_base + it->second.stream.size();
    }

    // Writes raw bytes to every unstalled connection (a hostile server's trickle or flood).
    void send_bytes_to_all(const std::vector<uint8_t>& bytes) {
        for (auto& c : clients_) {
            if (c.second.stalled) continue;
            ssize_t ignored = ::send(c.first, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            (void)ignored;
        }
    }

    // A media PONG to every bound path, echoing `echo_ns` (a hostile server's made-up answers).
    void send_media_pong_to_bound(uint64_t echo_ns) {
        for (auto& b : bound_) send_media(roomlink::wire::MediaType::kPong, b.first, b.second, 0, echo_ns);
    }

    // Sends answers whose join_ok_delay has run out.
    void run_delayed() {
        const Time now = driver_.now();
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

    // The earliest delayed answer, if any (for a driver that computes its own poll timeout).
    bool next_delayed(Time* due) const {
        if (delayed_.empty()) return false;
        *due = delayed_.front().due;
        for (const auto& d : delayed_) *due = std::min(*due, d.due);
        return true;
    }

private:
    struct Client {
        uint64_t id = 0;
        roomlink::wire::FrameReader reader;
        uint64_t session_id = 0;
        bool stalled = false;
        bool answered = false;  // JOIN_OK / RESUME_OK sent on it: stream items follow
        std::vector<roomlink::wire::Message> held;  // received while stalled
    };
    struct Session {
        roomlink::wire::SessionSecret secret{};
        uint64_t media_key = 0;
        uint64_t client_id = 0;
        bool join_ok_sent = false;
        uint64_t uid = 0;
        uint64_t accepted = 0;  // highest MESSAGE seq taken
        // The replay buffer: items stream_base + 1 .. stream_base + stream.size().
        uint64_t stream_base = 0;
        std::deque<roomlink::wire::Message> stream;
    };

    static bool is_stream_item(const roomlink::wire::Message& m) {
        return std::holds_alternative<roomlink::wire::PeerJoined>(m) ||
               std::holds_alternative<roomlink::wire::PeerLeft>(m) ||
               std::holds_alternative<roomlink::wire::RoomMessage>(m);
    }

    // Appends to the session's stream, and sends it on the session's connection if that one has
    // its answer and is not stalled.
    void append_item(uint64_t session_id, const roomlink::wire::Message& item) {
        auto it = sessions_.find(session_id);
        if (it == sessions_.end()) return;
        it->second.stream.push_back(item);
        int fd = fd_of_client(it->second.client_id);
        if (fd < 0) return;
        Client& c = clients_.at(fd);
        if (c.session_id == session_id && c.answered && !c.stalled) send_frame(fd, item);
    }

    void handle_message(int fd, Client& c, const roomlink::wire::MessageFrame& m) {
        using namespace roomlink::wire;
        ++stats_.message_frames;
        stats_.message_seqs.push_back(m.seq);
        auto it = sessions_.find(c.session_id);
        if (it == sessions_.end()) return;
        Session& s = it->second;
        if (m.seq <= s.accepted) {
            ++stats_.duplicate_messages;
        } else if (m.seq == s.accepted + 1) {
            s.accepted = m.seq;
            stats_.messages.push_back({c.session_id, m.seq, m.target, m.to_uid, m.data});
            std::vector<uint64_t> to;
            for (auto& other : sessions_) {
                if (other.first == c.session_id) continue;
                if (m.target == 0 || other.second.uid == m.to_uid) to.push_back(other.first);
            }
            for (uint64_t id : to) append_item(id, RoomMessage{s.uid, m.target, m.data});
        } else {
            send_frame(fd, ServerError{31006, "message gap"});
            close_client(fd);
            return;
        }
        if (config_.ack_messages) send_frame(fd, MessageAck{s.accepted});
    }
    struct Delayed {
        Time due;
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

    void accept_all() {
        for (;;) {
            int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) return;
            // No Nagle: a frame the test sends behind an unacknowledged one would otherwise wait
            // for the client's delayed ACK (real time, while the manual clock stands still).
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            Client c;
            c.id = next_client_id_++;
            c.stalled = config_.stall_new_connections;
            clients_.emplace(fd, std::move(c));
            ++stats_.accepted;
            ++stats_.open_connections;
            stats_.accepted_at.push_back(driver_.now());
            if (config_.close_new_connections) {
                close(fd);
                clients_.erase(fd);
                --stats_.open_connections;
                continue;
            }
            driver_.opened(fd);
        }
    }

    void close_client(int fd) {
        if (clients_.count(fd) != 0) {
            driver_.closing(fd);
            clients_.erase(fd);
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
            stats_.client_closed_at.push_back(driver_.now());
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
        if (config_.answer_twice) send_frame(fd, ok);
        s.join_ok_sent = true;
        for (auto& c : clients_) {
            if (c.first == fd) c.second.answered = true;
        }
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
            stats_.joined_at.push_back(driver_.now());
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
            s.uid = join->uid;
            register_media_key(join->media_key, join->media_secret);
            sessions_[id] = s;
            key_to_session_[join->media_key] = id;
            c.session_id = id;
            if (config_.join_ok_delay.count() > 0) {
                const Time due = driver_.now() + config_.join_ok_delay;
                delayed_.push_back({due, c.id, id});
                driver_.delayed(due);
            } else {
                send_join_ok(fd, id);
            }
        } else if (auto* resume = std::get_if<Resume>(&message)) {
            ++stats_.resumes;
            stats_.resumed_at.push_back(driver_.now());
            stats_.resumed_media_keys.push_back(resume->media_key);
            stats_.last_received.push_back(resume->last_received);
            if (media_keys_.count(resume->media_key) == 0) {
                register_media_key(resume->media_key, resume->media_secret);
            }
            if (config_.resume_session_end != 0) {
                send_frame(fd, SessionEnd{config_.resume_session_end, "ended while you were away"});
                close_client(fd);
                return false;
            }
            if (config_.resume_join_err != 0) {
                send_frame(fd, JoinErr{config_.resume_join_err, "refused by a limit"});
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
                fresh.stream.clear();  // a fresh session: a fresh stream, after a snapshot
                fresh.stream_base = 0;
                if (!config_.fresh_remembers_accepted) fresh.accepted = 0;
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
            // Like the real server: every RESUME_OK carries a fresh secret and the old one is
            // dead, so every test that resumes twice (or migrates, then resumes) checks that the
            // engine keeps the rotated one.
            ++s.secret[0];
            int old_fd = fd_of_client(s.client_id);
            if (old_fd >= 0 && old_fd != fd && config_.close_replaced) {
                close_client(old_fd);  // replaced, silently
            }
            key_to_session_.erase(s.media_key);
            s.media_key = resume->media_key;
            s.client_id = c.id;
            key_to_session_[s.media_key] = resume->session_id;
            c.session_id = resume->session_id;
            if (config_.resume_fresh) {
                announce_peers(fd);  // a fresh session's snapshot; resumed=1 has none
            } else {
                // The replay buffer drops what lastReceived covers (lenient: never beyond).
                while (s.stream_base < resume->last_received && !s.stream.empty()) {
                    s.stream.pop_front();
                    ++s.stream_base;
                }
            }
            const ResumeOk ok{config_.channel_id, config_.resume_fresh ? uint8_t{0} : uint8_t{1},
                              resume->session_id, s.secret, advertised_host(), advertised_port(),
                              s.accepted};
            send_frame(fd, ok);
            if (config_.answer_twice) send_frame(fd, ok);
            c.answered = true;
            if (!config_.resume_fresh) {
                for (auto& item : s.stream) send_frame(fd, item);  // the replay
            }
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
        } else if (auto* msg = std::get_if<MessageFrame>(&message)) {
            handle_message(fd, c, *msg);
            return clients_.count(fd) != 0;
        } else if (auto* ack = std::get_if<StreamAck>(&message)) {
            stats_.stream_acks.push_back(ack->seq);
            stats_.stream_acks_at.push_back(driver_.now());
            auto it = sessions_.find(c.session_id);
            if (it != sessions_.end()) {
                Session& s = it->second;
                while (s.stream_base < ack->seq && !s.stream.empty()) {
                    s.stream.pop_front();
                    ++s.stream_base;
                }
            }
        }
        return true;
    }

    // The keys a JOIN/RESUME named: what the client seals with `key` is opened with these.
    void register_media_key(uint64_t key, const roomlink::wire::MediaSecret& secret) {
        media_keys_[key] = std::make_unique<test::MediaServerKey>(key, secret);
    }

    void send_media(roomlink::wire::MediaType type, uint64_t key, const sockaddr_in& to,
                    uint32_t seq = 0, uint64_t echo = 0) {
        auto k = media_keys_.find(key);
        if (k == media_keys_.end()) return;  // never named by a JOIN/RESUME: nothing to seal with
        auto bytes = k->second->seal(type, seq, echo);
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
            auto header = decode_media_header(buf, static_cast<size_t>(n));
            if (!header) continue;
            auto keys = media_keys_.find(header->media_key);
            std::optional<MediaPacket> p = header;
            if (keys != media_keys_.end()) {
                p = keys->second->open(buf, static_cast<size_t>(n));
                if (!p) {
                    ++stats_.unauthenticated_datagrams;
                    continue;
                }
            } else if (header->type != MediaType::kBind) {
                continue;  // a BIND may precede its JOIN (kept pending, checked by no one here)
            }
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


    std::map<uint64_t, std::unique_ptr<test::MediaServerKey>> media_keys_;
    Config config_;
    Driver driver_;
    Stats stats_;
    uint64_t activity_ = 0;
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
};

}  // namespace test

#endif
