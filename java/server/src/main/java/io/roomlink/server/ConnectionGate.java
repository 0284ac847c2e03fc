package io.roomlink.server;

import io.netty.channel.Channel;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Admission of signaling connections: at most {@code maxTotal} open at once, and at most
 * {@code maxPerIp} from one address. A connection over either cap is closed at once, before any
 * handler or buffer is set up for it. The per-address table holds only addresses with open
 * connections, so it is bounded by the total cap. Thread-safe (the I/O loops admit and release).
 */
final class ConnectionGate {
    private final int maxTotal;
    private final int maxPerIp;
    private final ServerStats stats;
    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentHashMap<InetAddress, AtomicInteger> perIp = new ConcurrentHashMap<>();

    ConnectionGate(int maxTotal, int maxPerIp, ServerStats stats) {
        this.maxTotal = maxTotal;
        this.maxPerIp = maxPerIp;
        this.stats = stats;
    }

    /**
     * Counts {@code ch} in, or closes it and returns false if a cap is reached. An admitted
     * channel is counted out when it closes.
     */
    boolean admit(Channel ch) {
        if (open.incrementAndGet() > maxTotal) {
            open.decrementAndGet();
            stats.connectionsRejected.increment();
            ch.close();
            return false;
        }
        InetAddress ip = ch.remoteAddress() instanceof InetSocketAddress isa ? isa.getAddress() : null;
        if (ip != null && !acquire(ip)) {
            open.decrementAndGet();
            stats.connectionsRejectedPerIp.increment();
            ch.close();
            return false;
        }
        ch.closeFuture().addListener(f -> {
            if (ip != null) {
                release(ip);
            }
            open.decrementAndGet();
        });
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
