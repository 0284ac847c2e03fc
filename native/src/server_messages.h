// The one place that tells the server's messages apart. Each signal connection's role (the
// attempt's, the migration's) implements the handlers it cares for; what a role does not expect
// reaches on_unexpected. A new server message type adds a handler here.
#ifndef ROOMLINK_SERVER_MESSAGES_H
#define ROOMLINK_SERVER_MESSAGES_H

#include "presence.h"
#include "wire_codec.h"

namespace roomlink {

class ServerMessageHandler {
public:
    virtual ~ServerMessageHandler() = default;
    virtual void on_join_ok(const wire::JoinOk& ok) = 0;
    virtual void on_resume_ok(const wire::ResumeOk& ok) = 0;
    virtual void on_join_err(const wire::JoinErr& err) = 0;
    virtual void on_session_end(const wire::SessionEnd& end) = 0;
    virtual void on_server_error(const wire::ServerError& error) = 0;
    virtual void on_peer(const PeerEvent& event) = 0;
    // Token renewal (docs/PROTOCOL.md): only the session's current connection cares.
    virtual void on_token_will_expire(const wire::TokenWillExpire&) { on_liveness(); }
    virtual void on_renew_token_result(const wire::RenewTokenResult&) { on_liveness(); }
    // Room messages (docs/PROTOCOL.md): only the session's current connection expects them.
    virtual void on_message_ack(const wire::MessageAck& ack) { on_unexpected(wire::type_code(ack)); }
    virtual void on_room_message(const wire::RoomMessage& message) {
        on_unexpected(wire::type_code(message));
    }
    // PONG, LEAVE_OK: they matter only as inbound data (silence detection, lingering leaves).
    virtual void on_liveness() {}
    // Anything the client never receives (JOIN, PING, ...): `type_code` as wire::type_code gives.
    virtual void on_unexpected(uint8_t type_code) = 0;
};

void dispatch_server_message(const wire::Message& message, ServerMessageHandler& handler);

}  // namespace roomlink

#endif
