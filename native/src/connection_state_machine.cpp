#include "connection_state_machine.h"

namespace roomlink {

const char* event_name(ConnEvent event) {
    switch (event) {
        case ConnEvent::kJoinRequested: return "JoinRequested";
        case ConnEvent::kLeaveRequested: return "LeaveRequested";
        case ConnEvent::kSessionEstablished: return "SessionEstablished";
        case ConnEvent::kSessionRejected: return "SessionRejected";
        case ConnEvent::kGaveUp: return "GaveUp";
        case ConnEvent::kSignalLost: return "SignalLost";
        case ConnEvent::kMediaLost: return "MediaLost";
        case ConnEvent::kKicked: return "Kicked";
        case ConnEvent::kChannelClosed: return "ChannelClosed";
        case ConnEvent::kReplacedBySameUid: return "ReplacedBySameUid";
    }
    return "?";
}

const char* state_name(int32_t state) {
    switch (state) {
        case RL_STATE_DISCONNECTED: return "DISCONNECTED";
        case RL_STATE_CONNECTING: return "CONNECTING";
        case RL_STATE_CONNECTED: return "CONNECTED";
        case RL_STATE_RECONNECTING: return "RECONNECTING";
        case RL_STATE_FAILED: return "FAILED";
        default: return "?";
    }
}

const char* reason_name(int32_t reason) {
    switch (reason) {
        case RL_REASON_LEAVE_CHANNEL: return "LEAVE_CHANNEL";
        case RL_REASON_CHANNEL_CLOSED: return "CHANNEL_CLOSED";
        case RL_REASON_BE_KICKED: return "BE_KICKED";
        case RL_REASON_TIMEOUT: return "TIMEOUT";
        case RL_REASON_JOIN_CHANNEL: return "JOIN_CHANNEL";
        case RL_REASON_JOIN_SUCCEED: return "JOIN_SUCCEED";
        case RL_REASON_REJOIN_SUCCEED: return "REJOIN_SUCCEED";
        case RL_REASON_MEDIA_CONNECTION_DISCONNECTED: return "MEDIA_CONNECTION_DISCONNECTED";
        case RL_REASON_SIGNAL_DISCONNECTED: return "SIGNAL_DISCONNECTED";
        case RL_REASON_REQUEST_CHANNEL_FAILED: return "REQUEST_CHANNEL_FAILED";
        case RL_REASON_JOIN_CHANNEL_FAILED: return "JOIN_CHANNEL_FAILED";
        case RL_REASON_REDISPATCH: return "REDISPATCH";
        case RL_REASON_SETTING_PROXY_SERVER: return "SETTING_PROXY_SERVER";
        case RL_REASON_BE_KICKED_DUE_TO_SAME_USER_ID: return "BE_KICKED_DUE_TO_SAME_USER_ID";
        default: return "?";
    }
}

namespace {
// A server-side ending means the same from CONNECTED and from RECONNECTING, and never reconnects.
rl_reason server_ending_reason(ConnEvent event) {
    switch (event) {
        case ConnEvent::kKicked: return RL_REASON_BE_KICKED;
        case ConnEvent::kChannelClosed: return RL_REASON_CHANNEL_CLOSED;
        default: return RL_REASON_BE_KICKED_DUE_TO_SAME_USER_ID;
    }
}
}  // namespace

std::optional<Transition> ConnectionStateMachine::move_to(rl_state to, rl_reason reason) {
    Transition t{state_, to, reason};
    state_ = to;
    return t;
}

std::optional<Transition> ConnectionStateMachine::request(ConnEvent event) {
    const bool idle = state_ == RL_STATE_DISCONNECTED || state_ == RL_STATE_FAILED;
    std::optional<Transition> t;
    if (event == ConnEvent::kJoinRequested && idle) {
        t = move_to(RL_STATE_CONNECTING, RL_REASON_JOIN_CHANNEL);
    } else if (event == ConnEvent::kLeaveRequested && !idle) {
        t = move_to(RL_STATE_DISCONNECTED, RL_REASON_LEAVE_CHANNEL);
    }
    if (t) {
        ++generation_;
    }
    return t;
}

std::optional<Transition> ConnectionStateMachine::observe(ConnEvent event, uint64_t generation) {
    if (generation != generation_) {
        return std::nullopt;
    }
    switch (state_) {
        case RL_STATE_CONNECTING:
            switch (event) {
                case ConnEvent::kSessionEstablished:
                    return move_to(RL_STATE_CONNECTED, RL_REASON_JOIN_SUCCEED);
                case ConnEvent::kSessionRejected:
                case ConnEvent::kKicked:
                case ConnEvent::kChannelClosed:
                case ConnEvent::kReplacedBySameUid:
                    // Ended before the join completed: the join failed, the app gets JOIN_RESULT.
                    return move_to(RL_STATE_FAILED, RL_REASON_REQUEST_CHANNEL_FAILED);
                case ConnEvent::kGaveUp:
                    return move_to(RL_STATE_FAILED, RL_REASON_JOIN_CHANNEL_FAILED);
                default:
                    return std::nullopt;  // losses during a join are retried, not reported
            }
        case RL_STATE_CONNECTED:
            switch (event) {
                case ConnEvent::kSignalLost:
                    return move_to(RL_STATE_RECONNECTING, RL_REASON_SIGNAL_DISCONNECTED);
                case ConnEvent::kMediaLost:
                    return move_to(RL_STATE_RECONNECTING, RL_REASON_MEDIA_CONNECTION_DISCONNECTED);
                case ConnEvent::kKicked:
                case ConnEvent::kChannelClosed:
                case ConnEvent::kReplacedBySameUid:
                    return move_to(RL_STATE_DISCONNECTED, server_ending_reason(event));
                default:
                    return std::nullopt;
            }
        case RL_STATE_RECONNECTING:
            switch (event) {
                case ConnEvent::kSessionEstablished:
                    return move_to(RL_STATE_CONNECTED, RL_REASON_REJOIN_SUCCEED);
                case ConnEvent::kSessionRejected:
                    return move_to(RL_STATE_FAILED, RL_REASON_REQUEST_CHANNEL_FAILED);
                case ConnEvent::kGaveUp:
                    return move_to(RL_STATE_FAILED, RL_REASON_TIMEOUT);
                case ConnEvent::kKicked:
                case ConnEvent::kChannelClosed:
                case ConnEvent::kReplacedBySameUid:
                    return move_to(RL_STATE_DISCONNECTED, server_ending_reason(event));
                default:
                    return std::nullopt;  // one outage is reported once, whichever path failed
            }
        default:
            return std::nullopt;  // DISCONNECTED / FAILED: nothing on the network matters
    }
}

}  // namespace roomlink
