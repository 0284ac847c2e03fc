// Which datagram counters a receiver has already accepted under one key: the highest one and a
// 128-counter window below it (RFC 6479 style, as WireGuard and SRTP keep it). A counter older
// than the window, or seen in it, is a replay. Only authenticated counters may be accepted, so a
// forger cannot move the window. Counter 0 is never sent and never accepted.
#ifndef ROOMLINK_REPLAY_WINDOW_H
#define ROOMLINK_REPLAY_WINDOW_H

#include <array>
#include <cstdint>

namespace roomlink {

class ReplayWindow {
public:
    static constexpr uint64_t kSize = 128;

    // Whether `counter` would be accepted (not checked: its tag).
    bool fresh(uint64_t counter) const {
        if (counter == 0) {
            return false;
        }
        if (counter > highest_) {
            return true;
        }
        const uint64_t behind = highest_ - counter;
        return behind < kSize && !seen(behind);
    }

    // Marks an authenticated, fresh `counter` as seen, moving the window if it is the newest.
    void accept(uint64_t counter) {
        if (counter > highest_) {
            shift(counter - highest_);
            highest_ = counter;
            bits_[0] |= 1;
        } else {
            const uint64_t behind = highest_ - counter;
            bits_[behind / 64] |= uint64_t{1} << (behind % 64);
        }
    }

private:
    // Bit i of the window: counter highest_ - i was seen.
    bool seen(uint64_t behind) const { return (bits_[behind / 64] >> (behind % 64)) & 1; }

    void shift(uint64_t by) {
        if (by >= kSize) {
            bits_ = {0, 0};
        } else if (by >= 64) {
            bits_[1] = bits_[0] << (by - 64);
            bits_[0] = 0;
        } else if (by > 0) {
            bits_[1] = (bits_[1] << by) | (bits_[0] >> (64 - by));
            bits_[0] <<= by;
        }
    }

    uint64_t highest_ = 0;
    std::array<uint64_t, 2> bits_{0, 0};
};

}  // namespace roomlink

#endif
