// The life of one connection attempt (a signal connection carrying JOIN or RESUME, plus its media
// path), as a pure table: no sockets, no clock. The engine feeds it what it observed and asks it
// what the attempt is; the table below is the whole truth of what may follow what.
//
//   kConnecting      TCP connect in progress, nothing sent
//   kRequested       JOIN/RESUME sent, unanswered
//   kRequestedBusy   ... silent past signal_timeout, but the server's TCP acknowledged it: a busy
//                    server, waited for (reported once)
//   kParked          ... silent too long: counted as failed (the retry is scheduled), but kept
//                    open until the next attempt in case its answer still comes
//   kAnswered        JOIN_OK / RESUME_OK received, the media bind not yet acknowledged
//   kAnsweredBusy    ... then silent, acknowledged (as kRequestedBusy)
//   kAnsweredParked  ... then silent too long (as kParked)
//   kEstablished     answered and media bound: the session is CONNECTED on this attempt
#ifndef ROOMLINK_ATTEMPT_MACHINE_H
#define ROOMLINK_ATTEMPT_MACHINE_H

#include <cstdint>
#include <optional>

namespace roomlink {

enum class AttemptState : uint8_t {
    kConnecting,
    kRequested,
    kRequestedBusy,
    kParked,
    kAnswered,
    kAnsweredBusy,
    kAnsweredParked,
    kEstablished,
};
constexpr int kAttemptStateCount = 8;

enum class AttemptEvent : uint8_t {
    kRequestSent,
    kSilentButAcknowledged,  // silence >= signal_timeout, within patience, request acknowledged
    kSilent,                 // silence past the patience: the attempt counts as failed
    kAnswered,               // JOIN_OK / RESUME_OK
    kEstablished,            // answered and media bound
};
constexpr int kAttemptEventCount = 5;

const char* attempt_state_name(AttemptState state);

class AttemptMachine {
public:
    // The table: the state `event` leads to from `state`, or nullopt if it cannot happen there.
    static std::optional<AttemptState> next(AttemptState state, AttemptEvent event);

    AttemptState state() const { return state_; }
    // Applies `event`; returns the new state, or nullopt (state unchanged) if it is illegal.
    std::optional<AttemptState> on(AttemptEvent event);

    bool request_sent() const { return state_ != AttemptState::kConnecting; }
    bool answered() const;
    bool parked() const {
        return state_ == AttemptState::kParked || state_ == AttemptState::kAnsweredParked;
    }
    bool busy() const {
        return state_ == AttemptState::kRequestedBusy || state_ == AttemptState::kAnsweredBusy;
    }
    bool established() const { return state_ == AttemptState::kEstablished; }

private:
    AttemptState state_ = AttemptState::kConnecting;
};

}  // namespace roomlink

#endif
