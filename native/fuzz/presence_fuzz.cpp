// Presence as a hostile or buggy server can drive it: PEER_JOINED / PEER_LEFT in any order, with
// snapshots (the PEER_JOINED before JOIN_OK / RESUME_OK, corrections included) reconciled after
// outages. Each input byte pair is one step; uids come from a small range so they collide.
//
// Invariants, checked against the events the app would see: no uid is announced twice without a
// leave in between; every reported leave is of a uid that was announced; a leave found by
// reconciliation is reported as NORMAL; after reconcile the app's view equals the snapshot; a
// delivered event leaves the view agreeing with it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <vector>

#include "event_emitter.h"
#include "fuzz_check.h"
#include "presence.h"

using namespace roomlink;

namespace {

// What the app has been told, rebuilt from the event stream alone.
struct AppView {
    std::set<uint64_t> members;
    std::vector<uint8_t> leave_reasons;  // of the events since the last step began
};

void on_event(void* user, int32_t type, int32_t a, int32_t, int64_t x, int64_t, int64_t, int64_t) {
    auto* view = static_cast<AppView*>(user);
    const auto uid = static_cast<uint64_t>(x);
    if (type == RL_EVENT_USER_JOINED) {
        RL_FUZZ_CHECK(view->members.insert(uid).second);  // no duplicate join
    } else if (type == RL_EVENT_USER_LEFT) {
        RL_FUZZ_CHECK(view->members.erase(uid) == 1);  // every leave was known
        view->leave_reasons.push_back(static_cast<uint8_t>(a));
    } else {
        RL_FUZZ_CHECK(false);  // presence emits nothing else
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    AppView view;
    EventEmitter events(EventSink{&on_event, &view});
    Presence presence(events);
    PresenceSnapshot snapshot;
    bool collecting = false;

    for (size_t i = 0; i + 1 < size; i += 2) {
        const uint8_t op = data[i] & 0x07;
        const uint64_t uid = data[i + 1] & 0x0F;
        const auto reason = static_cast<uint8_t>(data[i + 1] >> 4);
        view.leave_reasons.clear();
        switch (op) {
        case 0:
        case 1: {
            const PeerEvent event{op == 0, uid, reason};
            if (collecting) {
                snapshot.add(event);
            } else {
                presence.deliver(event);
                RL_FUZZ_CHECK(view.members.count(uid) == (op == 0 ? 1u : 0u));
                RL_FUZZ_CHECK(view.leave_reasons.empty() || view.leave_reasons[0] == reason);
            }
            break;
        }
        case 2:
            collecting = true;  // an outage: the next answer starts with a snapshot
            snapshot = PresenceSnapshot();
            break;
        case 3:
        case 4: {
            if (!collecting) {
                break;
            }
            collecting = false;
            std::vector<uint64_t> uids = snapshot.take();
            const std::set<uint64_t> expected(uids.begin(), uids.end());
            presence.reconcile(uids);
            RL_FUZZ_CHECK(view.members == expected);
            for (uint8_t r : view.leave_reasons) {
                RL_FUZZ_CHECK(r == RL_USER_LEAVE_NORMAL);
            }
            break;
        }
        case 5:
            presence.clear();  // a fresh join: the app is told nothing, it starts over
            view.members.clear();
            break;
        default:
            break;  // steps 6 and 7 do nothing, so the fuzzer can pad
        }
    }
    return 0;
}
