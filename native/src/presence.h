// What the app knows of the channel's other members. Changes are reported once each (a uid
// already known is not announced twice, an unknown one never leaves), and after an outage or a
// signal migration the server's snapshot is reconciled against what was known, so peers that
// stayed never flap.
//
// Bounded whatever the server sends: at most max_peers uids are known (and held in a snapshot;
// the engine option max_peers, default kDefaultMaxPeers).
// A PEER_JOINED for a new uid past the cap is dropped (not reported, counted, logged once per
// engine); the uid may be reported later if it is announced again once there is room (another
// peer left, or a snapshot after a reconnect). The cap is far above any room the server admits.
#ifndef ROOMLINK_PRESENCE_H
#define ROOMLINK_PRESENCE_H

#include <cstddef>
#include <cstdint>
#include <unordered_set>
#include <vector>

#include "event_emitter.h"

namespace roomlink {

constexpr size_t kDefaultMaxPeers = 10000;

struct PeerEvent {
    bool joined;
    uint64_t uid;
    uint8_t reason;  // rl_user_leave_reason, for a leave
};

// The PEER_JOINED that precede JOIN_OK / RESUME_OK: the channel's membership at the answer. Only
// PEER_JOINED belongs there; a PEER_LEFT is taken as a correction rather than rejected.
// O(1) per event; holds at most max_peers uids (and twice that many slots before compacting).
class PresenceSnapshot {
public:
    explicit PresenceSnapshot(size_t max_peers = kDefaultMaxPeers) : max_peers_(max_peers) {}
    void add(const PeerEvent& event);
    // The members, in the order of their latest announcement.
    std::vector<uint64_t> take();
    size_t size() const { return members_.size(); }
    size_t dropped() const { return dropped_; }

private:
    void compact();

    size_t max_peers_;
    std::vector<uint64_t> order_;  // announcement order; may still hold uids that left
    std::unordered_set<uint64_t> members_;
    size_t dropped_ = 0;
};

class Presence {
public:
    explicit Presence(EventEmitter& events, size_t max_peers = kDefaultMaxPeers)
        : events_(events), max_peers_(max_peers) {}

    void deliver(const PeerEvent& event);
    // The snapshot is the complete membership: report only the difference from what is known.
    void reconcile(const std::vector<uint64_t>& snapshot);
    void clear() { known_.clear(); }
    size_t known() const { return known_.size(); }
    // PEER_JOINED dropped because max_peers were known (over the engine's life).
    uint64_t dropped() const { return dropped_; }

private:
    EventEmitter& events_;
    size_t max_peers_;
    std::unordered_set<uint64_t> known_;
    uint64_t dropped_ = 0;
};

}  // namespace roomlink

#endif
