package io.roomlink.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.roomlink.server.RoomServer;
import io.roomlink.server.RoomServerOptions;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The testkit's builder keeps no options of its own: the server's builder defaults and validates them. */
class TestRoomServerBuilderTest {

    @Test
    void unsetOptionsKeepTheServerDefaults() {
        RoomServerOptions defaults = RoomServer.builder().options();
        RoomServerOptions o = TestRoomServer.builder().serverOptions();
        assertEquals("127.0.0.1", o.bindAddress());
        assertEquals(TestRoomServer.DEFAULT_TOKEN_SECRET, o.tokenSecret());
        assertEquals(defaults.sessionGrace(), o.sessionGrace());
        assertEquals(defaults.idleTimeout(), o.idleTimeout());
        assertEquals(defaults.expiredSessionRetention(), o.expiredSessionRetention());
    }

    @Test
    void badValuesFailAtOnceWithTheServersRules() {
        TestRoomServer.Builder b = TestRoomServer.builder();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.sessionGrace(Duration.ZERO));
        assertEquals(assertThrows(IllegalArgumentException.class,
                () -> RoomServer.builder().sessionGrace(Duration.ZERO)).getMessage(), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> b.idleTimeout(Duration.ofMillis(-1)));
        assertThrows(IllegalArgumentException.class, () -> b.tokenSecret(""));
        assertThrows(NullPointerException.class, () -> b.sessionGrace(null));
        assertEquals(TestRoomServer.DEFAULT_TOKEN_SECRET, b.serverOptions().tokenSecret(), "a rejected value changes nothing");
    }

    @Test
    void theTestkitsOwnSettingsWinOverConfigureServer() {
        RoomServerOptions o = TestRoomServer.builder()
                .sessionGrace(Duration.ofSeconds(2))
                .configureServer(b -> b.sessionGrace(Duration.ofSeconds(9)).idleTimeout(Duration.ofSeconds(7))
                        .bindAddress("0.0.0.0").tokenSecret("from-customizer").ioThreads(3))
                .serverOptions();
        assertEquals(Duration.ofSeconds(2), o.sessionGrace(), "set on the testkit builder: it wins");
        assertEquals(Duration.ofSeconds(7), o.idleTimeout(), "not set on the testkit builder: the customizer's");
        assertEquals("127.0.0.1", o.bindAddress());
        assertEquals(TestRoomServer.DEFAULT_TOKEN_SECRET, o.tokenSecret());
        assertEquals(3, o.ioThreads());
    }

    @Test
    void theLastValueOfAnOptionCounts() {
        RoomServerOptions o = TestRoomServer.builder().tokenSecret("a").tokenSecret(null)
                .idleTimeout(Duration.ofSeconds(1)).idleTimeout(Duration.ofSeconds(4)).serverOptions();
        assertNull(o.tokenSecret(), "debug mode");
        assertEquals(Duration.ofSeconds(4), o.idleTimeout());
    }

    @Test
    void aCopyIsNotChangedByTheOriginal() {
        TestRoomServer.Builder original = TestRoomServer.builder().sessionGrace(Duration.ofSeconds(1));
        TestRoomServer.Builder copy = original.copy();
        original.sessionGrace(Duration.ofSeconds(5)).tokenSecret("changed");
        assertEquals(Duration.ofSeconds(1), copy.serverOptions().sessionGrace());
        assertEquals(TestRoomServer.DEFAULT_TOKEN_SECRET, copy.serverOptions().tokenSecret());
    }
}
