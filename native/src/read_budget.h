// How much one readiness event may read from one socket before the loop moves on. The loops are
// shared by every engine in the process, and epoll is level-triggered: a socket left with data
// fires again on the next round, after the due timers, the posted tasks (close()) and the other
// sockets have had their turn. Without a budget a server that floods one connection (a PONG
// flood) pins the loop thread in that connection's read loop and starves everything else.
#ifndef ROOMLINK_READ_BUDGET_H
#define ROOMLINK_READ_BUDGET_H

#include <cstddef>

namespace roomlink {

// Signal (TCP): bytes per wakeup: one 16 KiB read, about 1,200 of the smallest frames, a
// millisecond or two of decoding on a loaded 2-core box. A legitimate burst (a presence snapshot
// of 10,000 peers is ~140 KiB) takes a few rounds, each short; with 64 KiB per round, close()
// under a PONG flood was measured at up to 105 ms on that box.
constexpr size_t kSignalReadBytesPerWakeup = 16 * 1024;
// Media (UDP): datagrams per wakeup, valid or not.
constexpr size_t kMediaDatagramsPerWakeup = 32;

// A countdown for one wakeup: spend() what was read; when it returns false, stop reading.
class ReadBudget {
public:
    explicit ReadBudget(size_t units) : left_(units) {}
    bool spend(size_t units) {
        left_ = units >= left_ ? 0 : left_ - units;
        return left_ > 0;
    }
    bool exhausted() const { return left_ == 0; }

private:
    size_t left_;
};

}  // namespace roomlink

#endif
