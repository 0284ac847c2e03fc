// One engine: the app's handle on one channel membership. Public methods are called from any
// app thread; they update the reported state synchronously (through the state machine, under a
// short lock) and hand the work to the engine's loop. Everything else runs on that loop: the
// sockets, the timers and every rl_event_fn invocation.
#ifndef ROOMLINK_ENGINE_H
#define ROOMLINK_ENGINE_H

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "backoff.h"
#include "connection_state_machine.h"
#include "event_loop.h"
#include "media_path.h"
#include "options.h"
#include "roomlink/roomlink.h"
#include "signal_connection.h"
#include "socket_util.h"
#include "wire_codec.h"

namespace roomlink {

class Engine final : public std::enable_shared_from_this<Engine>,
                     public SignalConnection::Listener,
                     public MediaPath::Listener {
public:
    struct EventSink {
        rl_event_fn fn = nullptr;
        void* user = nullptr;
    };

    static std::shared_ptr<Engine> create(EngineOptions options, EventLoop& loop, EventSink sink);

    // Validation of the arguments is the caller's job (see c_api.cpp).
    int32_t join(std::string token, std::string channel, int64_t uid);
    int32_t leave();
    int32_t state() const { return published_state_.load(std::memory_order_acquire); }
    void notify_network_changed();
    // Blocks until the loop has dropped the engine; no callback runs after it returns.
    void shutdown();

    uint64_t id() const { return id_; }
    EventLoop& loop() const { return loop_; }

    Engine(EngineOptions options, EventLoop& loop, EventSink sink);
    ~Engine() override;
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

private:
    enum class Phase { kIdle, kJoining, kConnected, kReconnecting };

    struct JoinRequest {
        std::string token;
        std::string channel;
        int64_t uid = 0;
        TimePoint requested_at;
    };

    struct Session {  // credentials issued by JOIN_OK / RESUME_OK
        bool valid = false;
        uint64_t channel_id = 0;
        uint64_t session_id = 0;
        wire::SessionSecret secret{};
    };

    struct PeerEvent {
        bool joined;
        uint64_t uid;
        uint8_t reason;
    };

    // One try at (re)establishing the session: a TCP connection carrying JOIN or RESUME, and the
    // UDP path bound with this attempt's mediaKey.
    struct Attempt {
        uint64_t number = 0;
        uint64_t media_key = 0;
        bool resume = false;
        std::unique_ptr<SignalConnection> signal;
        bool request_sent = false;
        bool answered = false;  // JOIN_OK / RESUME_OK received
        // Silent for signal_timeout: counted as failed (the retry is scheduled), but kept open
        // until the next attempt in case its answer still comes.
        bool parked = false;
        bool waiting_for_busy_server = false;  // silent, but the server's TCP has the request
        std::unique_ptr<MediaPath> media;
        // Presence snapshot: the PEER_JOINED that precede JOIN_OK / RESUME_OK (which ends it).
        std::vector<uint64_t> snapshot;
        std::vector<PeerEvent> pending_peers;  // live changes after the answer, until CONNECTED
    };

    // Signal stall while media is healthy: a second TCP connection RESUMEs the session with the
    // current mediaKey (the media binding is untouched) and replaces the stalled one silently.
    struct Migration {
        TimePoint started;
        std::unique_ptr<SignalConnection> signal;  // null once it failed
        bool request_sent = false;
        std::vector<uint64_t> snapshot;  // PEER_JOINED before RESUME_OK
    };

    // --- commands, on the loop
    void on_join_command(uint64_t generation, Transition t, JoinRequest request);
    void on_leave_command(uint64_t generation, Transition t);
    void on_network_changed();
    void on_shutdown();

    // --- the attempt loop
    void resolve_server();
    void start_attempt(std::unique_ptr<SignalConnection> connected = nullptr);
    void send_request();
    void watch_attempt();
    void attempt_silence_tick();
    void attempt_failed(const std::string& why, bool reached_server);
    void schedule_retry(bool probe);
    void probe_tick();
    Duration next_probe_delay() const;
    void note_connect_error(int error);
    bool open_media(const SocketAddress& to);
    void use_media_address(const std::string& host, uint16_t port);
    void set_media_address(const SocketAddress& address);
    void maybe_established();

    // --- network observations
    void on_signal_connected(SignalConnection& connection) override;
    void on_signal_message(SignalConnection& connection, wire::Message& message) override;
    void on_signal_closed(SignalConnection& connection, const std::string& why,
                          bool was_connected) override;
    void on_media_bound(MediaPath& path) override;
    void on_media_lost(MediaPath& path, const std::string& why) override;

    void on_session_granted(uint64_t channel_id, uint64_t session_id,
                            const wire::SessionSecret& secret, const std::string& media_host,
                            uint16_t media_port);
    void on_join_err(const wire::JoinErr& err);
    void on_session_end(const wire::SessionEnd& end);
    void on_peer(PeerEvent event);
    void signal_failed(const std::string& why);
    void begin_outage(ConnEvent cause, const std::string& why);
    void on_join_timeout();
    void on_reconnect_timeout();

    // --- signal liveness while CONNECTED, and migration
    TimePoint signal_heard();
    bool media_healthy() const;
    void watch_signal();
    void signal_watch_tick();
    void start_migration(Duration silence);
    void on_migration_connected();
    void on_migration_message(wire::Message& message);
    void on_migration_closed(const std::string& why);
    void complete_migration();
    void drop_migration();
    // Ends the session (FAILED or DISCONNECTED) and reports the matching result event.
    void finish_with(Transition t, int32_t code, bool say_leave);

    // --- helpers
    std::optional<Transition> observe(ConnEvent event);
    void stop_all(bool say_leave);
    void cancel_attempt_timers();
    void emit(int32_t type, int32_t a = 0, int32_t b = 0, int64_t x = 0, int64_t y = 0,
              int64_t z = 0);
    void emit_state(const Transition& t);
    void deliver_peer(const PeerEvent& event);
    void reconcile_presence(const std::vector<uint64_t>& snapshot);
    int64_t elapsed_ms() const;
    KeepaliveTiming media_keepalive() const;
    KeepaliveTiming signal_keepalive() const;

    const uint64_t id_;
    const EngineOptions options_;
    EventLoop& loop_;
    const EventSink sink_;

    // Shared between app threads and the loop.
    mutable std::mutex state_mutex_;
    ConnectionStateMachine machine_;  // guarded by state_mutex_
    std::atomic<int32_t> published_state_{RL_STATE_DISCONNECTED};

    // Loop-only from here on.
    bool closed_ = false;
    uint64_t loop_generation_ = 0;  // generation of the last command the loop has taken on
    Phase phase_ = Phase::kIdle;
    JoinRequest request_;
    Session session_;
    std::unordered_set<uint64_t> known_peers_;
    std::vector<SocketAddress> server_addresses_;
    size_t next_address_ = 0;
    size_t failures_this_round_ = 0;
    uint64_t resolve_token_ = 0;  // distinguishes the current lookup from abandoned ones
    bool resolving_ = false;
    std::optional<SocketAddress> media_address_;
    std::unique_ptr<Attempt> attempt_;
    std::unique_ptr<Migration> migration_;  // only while CONNECTED
    TimePoint signal_heard_{};               // last signal data on any connection while CONNECTED
    uint64_t attempt_count_ = 0;
    std::unique_ptr<SignalConnection> probe_;
    bool ever_reached_server_ = false;
    Backoff backoff_;
    Duration probe_delay_{0};  // grows while the server's host refuses connects

    EventLoop::TimerId join_timer_ = 0;
    EventLoop::TimerId reconnect_timer_ = 0;
    EventLoop::TimerId retry_timer_ = 0;
    EventLoop::TimerId probe_timer_ = 0;
    EventLoop::TimerId attempt_timer_ = 0;
    EventLoop::TimerId signal_watch_timer_ = 0;
    TimePoint outage_started_{};
};

}  // namespace roomlink

#endif
