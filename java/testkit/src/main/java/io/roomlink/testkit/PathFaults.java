package io.roomlink.testkit;

import io.roomlink.testkit.FaultProxy.Direction;
import java.util.Random;

/**
 * The faults applied to one path (signaling or media). Immutable: the proxy swaps in a new instance
 * on every change, so its I/O thread always sees one consistent setting.
 */
record PathFaults(boolean blackholeUpstream, boolean blackholeDownstream, long delayNanos, long jitterNanos,
                  double loss) {

    static final PathFaults NONE = new PathFaults(false, false, 0, 0, 0);

    /** Whether {@code direction} (UPSTREAM or DOWNSTREAM, never BOTH) is cut. */
    boolean blackholed(Direction direction) {
        return direction == Direction.UPSTREAM ? blackholeUpstream : blackholeDownstream;
    }

    PathFaults withBlackhole(Direction direction) {
        boolean up = blackholeUpstream || direction != Direction.DOWNSTREAM;
        boolean down = blackholeDownstream || direction != Direction.UPSTREAM;
        return new PathFaults(up, down, delayNanos, jitterNanos, loss);
    }

    PathFaults withDelay(long delay, long jitter) {
        return new PathFaults(blackholeUpstream, blackholeDownstream, delay, jitter, loss);
    }

    PathFaults withLoss(double fraction) {
        return new PathFaults(blackholeUpstream, blackholeDownstream, delayNanos, jitterNanos, fraction);
    }

    /** One packet's one-way delay: uniform in [delay - jitter, delay + jitter], never negative. */
    long sampleDelayNanos(Random random) {
        if (jitterNanos == 0) {
            return delayNanos;
        }
        long offset = (long) ((random.nextDouble() * 2 - 1) * jitterNanos);
        return Math.max(0, delayNanos + offset);
    }

    boolean lose(Random random) {
        return loss > 0 && random.nextDouble() < loss;
    }
}
