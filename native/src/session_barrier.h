// The join barrier of one attempt: the session is established only when both halves are in, the
// answer (JOIN_OK / RESUME_OK) on the signal connection and the BIND_ACK on the media path. Until
// then it holds what the server said: the presence snapshot that precedes a JOIN_OK or
// RESUME_OK(resumed=0), and the receiver-stream items that follow the answer (presence and room
// messages, in their order), which the app sees only once CONNECTED has been reported.
//
// The hold is bounded (kMaxHeldBytes, counting kItemOverhead per item, and kMaxHeldItems): a
// server that sends more before the BIND_ACK is hostile, and the engine drops the connection
// without processing anything held. The items are unacknowledged, so the server replays them.
// Nothing is folded or reordered.
#ifndef ROOMLINK_SESSION_BARRIER_H
#define ROOMLINK_SESSION_BARRIER_H

#include <cstddef>
#include <utility>
#include <vector>

#include "attempt_machine.h"
#include "presence.h"
#include "wire_codec.h"

namespace roomlink {

// One item of the receiver stream: presence or a room message.
struct StreamItem {
    bool is_message = false;
    PeerEvent peer{false, 0, 0};
    wire::RoomMessage message;
};

class SessionBarrier {
public:
    static constexpr size_t kMaxHeldBytes = 4u << 20;
    static constexpr size_t kItemOverhead = 32;
    static constexpr size_t kMaxHeldItems = 65536;

    explicit SessionBarrier(size_t max_peers = kDefaultMaxPeers) : snapshot_(max_peers) {}

    static bool complete(const AttemptMachine& attempt, bool media_bound) {
        return attempt.answered() && media_bound;
    }

    // Presence heard on the attempt's connection before the answer: the snapshot.
    void on_snapshot_peer(const PeerEvent& event, const AttemptMachine& attempt) {
        if (attempt.request_sent() && !attempt.answered()) {
            snapshot_.add(event);
        }
    }

    // The answer was RESUME_OK(resumed=1): no snapshot, the replayed stream tells every change.
    void set_resumed() { resumed_ = true; }
    bool resumed() const { return resumed_; }

    // A stream item after the answer, before CONNECTED. False if it does not fit: the server
    // is flooding the client (the caller drops the connection).
    bool hold(StreamItem item) {
        const size_t cost = kItemOverhead + (item.is_message ? item.message.data.size() : 0);
        if (held_.size() >= kMaxHeldItems || held_bytes_ + cost > kMaxHeldBytes) {
            return false;
        }
        held_bytes_ += cost;
        held_.push_back(std::move(item));
        return true;
    }
    size_t held() const { return held_.size(); }

    // At CONNECTED. The snapshot (empty after a resumed=1 answer, and then not to be
    // reconciled: check resumed()) and the held items in the order they came.
    std::vector<uint64_t> take_snapshot() { return snapshot_.take(); }
    std::vector<StreamItem> take_held() {
        held_bytes_ = 0;
        return std::move(held_);
    }

private:
    PresenceSnapshot snapshot_;
    bool resumed_ = false;
    size_t held_bytes_ = 0;
    std::vector<StreamItem> held_;
};

}  // namespace roomlink

#endif
