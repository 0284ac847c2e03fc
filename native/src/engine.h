// One engine: the app's handle on one channel membership. Public methods are called from any
// app thread; they update the reported state synchronously (through the state machine, under a
// short lock) and hand the work to the engine's loop. Everything else runs on that loop: the
// sockets, the timers and every rl_event_fn invocation.
//
// The engine composes the units that do the work: the current attempt (its pure state machine,
// attempt_machine.h, and its join barrier, session_barrier.h), the reconnect driver (when and
// where the next attempt goes, reconnect_driver.h), signal migration (signal_migration.h),
// presence (presence.h) and the typed event emitter (event_emitter.h). Every connection reports to
// the listener of its role (the attempt's, a probe's, the migration's); server messages are told
// apart once, in server_messages.h.
#ifndef ROOMLINK_ENGINE_H
#define ROOMLINK_ENGINE_H

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "attempt_machine.h"
#include "connection_state_machine.h"
#include "event_emitter.h"
#include "event_loop.h"
#include "host_network.h"
#include "leave_linger.h"
#include "media_path.h"
#include "message_queue.h"
#include "options.h"
#include "presence.h"
#include "receiver_stream.h"
#include "reconnect_driver.h"
#include "roomlink/roomlink.h"
#include "server_messages.h"
#include "session_barrier.h"
#include "signal_connection.h"
#include "signal_migration.h"
#include "socket_util.h"
#include "wire_codec.h"

