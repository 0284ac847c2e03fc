package io.roomlink.server;

import io.netty.channel.Channel;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Admission of signaling connections: at most {@code maxTotal} open at once, at most
 * {@code maxPerIp} from one address, and new ones from one address no faster than its
 * {@code connectionRate} bucket refills. A connection over any of them is closed at once, before
 * any handler, buffer or TLS handshake is set up for it (a TLS handshake costs the server a
 * signature: without the rate, one address could make it sign as fast as it can connect). The per-address table holds only addresses with open
 * connections, so it is bounded by the total cap. Thread-safe (the I/O loops admit and release).
 *
 * <p>At the total cap, or when accepting fails for want of descriptors, the oldest connection
 * that has not authenticated yet is closed to make room (counted in
 * {@link ServerStats#preAuthEvictions}): a flood of idle connections then costs the attacker its
 * own oldest ones, while a real client, which sends JOIN/RESUME one round trip after connecting,
 * is never the oldest for long. Only when every connection is authenticated is a newcomer refused.
 */
final class ConnectionGate {
    private final int maxTotal;
    private final int maxPerIp;
    private final AddressRateLimiter connectionRate;
    private final ServerStats stats;
    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentHashMap<InetAddress, AtomicInteger> perIp = new ConcurrentHashMap<>();
    /** Admitted connections that have not sent JOIN/RESUME yet, oldest first (guarded by itself). */
    private final LinkedHashSet<Channel> unauthenticated = new LinkedHashSet<>();

    /** {@code connectionRate}: null for no rate limit. */
    ConnectionGate(int maxTotal, int maxPerIp, AddressRateLimiter connectionRate, ServerStats stats) {
        this.maxTotal = maxTotal;
        this.maxPerIp = maxPerIp;
        this.connectionRate = connectionRate;
        this.stats = stats;
    }

    /**
     * Counts {@code ch} in, or closes it and returns false if a cap is reached. An admitted
     * channel is counted out when it closes.
     */
    boolean admit(Channel ch) {
        InetAddress ip = ch.remoteAddress() instanceof InetSocketAddress isa ? isa.getAddress() : null;
        if (ip != null && connectionRate != null && !connectionRate.tryAcquire(ip, System.nanoTime())) {
            stats.connectionRateRejects.increment();
            ch.close();
            return false;
        }
        if (open.incrementAndGet() > maxTotal && !evictOldestUnauthenticated()) {
            open.decrementAndGet();
            stats.connectionsRejected.increment();
            ch.close();
            return false;
        }
        if (ip != null && !acquire(ip)) {
            open.decrementAndGet();
            stats.connectionsRejectedPerIp.increment();
            ch.close();
            return false;
        }
        synchronized (unauthenticated) {
            unauthenticated.add(ch);
        }
        ch.closeFuture().addListener(f -> {
            authenticated(ch);
            if (ip != null) {
                release(ip);
            }
            open.decrementAndGet();
        });
        return true;
    }

    /** {@code ch} sent its JOIN/RESUME: it is no longer a candidate for eviction. */
    void authenticated(Channel ch) {
        synchronized (unauthenticated) {
            unauthenticated.remove(ch);
        }
    }

    /**
     * Closes the oldest connection that has not authenticated, if there is one. Its descriptor
     * comes back once its event loop has closed it, so the cap may be exceeded by the few
     * evictions in flight (the descriptor reserve covers them).
     */
    boolean evictOldestUnauthenticated() {
        Channel victim;
        synchronized (unauthenticated) {
            Iterator<Channel> it = unauthenticated.iterator();
            if (!it.hasNext()) {
                return false;
            }
            victim = it.next();
            it.remove();
        }
        stats.preAuthEvictions.increment();
        victim.close();
        return true;
    }

    private boolean acquire(InetAddress ip) {
        boolean[] ok = {false};
        perIp.compute(ip, (k, n) -> {
            AtomicInteger c = n == null ? new AtomicInteger() : n;
            if (c.get() < maxPerIp) {
                c.incrementAndGet();
                ok[0] = true;
            }
            return c.get() == 0 ? null : c;
        });
        return ok[0];
    }

    private void release(InetAddress ip) {
        perIp.computeIfPresent(ip, (k, c) -> c.decrementAndGet() == 0 ? null : c);
    }

    /** Connections admitted and still open. */
    int open() {
        return open.get();
    }

    int maxTotal() {
        return maxTotal;
    }
}
