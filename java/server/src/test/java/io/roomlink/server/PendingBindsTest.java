package io.roomlink.server;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link PendingBinds}: bounded, oldest evicted first, per-source cap, expiry from the head, O(1). */
class PendingBindsTest {
    private static final long TTL = TimeUnit.SECONDS.toNanos(2);
    private final ServerStats stats = new ServerStats();

    private static InetSocketAddress src(int host, int port) {
        return new InetSocketAddress("10.0." + (host >> 8 & 0xFF) + "." + (host & 0xFF), port);
    }

    @Test
    void aFullStoreEvictsTheOldest() {
        PendingBinds p = new PendingBinds(3, 8, TTL, stats);
        for (int k = 1; k <= 4; k++) {
            assertTrue(p.offer(k, new byte[48], src(k, 1), k));
        }
        assertEquals(3, p.size());
        assertNull(p.take(1, 5), "the oldest made room");
        assertNotNull(p.take(2, 5));
        assertEquals(1, stats.pendingBindEvictions());
    }

    @Test
    void oneSourceKeepsAtMostItsShare() {
        PendingBinds p = new PendingBinds(100, 2, TTL, stats);
        assertTrue(p.offer(1, new byte[48], src(1, 1), 0));
        assertTrue(p.offer(2, new byte[48], src(1, 2), 0));
        assertFalse(p.offer(3, new byte[48], src(1, 3), 0), "same address, another port");
        assertEquals(1, stats.pendingBindSourceRefusals());
        assertTrue(p.offer(4, new byte[48], src(2, 1), 0), "another source is not affected");
        p.take(1, 0);
        assertTrue(p.offer(3, new byte[48], src(1, 3), 0), "room again once one is taken");
    }

    @Test
    void aKeyKeepsItsFirstSource() {
        PendingBinds p = new PendingBinds(100, 8, TTL, stats);
        InetSocketAddress real = src(1, 1);
        assertTrue(p.offer(7, new byte[48], real, 0));
        assertFalse(p.offer(7, new byte[48], src(9, 9), 1), "a replay from elsewhere does not replace it");
        assertEquals(real, p.take(7, 2).from());
    }

    @Test
    void entriesExpireFromTheHead() {
        PendingBinds p = new PendingBinds(100, 8, TTL, stats);
        p.offer(1, new byte[48], src(1, 1), 0);
        p.offer(2, new byte[48], src(2, 1), TTL / 2);
        p.expire(TTL + 1);
        assertEquals(1, p.size());
        assertNull(p.take(1, TTL + 1));
        assertNotNull(p.take(2, TTL + 1));
        assertEquals(0, p.sources());
    }

    @Test
    void aMillionInsertsIntoAFullStoreStayFast() {
        PendingBinds p = new PendingBinds(65_536, 8, TTL, stats);
        assertTimeoutPreemptively(java.time.Duration.ofSeconds(10), () -> {
            byte[] d = new byte[48];
            for (int i = 0; i < 1_000_000 + 65_536; i++) {
                p.offer(i, d, src(i, 1), 0);
            }
        });
        assertEquals(65_536, p.size());
        assertEquals(1_000_000, stats.pendingBindEvictions());
    }
}