namespace roomlink {

class Engine final : public std::enable_shared_from_this<Engine>,
                     private ReconnectDriver::Owner,
                     private SignalMigration::Owner,
                     private HostNetwork::Owner {
public:
    using EventSink = roomlink::EventSink;

    static std::shared_ptr<Engine> create(EngineOptions options, EventLoop& loop, EventSink sink);

    // Validation of the arguments is the caller's job (see c_api.cpp).
    int32_t join(std::string token, std::string channel, int64_t uid);
    int32_t leave();
    // Validation of the token is the caller's job (see c_api.cpp).
    int32_t renew_token(std::string token);
    // Validation of the arguments is the caller's job (see c_api.cpp): directed 0/1, to_uid
    // >= 0 (ignored unless directed), data 1..16384 bytes.
    int32_t send_message(int32_t directed, int64_t to_uid, const uint8_t* data, int32_t length);
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

    // One try at (re)establishing the session: a TCP connection carrying JOIN or RESUME, and the
    // UDP path bound with this attempt's mediaKey.
    struct Attempt {
        uint64_t number = 0;
        uint64_t media_key = 0;
        wire::MediaSecret media_secret{};  // keys this attempt's media (media_cipher.h)
        bool resume = false;
        uint64_t last_received = 0;  // what its RESUME carried (the receiver stream)
        AttemptMachine machine;
        std::unique_ptr<SignalConnection> signal;
        std::unique_ptr<MediaPath> media;
        SessionBarrier barrier;
    };

    // The attempt's connection and media path report here.
    class AttemptRole final : public SignalConnection::Listener,
                              public MediaPath::Listener,
                              private ServerMessageHandler {
    public:
        explicit AttemptRole(Engine& engine) : engine_(engine) {}
        void on_signal_connected(SignalConnection& connection) override;
        void on_signal_message(SignalConnection& connection, wire::Message& message) override;
        void on_signal_closed(SignalConnection& connection, const std::string& why,
                              bool was_connected) override;
        void on_media_bound(MediaPath& path) override;
        void on_media_lost(MediaPath& path, const std::string& why) override;

    private:
        void on_join_ok(const wire::JoinOk& ok) override;
        void on_resume_ok(const wire::ResumeOk& ok) override;
        void on_join_err(const wire::JoinErr& err) override;
        void on_session_end(const wire::SessionEnd& end) override;
        void on_server_error(const wire::ServerError& error) override;
        void on_peer(const PeerEvent& event) override;
        void on_message_ack(const wire::MessageAck& ack) override;
        void on_room_message(const wire::RoomMessage& message) override;
        void on_token_will_expire(const wire::TokenWillExpire& warning) override;
        void on_renew_token_result(const wire::RenewTokenResult& result) override;
        void on_unexpected(uint8_t type_code) override;

        Engine& engine_;
    };

    // --- commands, on the loop
    void on_join_command(uint64_t generation, Transition t, JoinRequest request);
    void on_leave_command(uint64_t generation, Transition t);
    void on_network_changed();
    void on_renew_command(uint64_t generation, std::string token);
    // A message accepted by send_message; its bytes are reserved until `reservation` is
    // committed to the queue (or dropped, which releases them).
    struct MessageReservation;
    void on_message_command(uint64_t generation, std::shared_ptr<MessageReservation> message);
    void send_renewal();
    void on_shutdown();

    // --- the attempt
    // `spaced`: held back to kMinAttemptSpacing after the last attempt that reached the server
    // (reconnect_driver.h); only the one JOIN that follows a refused RESUME goes at once.
    void start_attempt(std::unique_ptr<SignalConnection> connected = nullptr, bool spaced = true);
    void drop_attempt();
    void note_reach();  // the attempt's connection reached the server (ever_reached_server_)
    void send_request();
    void watch_attempt();
    void attempt_silence_tick();
    // `server_closed`: the attempt ended by the server's FIN or RST, which proves the path works
    // now: a parked (silent) attempt's retry then goes out at once instead of in its backoff slot.
    void attempt_failed(const std::string& why, bool reached_server, bool server_closed = false);
    bool open_media(const SocketAddress& to);
    void use_media_address(const std::string& host, uint16_t port);
    void set_media_address(const SocketAddress& address);
    void maybe_established();
    void on_attempt_connected();
    void on_attempt_closed(SignalConnection& connection, const std::string& why,
                           bool was_connected);
    void on_session_granted(uint64_t channel_id, uint64_t session_id,
                            const wire::SessionSecret& secret, const std::string& media_host,
                            uint16_t media_port);
    void on_join_err(const wire::JoinErr& err);
    void on_peer(const PeerEvent& event);

    // --- room messages (docs/PROTOCOL.md, "Room messages")
    // The answer's word on the session's two sequences; `resumed`: RESUME_OK(resumed=1).
    void on_session_answer(bool resumed, uint64_t last_accepted);
    void flush_messages();  // sends what is queued and unsent, while CONNECTED
    void on_message_ack(const wire::MessageAck& ack);
    void on_stream_item(StreamItem item);
    void process_item(const StreamItem& item);
    void schedule_stream_ack();
    void send_stream_ack();

    // --- ReconnectDriver::Owner
    void on_attempt_due(std::unique_ptr<SignalConnection> reached) override;
    void on_resolve_failed(const std::string& error) override;
    bool stopped() const override { return closed(); }

    // --- the session
    void on_session_end(const wire::SessionEnd& end);
    void signal_failed(const std::string& why);
    // `silent`: detected by silence (a timeout), not ended by something the server did.
    void begin_outage(ConnEvent cause, const std::string& why, bool silent = false);
    void on_join_timeout();
    void on_reconnect_timeout();
    // Ends the session (FAILED or DISCONNECTED) and reports the matching result event.
    void finish_with(Transition t, int32_t code, bool say_leave);

    // --- signal liveness while CONNECTED, and migration
    TimePoint signal_heard();
    bool media_healthy() const;
    void watch_signal();
    void signal_watch_tick();
    void start_migration(Duration silence);
    void drop_migration();
    void on_migrated(std::unique_ptr<SignalConnection> connection,
                     const wire::ResumeOk& ok) override;
    void on_migration_got_fresh_session(const wire::ResumeOk& fresh,
                                        std::vector<uint64_t> snapshot) override;
    void on_migration_refused(const wire::JoinErr& err) override;
    void on_migration_session_end(const wire::SessionEnd& end) override { on_session_end(end); }
    void on_migration_failed(const std::string& why) override { signal_failed(why); }
    void on_migration_closed(const std::string& why) override;

    // --- HostNetwork::Owner: the host's own network events
    void on_host_path_lost(const std::string& why) override;
    void on_host_network_back() override;
    void on_connection_type(int32_t type) override;
    std::optional<SocketAddress> host_path_server() const override;

    // --- helpers
    bool closed() const { return events_.closed(); }
    // A session is wanted: joining, connected or reconnecting.
    bool running() const { return running_; }
    bool connected() const { return attempt_ && attempt_->machine.established(); }
    bool establishing() const { return running_ && !connected(); }
    std::optional<Transition> observe(ConnEvent event);
    void stop_all(bool say_leave);
    void emit_state(const Transition& t);
    int64_t elapsed_ms() const;
    KeepaliveTiming media_keepalive() const;
    KeepaliveTiming signal_keepalive() const;

    const uint64_t id_;
    const EngineOptions options_;
    EventLoop& loop_;
    EventEmitter events_;

    // Shared between app threads and the loop.
    mutable std::mutex state_mutex_;
    ConnectionStateMachine machine_;  // guarded by state_mutex_
    std::atomic<int32_t> published_state_{RL_STATE_DISCONNECTED};
    std::atomic<bool> shut_down_{false};
    // The queued messages' payload bytes (message_queue_limit), reserved by app threads.
    const std::shared_ptr<MessageBudget> message_budget_;

    // Loop-only from here on.
    uint64_t loop_generation_ = 0;  // generation of the last command the loop has taken on
    bool running_ = false;
    JoinRequest request_;
    // renew_token() while the session was not up: sent once it is (the token is in request_).
    bool renewal_pending_ = false;
    // TOKEN_WILL_EXPIRE that came between the answer and BIND_ACK: reported after JOIN/REJOIN_RESULT.
    std::optional<uint64_t> held_expiry_warning_;
    Session session_;
    Presence presence_;
    MessageQueue outbox_;      // the sender queue, kept across the connections of a session
    ReceiverStream stream_;    // the receiver stream's count, across the connections
    uint64_t migration_last_received_ = 0;  // what the migration's RESUME carried
    // A fresh session's snapshot that came on a migration connection which the engine then
    // dropped: reconciled when the next RESUME_OK(resumed=1) (which has none) is established.
    std::optional<std::vector<uint64_t>> carried_snapshot_;
    // The code the last session ended with (for a message the loop took after that).
    int32_t last_end_code_ = RL_ERR_SIGNAL_DISCONNECTED;
    // Set by on_leave_command for stop_all: the messages the lingering LEAVE carries.
    std::optional<LeaveMessages> leave_messages_;
    ReconnectDriver reconnect_;
    AttemptRole attempt_role_;
    std::optional<SocketAddress> media_address_;
    std::unique_ptr<Attempt> attempt_;
    std::unique_ptr<SignalMigration> migration_;  // only while CONNECTED
    HostNetwork host_network_;
    TimePoint signal_heard_{};  // last signal data on any connection while CONNECTED
    // When a stalled signal path asked media for fresh evidence (a PING out of turn); zero if
    // it has not (see signal_watch_tick).
    TimePoint media_asked_{};
    // The round trips the last media path measured, and to where: the next attempt's media path
    // to the same address starts from them (KeepaliveSchedule::seed_rtt), so that its silence
    // threshold adapts from the first moment after a reconnect, not from its first PONG.
    struct MediaRtt {
        SocketAddress to;
        RttEstimator rtt;
    };
    std::optional<MediaRtt> media_rtt_;
    uint64_t attempt_count_ = 0;
    bool ever_reached_server_ = false;

    EventLoop::TimerId join_timer_ = 0;
    EventLoop::TimerId reconnect_timer_ = 0;
    EventLoop::TimerId attempt_timer_ = 0;
    EventLoop::TimerId signal_watch_timer_ = 0;
    EventLoop::TimerId stream_ack_timer_ = 0;
    TimePoint outage_started_{};
};

}  // namespace roomlink

#endif
