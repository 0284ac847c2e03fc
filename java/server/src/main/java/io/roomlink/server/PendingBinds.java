package io.roomlink.server;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * BINDs whose mediaKey is not registered yet, kept raw (unauthenticated: their keys come with the
 * JOIN/RESUME) for {@code ttlNanos}, since the JOIN naming the key may still be on its way over
 * TCP. Bounded in total and per source address; when full, the oldest entry makes room. Every
 * operation is O(1) (amortised for expiry, which pops from the head only): insertion order is
 * arrival order, because a refreshed entry is re-inserted at the tail.
 *
 * <p>A key keeps its first source: a copy of the datagram from another address (a replay by an
 * on-path observer) does not replace it, so it cannot steer where the binding lands.
 * Not thread-safe: media loop only.
 */
final class PendingBinds {
    record Pending(byte[] datagram, InetSocketAddress from, long receivedNanos) {
    }

    private final int maxEntries;
    private final int maxPerSource;
    private final long ttlNanos;
    private final ServerStats stats;
    private final LinkedHashMap<Long, Pending> byKey = new LinkedHashMap<>();
    private final Map<InetAddress, Integer> perSource = new HashMap<>();

    PendingBinds(int maxEntries, int maxPerSource, long ttlNanos, ServerStats stats) {
        this.maxEntries = maxEntries;
        this.maxPerSource = maxPerSource;
        this.ttlNanos = ttlNanos;
        this.stats = stats;
    }

    /** Keeps {@code datagram} (copied by the caller) for {@code key}; false if refused. */
    boolean offer(long key, byte[] datagram, InetSocketAddress from, long nowNanos) {
        expire(nowNanos);
        Pending old = byKey.get(key);
        if (old != null) {
            if (!old.from().equals(from)) {
                return false; // the first source keeps the key until the JOIN lands or it expires
            }
            byKey.remove(key); // a retransmission: the newest copy, at the tail
            byKey.put(key, new Pending(datagram, from, nowNanos));
            return true;
        }
        if (maxEntries <= 0) {
            return false;
        }
        if (perSource.getOrDefault(from.getAddress(), 0) >= maxPerSource) {
            stats.pendingBindSourceRefusals.increment();
            return false;
        }
        if (byKey.size() >= maxEntries) {
            Iterator<Map.Entry<Long, Pending>> it = byKey.entrySet().iterator();
            Pending oldest = it.next().getValue();
            it.remove();
            release(oldest);
            stats.pendingBindEvictions.increment();
            stats.droppedPendingBinds.increment();
        }
        byKey.put(key, new Pending(datagram, from, nowNanos));
        perSource.merge(from.getAddress(), 1, Integer::sum);
        stats.pendingBinds.increment();
        return true;
    }

    /** Removes and returns the entry of {@code key} if still within its lifetime. */
    Pending take(long key, long nowNanos) {
        Pending p = byKey.remove(key);
        if (p == null) {
            return null;
        }
        release(p);
        if (nowNanos - p.receivedNanos() > ttlNanos) {
            stats.droppedPendingBinds.increment();
            return null;
        }
        return p;
    }

    /** Drops expired entries, from the head (the oldest) only. */
    void expire(long nowNanos) {
        Iterator<Pending> it = byKey.values().iterator();
        while (it.hasNext()) {
            Pending p = it.next();
            if (nowNanos - p.receivedNanos() <= ttlNanos) {
                return;
            }
            it.remove();
            release(p);
            stats.droppedPendingBinds.increment();
        }
    }

    int size() {
        return byKey.size();
    }

    int sources() {
        return perSource.size();
    }

    private void release(Pending p) {
        perSource.computeIfPresent(p.from().getAddress(), (a, n) -> n <= 1 ? null : n - 1);
    }
}
