#include "attempt_machine.h"

namespace roomlink {
namespace {

using S = AttemptState;
constexpr std::optional<AttemptState> kNo = std::nullopt;

// Rows: states in declaration order. Columns: kRequestSent, kSilentButAcknowledged, kSilent,
// kAnswered, kEstablished.
// - Busy states are sticky: a busy server is reported once per attempt.
// - A parked attempt is no longer watched for silence; an answer takes it back (the retry is
//   called off) and drops what silence taught, since nothing watches it any more.
const std::optional<AttemptState> kTable[kAttemptStateCount][kAttemptEventCount] = {
    /* kConnecting     */ {S::kRequested, kNo, kNo, kNo, kNo},
    /* kRequested      */ {kNo, S::kRequestedBusy, S::kParked, S::kAnswered, kNo},
    /* kRequestedBusy  */ {kNo, S::kRequestedBusy, S::kParked, S::kAnswered, kNo},
    /* kParked         */ {kNo, kNo, kNo, S::kAnswered, kNo},
    /* kAnswered       */ {kNo, S::kAnsweredBusy, S::kAnsweredParked, kNo, S::kEstablished},
    /* kAnsweredBusy   */ {kNo, S::kAnsweredBusy, S::kAnsweredParked, kNo, S::kEstablished},
    /* kAnsweredParked */ {kNo, kNo, kNo, kNo, S::kEstablished},
    /* kEstablished    */ {kNo, kNo, kNo, kNo, kNo},
};

}  // namespace

const char* attempt_state_name(AttemptState state) {
    switch (state) {
        case S::kConnecting:
            return "CONNECTING";
        case S::kRequested:
            return "REQUESTED";
        case S::kRequestedBusy:
            return "REQUESTED_BUSY";
        case S::kParked:
            return "PARKED";
        case S::kAnswered:
            return "ANSWERED";
        case S::kAnsweredBusy:
            return "ANSWERED_BUSY";
        case S::kAnsweredParked:
            return "ANSWERED_PARKED";
        case S::kEstablished:
            return "ESTABLISHED";
    }
    return "?";
}

std::optional<AttemptState> AttemptMachine::next(AttemptState state, AttemptEvent event) {
    return kTable[static_cast<int>(state)][static_cast<int>(event)];
}

std::optional<AttemptState> AttemptMachine::on(AttemptEvent event) {
    auto to = next(state_, event);
    if (to) {
        state_ = *to;
    }
    return to;
}

bool AttemptMachine::answered() const {
    return state_ == S::kAnswered || state_ == S::kAnsweredBusy || state_ == S::kAnsweredParked ||
           state_ == S::kEstablished;
}

}  // namespace roomlink
