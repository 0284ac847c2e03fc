// Gives a LEAVE a chance to reach the server after the engine has moved on. The engine hands over
// its signal connection; the linger sends LEAVE and keeps the connection until LEAVE_OK, the
// server closing it, or a deadline, so peers see a NORMAL leave instead of a timeout. The linger
// belongs to the loop (it keeps itself alive through its own deadline timer), not to the engine,
// which may already be joining again or destroyed.
#ifndef ROOMLINK_LEAVE_LINGER_H
#define ROOMLINK_LEAVE_LINGER_H

#include <memory>

#include "clock.h"
#include "event_loop.h"
#include "signal_connection.h"

namespace roomlink {

void linger_until_leave_acknowledged(EventLoop& loop, std::unique_ptr<SignalConnection> connection,
                                     Duration max_wait);

}  // namespace roomlink

#endif
