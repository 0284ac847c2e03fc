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
        RoomServerOptions original = b.options();
        RoomServerOptions copy = original.toBuilder().options();
        assertEquals(original.toString(), copy.toString(), "every setting but the secret");
        assertEquals("secret", copy.tokenSecret());
        assertEquals(Duration.ZERO, copy.expiredSessionRetention());
        assertEquals("media.example.net", copy.advertisedHost());
        assertFalse(copy.nativeTransport());
    }

    @Test
    void toStringNamesEverySetting() {
        String s = RoomServer.builder().ioThreads(3).acceptBacklog(128).advertisedMediaAddress("m.example", 9)
                .options().toString();
        for (String part : new String[] {"signalPort=0", "mediaPort=0", "bindAddress=0.0.0.0", "advertisedMedia=m.example:9",
                "sessionGrace=PT10S", "idleTimeout=PT3S", "expiredSessionRetention=PT5M", "ioThreads=3", "acceptBacklog=128",
                "nativeTransport=true", "tokenSecret=none (debug mode)"}) {
            assertTrue(s.contains(part), part + " in " + s);
        }
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
