// Gives a LEAVE a chance to reach the server after the engine has moved on. The engine hands over
// its signal connection; the linger sends LEAVE and keeps the connection until LEAVE_OK, the
// server closing it, or a deadline, so peers see a NORMAL leave instead of a timeout. The linger
// belongs to the loop (it keeps itself alive through its own deadline timer), not to the engine,
// which may already be joining again or destroyed.
#ifndef ROOMLINK_LEAVE_LINGER_H
#define ROOMLINK_LEAVE_LINGER_H

#include <cstdint>
#include <functional>
#include <memory>

#include "clock.h"
#include "event_loop.h"
#include "signal_connection.h"

namespace roomlink {

// Room messages sent on the connection before the LEAVE (seqs first..last), not yet
// acknowledged. The linger watches MESSAGE_ACK; LEAVE_OK acknowledges them all (the server took
// every frame before the LEAVE). When the linger ends, `undelivered(n)` is called if n > 0 of them
// are still unacknowledged (also at once if the connection cannot carry the LEAVE).
struct LeaveMessages {
    uint64_t first = 0;
    uint64_t last = 0;  // none when last < first
    std::function<void(uint64_t unacknowledged)> undelivered;
};

void linger_until_leave_acknowledged(EventLoop& loop, std::unique_ptr<SignalConnection> connection,
                                     Duration max_wait, LeaveMessages messages = {});

}  // namespace roomlink

#endif
