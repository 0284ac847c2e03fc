package io.roomlink;

import java.time.Duration;
import java.util.Objects;

/**
 * How the engine spaces reconnect attempts after the first one, which is always immediate.
 * Attempt n waits {@code min(initialDelay * multiplier^(n-1), maxDelay)}, spread by
 * {@code ±jitter} so that thousands of clients dropped at once do not return in lockstep.
 * While it waits, the engine still probes the path and retries as soon as the network is back.
 */
public final class BackoffPolicy {
    /** 250 ms, doubling, capped at 5 s, ±20 %. */
    public static final BackoffPolicy DEFAULT =
            new BackoffPolicy(Duration.ofMillis(250), Duration.ofSeconds(5), 2.0, 0.2);

    private final Duration initialDelay;
    private final Duration maxDelay;
    private final double multiplier;
    private final double jitter;

    private BackoffPolicy(Duration initialDelay, Duration maxDelay, double multiplier, double jitter) {
        this.initialDelay = initialDelay;
        this.maxDelay = maxDelay;
        this.multiplier = multiplier;
        this.jitter = jitter;
    }

    /**
     * @param initialDelay delay before the second attempt, 10 ms to 60 s
     * @param maxDelay cap on any delay, from initialDelay to 5 min
     * @param multiplier growth per attempt, 1.0 to 10.0
     * @param jitter random spread as a fraction of the delay, 0.0 to 1.0
     * @throws IllegalArgumentException naming the value that is out of range
     */
    public static BackoffPolicy exponential(Duration initialDelay, Duration maxDelay, double multiplier,
            double jitter) {
        Objects.requireNonNull(initialDelay, "initialDelay");
        Objects.requireNonNull(maxDelay, "maxDelay");
        Checks.millisInRange("initialDelay", initialDelay, 10, 60_000);
        Checks.millisInRange("maxDelay", maxDelay, initialDelay.toMillis(), 300_000);
        if (!(multiplier >= 1.0 && multiplier <= 10.0)) {
            throw new IllegalArgumentException("multiplier must be between 1.0 and 10.0, was " + multiplier);
        }
        if (!(jitter >= 0.0 && jitter <= 1.0)) {
            throw new IllegalArgumentException("jitter must be between 0.0 and 1.0, was " + jitter);
        }
        return new BackoffPolicy(initialDelay, maxDelay, multiplier, jitter);
    }

    public Duration initialDelay() {
        return initialDelay;
    }

    public Duration maxDelay() {
        return maxDelay;
    }

    public double multiplier() {
        return multiplier;
    }

    public double jitter() {
        return jitter;
    }

    @Override
    public String toString() {
        return "BackoffPolicy{initial=" + initialDelay.toMillis() + "ms, max=" + maxDelay.toMillis()
                + "ms, x" + multiplier + ", ±" + jitter + "}";
    }
}
