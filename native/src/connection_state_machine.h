// The connection state as the app sees it, and nothing else: fed events, it answers with the
// (state, reason) transition to report, or with nothing when the event is illegal in the current
// state or stale. It knows no sockets and no time, so every rule can be tested in isolation.
//
// Staleness: each accepted join/leave request starts a new generation. Network events are
// tagged with the generation the loop was serving when they happened; an event from an older
// generation (the app has already joined again or left) is ignored.
#ifndef ROOMLINK_CONNECTION_STATE_MACHINE_H
#define ROOMLINK_CONNECTION_STATE_MACHINE_H

#include <cstdint>
#include <optional>

#include "roomlink/roomlink.h"

namespace roomlink {

enum class ConnEvent {
    // App requests (accepted or refused synchronously on the API thread).
    kJoinRequested,
    kLeaveRequested,
    // Observations of the network on the loop thread.
    kSessionEstablished,  // request answered and media bound
    kSessionRejected,     // server refused JOIN (or a SESSION_END arrived before CONNECTED)
    kGaveUp,              // join timeout or reconnect timeout
    kSignalLost,
    kMediaLost,
    kKicked,              // SESSION_END 30206
    kChannelClosed,       // SESSION_END 30207
    kReplacedBySameUid,   // SESSION_END 30209
};

const char* event_name(ConnEvent event);
const char* state_name(int32_t state);
const char* reason_name(int32_t reason);

struct Transition {
    rl_state from;
    rl_state to;
    rl_reason reason;
};

class ConnectionStateMachine {
public:
    // For kJoinRequested / kLeaveRequested. A refused request (e.g. join while CONNECTED)
    // returns nullopt and changes nothing; an accepted one starts a new generation.
    std::optional<Transition> request(ConnEvent event);

    // For network observations. nullopt if stale or not meaningful in the current state.
    std::optional<Transition> observe(ConnEvent event, uint64_t generation);

    rl_state state() const { return state_; }
    uint64_t generation() const { return generation_; }

private:
    std::optional<Transition> move_to(rl_state to, rl_reason reason);

    rl_state state_ = RL_STATE_DISCONNECTED;
    uint64_t generation_ = 0;
};

}  // namespace roomlink

#endif
