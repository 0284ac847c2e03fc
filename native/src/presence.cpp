#include "presence.h"

#include <algorithm>

namespace roomlink {

void PresenceSnapshot::add(const PeerEvent& event) {
    if (event.joined) {
        uids_.push_back(event.uid);
    } else {
        uids_.erase(std::remove(uids_.begin(), uids_.end(), event.uid), uids_.end());
    }
}

void Presence::deliver(const PeerEvent& event) {
    if (event.joined) {
        if (known_.insert(event.uid).second) {
            events_.user_joined(event.uid);
        }
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
