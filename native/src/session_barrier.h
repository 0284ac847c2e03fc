// The join barrier of one attempt: the session is established only when both halves are in, the
// answer (JOIN_OK / RESUME_OK) on the signal connection and the BIND_ACK on the media path. Until
// then it holds what the server said about presence: the snapshot that precedes the answer, and
// the live changes that follow it, which the app sees only once CONNECTED has been reported.
#ifndef ROOMLINK_SESSION_BARRIER_H
#define ROOMLINK_SESSION_BARRIER_H

#include <vector>

#include "attempt_machine.h"
#include "presence.h"

namespace roomlink {

class SessionBarrier {
public:
    explicit SessionBarrier(size_t max_peers = kDefaultMaxPeers)
        : snapshot_(max_peers), max_pending_(2 * max_peers) {}

    static bool complete(const AttemptMachine& attempt, bool media_bound) {
        return attempt.answered() && media_bound;
    }

    // Presence heard on the attempt's connection before CONNECTED.
    void on_peer(const PeerEvent& event, const AttemptMachine& attempt) {
        if (attempt.answered()) {
            if (pending_.size() >= max_pending_) {
                // A server flooding presence before the BIND_ACK: fold what is held into the
                // snapshot (the same membership, without the flaps) so memory stays bounded.
                for (const auto& held : pending_) {
                    snapshot_.add(held);
                }
                pending_.clear();
            }
            pending_.push_back(event);
        } else if (attempt.request_sent()) {
            snapshot_.add(event);
        }
    }

    // At CONNECTED: the snapshot is the truth (only differences reach the app), then the live
    // changes in the order they came.
    void release(Presence& presence) {
        presence.reconcile(snapshot_.take());
        for (const auto& peer : pending_) {
            presence.deliver(peer);
        }
        pending_.clear();
    }

private:
    PresenceSnapshot snapshot_;
    size_t max_pending_;
    std::vector<PeerEvent> pending_;
};

}  // namespace roomlink

#endif
