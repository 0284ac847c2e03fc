package io.roomlink.server;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link RoomServerOptions}: the frozen settings of {@link RoomServer.Builder}. */
class RoomServerOptionsTest {

    @Test
    void theDefaultsAreTheDocumentedOnes() {
        RoomServerOptions o = RoomServer.builder().options();
        assertEquals(0, o.signalPort());
        assertEquals(0, o.mediaPort());
        assertEquals("0.0.0.0", o.bindAddress());
        assertNull(o.tokenSecret(), "debug mode");
        assertNull(o.advertisedHost());
        assertEquals(0, o.advertisedPort());
        assertEquals(Duration.ofSeconds(10), o.sessionGrace());
        assertEquals(Duration.ofSeconds(3), o.idleTimeout());
        assertEquals(Duration.ofMinutes(5), o.expiredSessionRetention());
        assertEquals(Math.max(2, Runtime.getRuntime().availableProcessors()), o.ioThreads());
        assertEquals(RoomServer.DEFAULT_ACCEPT_BACKLOG, o.acceptBacklog());
        assertTrue(o.nativeTransport());
    }

    @Test
    void everySettingSurvivesTheRoundTripThroughToBuilder() {
        RoomServer.Builder b = RoomServer.builder().signalPort(7000).mediaPort(7001).bindAddress("127.0.0.1")
                .tokenSecret("secret").advertisedMediaAddress("media.example.net", 9000)
                .sessionGrace(Duration.ofSeconds(4)).idleTimeout(Duration.ofSeconds(2))
                .expiredSessionRetention(Duration.ZERO).ioThreads(3).acceptBacklog(128).nativeTransport(false);
        RoomServerOptions o = b.options().toBuilder().options();
        assertEquals(7000, o.signalPort());
        assertEquals(7001, o.mediaPort());
        assertEquals("127.0.0.1", o.bindAddress());
        assertEquals("secret", o.tokenSecret());
        assertEquals("media.example.net", o.advertisedHost());
        assertEquals(9000, o.advertisedPort());
        assertEquals(Duration.ofSeconds(4), o.sessionGrace());
        assertEquals(Duration.ofSeconds(2), o.idleTimeout());
        assertEquals(Duration.ZERO, o.expiredSessionRetention());
        assertEquals(3, o.ioThreads());
        assertEquals(128, o.acceptBacklog());
        assertFalse(o.nativeTransport());
    }

    @Test
    void optionsAreFrozenWhenTaken() {
        RoomServer.Builder b = RoomServer.builder().ioThreads(2);
        RoomServerOptions o = b.options();
        b.ioThreads(5);
        o.toBuilder().ioThreads(7);
        assertEquals(2, o.ioThreads());
    }

    @Test
    void toStringNeverShowsTheSecret() {
        String s = RoomServer.builder().tokenSecret("hunter2").options().toString();
        assertFalse(s.contains("hunter2"), s);
    }
}
