// Signal migration: the signal connection has stalled while media is healthy (TCP hides loss as
// delay, see engine.cpp), so a second TCP connection RESUMEs the session with the current
// mediaKey (the media binding is untouched) and, answered RESUME_OK(resumed=1), replaces the
// stalled one silently. This unit is that second connection's role: it sends the RESUME, collects
// the presence snapshot a RESUME_OK(resumed=0) would follow, and tells its owner how the
// migration ended. A RESUME_OK(resumed=1) has no snapshot: the receiver stream's replay that
// follows it on the same connection (which the owner has taken over by then) tells every change. When to migrate and when to
// give up (the deadlines) is the owner's judgement.
#ifndef ROOMLINK_SIGNAL_MIGRATION_H
#define ROOMLINK_SIGNAL_MIGRATION_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "event_loop.h"
#include "presence.h"
#include "server_messages.h"
#include "signal_connection.h"
#include "socket_util.h"
#include "wire_codec.h"

namespace roomlink {

class SignalMigration final : private SignalConnection::Listener, private ServerMessageHandler {
public:
    class Owner {
    public:
        virtual ~Owner() = default;
        // RESUME_OK(resumed=1): `connection` carries the session from now on (the replayed
        // stream items follow on it); `ok.session_secret` replaces the session secret (the old
        // one is dead), `ok.last_accepted` says which messages the session took.
        virtual void on_migrated(std::unique_ptr<SignalConnection> connection,
                                 const wire::ResumeOk& ok) = 0;
        // RESUME_OK(resumed=0): the session had expired and the server made a fresh one;
        // `snapshot` is its membership at the answer.
        virtual void on_migration_got_fresh_session(const wire::ResumeOk& fresh,
                                                    std::vector<uint64_t> snapshot) = 0;
        // JOIN_ERR: the server no longer knows the session.
        virtual void on_migration_refused(const wire::JoinErr& err) = 0;
        virtual void on_migration_session_end(const wire::SessionEnd& end) = 0;
        // The server broke the protocol on the migration connection.
        virtual void on_migration_failed(const std::string& why) = 0;
        // The migration connection is gone (its owner drops it with drop_connection()).
        virtual void on_migration_closed(const std::string& why) = 0;
    };

    // tls: the engine's TLS context (null: plaintext), for the new connection.
    SignalMigration(EventLoop& loop, Owner& owner, uint64_t engine_id, TimePoint started,
                    std::shared_ptr<const TlsContext> tls, size_t max_peers);
    ~SignalMigration() override;
    SignalMigration(const SignalMigration&) = delete;
    SignalMigration& operator=(const SignalMigration&) = delete;

    // Connects to `to` and, once connected, sends `resume`. A connect that fails at once is
    // logged and leaves the migration without a connection: its deadlines still apply.
    void connect(const SocketAddress& to, const wire::Resume& resume);

    TimePoint started() const { return started_; }
    // Null once it failed.
    const SignalConnection* connection() const { return signal_.get(); }
    void ping_now();
    void read_pending();
    // The connection, if our RESUME is on its way there: a LEAVE behind it on the same stream is
    // processed after it, whereas one on the stalled old connection may never arrive.
    std::unique_ptr<SignalConnection> take_connection_for_leave();
    void drop_connection();
    // Stops it at once (closes the connection with a reset, so the kernel never retransmits its
    // RESUME later); see EventLoop::close_and_release.
    void close() { drop_connection(); }

private:
    void on_signal_connected(SignalConnection& connection) override;
    void on_signal_message(SignalConnection& connection, wire::Message& message) override;
    void on_signal_closed(SignalConnection& connection, const std::string& why,
                          bool was_connected) override;

    void on_join_ok(const wire::JoinOk& ok) override;
    void on_resume_ok(const wire::ResumeOk& ok) override;
    void on_join_err(const wire::JoinErr& err) override;
    void on_session_end(const wire::SessionEnd& end) override;
    void on_server_error(const wire::ServerError& error) override;
    void on_peer(const PeerEvent& event) override { snapshot_.add(event); }
    void on_unexpected(uint8_t type_code) override;

    EventLoop& loop_;
    Owner& owner_;
    const uint64_t engine_id_;
    const TimePoint started_;
    const std::shared_ptr<const TlsContext> tls_;
    wire::Resume resume_;
    std::unique_ptr<SignalConnection> signal_;
    bool request_sent_ = false;
    PresenceSnapshot snapshot_;  // PEER_JOINED before RESUME_OK(resumed=0)
};

}  // namespace roomlink

#endif
