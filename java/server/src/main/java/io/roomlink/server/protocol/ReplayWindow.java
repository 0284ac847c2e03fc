package io.roomlink.server.protocol;

/**
 * The receiver's replay check of one key (RFC 6479 style, as WireGuard and SRTP do): the highest
 * authenticated counter and a bitmap of the {@value #SIZE} counters at and below it. A counter
 * older than the window, or already seen in it, is a replay. Counters are u64 compared unsigned;
 * 0 is never sent, so it is always refused.
 *
 * <p>Ask {@link #fresh} before acting and call {@link #accept} only for a datagram whose tag
 * verified: the window must move only for authentic datagrams, or a forger could push it ahead
 * and make genuine datagrams look old. Not thread-safe: one owner (the server's media loop).
 */
public final class ReplayWindow {
    /** Counters remembered below (and including) the highest one. */
    public static final int SIZE = 128;

    private long highest; // 0 = nothing accepted yet
    // bit i of (hi:lo) = counter (highest - i) was seen; lo holds i in 0..63, hi i in 64..127
    private long lo;
    private long hi;

    /** Whether {@code counter} would be accepted now (not seen, not older than the window). */
    public boolean fresh(long counter) {
        if (counter == 0) {
            return false;
        }
        if (Long.compareUnsigned(counter, highest) > 0) {
            return true;
        }
        long age = highest - counter; // 0 <= age, unsigned, since counter <= highest
        if (Long.compareUnsigned(age, SIZE) >= 0) {
            return false;
        }
        return !bit((int) age);
    }

    /** Marks {@code counter} seen, moving the window forward if it is the highest yet. */
    public void accept(long counter) {
        if (counter == 0) {
            return;
        }
        if (Long.compareUnsigned(counter, highest) > 0) {
            long shift = counter - highest;
            shiftBy(highest == 0 ? SIZE : shift);
            highest = counter;
            lo |= 1L;
            return;
        }
        long age = highest - counter;
        if (Long.compareUnsigned(age, SIZE) < 0) {
            if (age < 64) {
                lo |= 1L << age;
            } else {
                hi |= 1L << (age - 64);
            }
        }
    }

    /** The highest accepted counter (0 if none). */
    public long highest() {
        return highest;
    }

    private boolean bit(int age) {
        return age < 64 ? (lo & (1L << age)) != 0 : (hi & (1L << (age - 64))) != 0;
    }

    private void shiftBy(long shift) {
        if (Long.compareUnsigned(shift, SIZE) >= 0) {
            lo = 0;
            hi = 0;
        } else if (shift >= 64) {
            hi = lo << (shift - 64);
            lo = 0;
        } else if (shift > 0) {
            hi = (hi << shift) | (lo >>> (64 - shift));
            lo = lo << shift;
        }
    }
}
