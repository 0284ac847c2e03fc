#include "presence.h"

#include <algorithm>

#include "log.h"

namespace roomlink {

void PresenceSnapshot::add(const PeerEvent& event) {
    if (!event.joined) {
        members_.erase(event.uid);  // its slot in order_ is skipped by take()
        return;
    }
    if (members_.count(event.uid) != 0) {
        return;
    }
    if (members_.size() >= max_peers_) {
        ++dropped_;
        return;
    }
    members_.insert(event.uid);
    order_.push_back(event.uid);
    if (order_.size() > 2 * max_peers_) {
        compact();  // joins and leaves churning: keep the slots bounded
    }
}

void PresenceSnapshot::compact() {
    std::unordered_set<uint64_t> seen;
    std::vector<uint64_t> kept;
    kept.reserve(members_.size());
    // A uid that left and came back holds several slots: its latest announcement counts.
    for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
        if (members_.count(*it) != 0 && seen.insert(*it).second) {
            kept.push_back(*it);
        }
    }
    std::reverse(kept.begin(), kept.end());
    order_.swap(kept);
}

std::vector<uint64_t> PresenceSnapshot::take() {
    compact();
    std::vector<uint64_t> out;
    out.swap(order_);
    members_.clear();
    return out;
}

void Presence::deliver(const PeerEvent& event) {
    if (event.joined) {
        if (known_.count(event.uid) != 0) {
            return;
        }
        if (known_.size() >= max_peers_) {
            if (dropped_++ == 0) {
                RL_LOG(RL_LOG_WARN,
                       "presence: the server announced more than %zu peers; new ones are not "
                       "reported until others leave",
                       max_peers_);
            }
            return;
        }
        known_.insert(event.uid);
        events_.user_joined(event.uid);
    } else if (known_.erase(event.uid) > 0) {
        events_.user_left(event.uid, event.reason);
    }
}

void Presence::reconcile(const std::vector<uint64_t>& snapshot) {
    // Why a missing peer left is unknown (we were away when it happened): reported as NORMAL.
    const std::unordered_set<uint64_t> present(snapshot.begin(), snapshot.end());
    std::vector<uint64_t> gone;
    for (uint64_t uid : known_) {
        if (present.count(uid) == 0) {
            gone.push_back(uid);
        }
    }
    std::sort(gone.begin(), gone.end());
    for (uint64_t uid : gone) {
        deliver(PeerEvent{false, uid, RL_USER_LEAVE_NORMAL});
    }
    for (uint64_t uid : snapshot) {
        deliver(PeerEvent{true, uid, 0});
    }
}

}  // namespace roomlink
