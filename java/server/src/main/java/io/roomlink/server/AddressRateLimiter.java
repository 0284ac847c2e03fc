package io.roomlink.server;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * JOIN/RESUME attempts per client address: a token bucket per address ({@code ratePerSecond}
 * tokens a second, holding at most {@code burst}), in a table
 * of at most {@link #MAX_ADDRESSES} addresses; the least recently seen is forgotten first, which
 * gives it a full bucket again but needs that many other addresses to happen. Thread-safe.
 */
final class AddressRateLimiter {
    static final int MAX_ADDRESSES = 65_536;

    private final double ratePerNano;
    private final double burst;
    private final Map<InetAddress, double[]> buckets = new LinkedHashMap<>(1024, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<InetAddress, double[]> eldest) {
            return size() > MAX_ADDRESSES;
        }
    };

    AddressRateLimiter(int ratePerSecond, int burst) {
        this.ratePerNano = ratePerSecond / 1e9;
        this.burst = burst;
    }

    /** Takes one token for {@code ip} at {@code nowNanos}; false if its bucket is empty. */
    synchronized boolean tryAcquire(InetAddress ip, long nowNanos) {
        double[] b = buckets.get(ip); // {tokens, last refill nanos}
        if (b == null) {
            b = new double[] {burst, nowNanos};
            buckets.put(ip, b);
        }
        double tokens = Math.min(burst, b[0] + (nowNanos - (long) b[1]) * ratePerNano);
        b[1] = nowNanos;
        if (tokens < 1) {
            b[0] = tokens;
            return false;
        }
        b[0] = tokens - 1;
        return true;
    }

    synchronized int size() {
        return buckets.size();
    }
}
