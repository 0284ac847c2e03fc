// What the app knows of the channel's other members. Changes are reported once each (a uid
// already known is not announced twice, an unknown one never leaves), and after an outage or a
// signal migration the server's snapshot is reconciled against what was known, so peers that
// stayed never flap.
#ifndef ROOMLINK_PRESENCE_H
#define ROOMLINK_PRESENCE_H

#include <cstdint>
#include <unordered_set>
#include <vector>

#include "event_emitter.h"

namespace roomlink {

struct PeerEvent {
    bool joined;
    uint64_t uid;
    uint8_t reason;  // rl_user_leave_reason, for a leave
};

// The PEER_JOINED that precede JOIN_OK / RESUME_OK: the channel's membership at the answer. Only
// PEER_JOINED belongs there; a PEER_LEFT is taken as a correction rather than rejected.
class PresenceSnapshot {
public:
    void add(const PeerEvent& event);
    std::vector<uint64_t> take() { return std::move(uids_); }

private:
    std::vector<uint64_t> uids_;  // duplicates collapse on delivery
};

class Presence {
public:
    explicit Presence(EventEmitter& events) : events_(events) {}

    void deliver(const PeerEvent& event);
    // The snapshot is the complete membership: report only the difference from what is known.
    void reconcile(const std::vector<uint64_t>& snapshot);
    void clear() { known_.clear(); }

private:
    EventEmitter& events_;
    std::unordered_set<uint64_t> known_;
};

}  // namespace roomlink

#endif
