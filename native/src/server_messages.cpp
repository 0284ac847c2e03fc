#include "server_messages.h"

namespace roomlink {

void dispatch_server_message(const wire::Message& message, ServerMessageHandler& handler) {
    if (const auto* ok = std::get_if<wire::JoinOk>(&message)) {
        handler.on_join_ok(*ok);
    } else if (const auto* resumed = std::get_if<wire::ResumeOk>(&message)) {
        handler.on_resume_ok(*resumed);
    } else if (const auto* err = std::get_if<wire::JoinErr>(&message)) {
        handler.on_join_err(*err);
    } else if (const auto* end = std::get_if<wire::SessionEnd>(&message)) {
        handler.on_session_end(*end);
    } else if (const auto* error = std::get_if<wire::ServerError>(&message)) {
        handler.on_server_error(*error);
    } else if (const auto* joined = std::get_if<wire::PeerJoined>(&message)) {
        handler.on_peer(PeerEvent{true, joined->uid, 0});
    } else if (const auto* left = std::get_if<wire::PeerLeft>(&message)) {
        handler.on_peer(PeerEvent{false, left->uid, left->reason});
    } else if (const auto* warning = std::get_if<wire::TokenWillExpire>(&message)) {
        handler.on_token_will_expire(*warning);
    } else if (const auto* renewed = std::get_if<wire::RenewTokenResult>(&message)) {
        handler.on_renew_token_result(*renewed);
    } else if (const auto* ack = std::get_if<wire::MessageAck>(&message)) {
        handler.on_message_ack(*ack);
    } else if (const auto* room = std::get_if<wire::RoomMessage>(&message)) {
        handler.on_room_message(*room);
    } else if (std::holds_alternative<wire::Pong>(message) ||
               std::holds_alternative<wire::LeaveOk>(message)) {
        handler.on_liveness();
    } else {
        handler.on_unexpected(wire::type_code(message));
    }
}

}  // namespace roomlink
