package io.roomlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class BadArgumentsTest {
    private static final RoomEngineConfig CONFIG = Fixtures.config(1).build();

    @Test
    void badChannelNamesAndUidsAreRefusedWithoutSideEffects() {
        RecordingListener listener = new RecordingListener();
        try (RoomEngine engine = RoomEngine.create(CONFIG, listener)) {
            assertEquals(ErrorCode.INVALID_ARGUMENT, engine.joinChannel("t", null, 1));
            assertEquals(ErrorCode.INVALID_ARGUMENT, engine.joinChannel("t", "", 1));
            assertEquals(ErrorCode.INVALID_ARGUMENT, engine.joinChannel("t", "x".repeat(65), 1));
            assertEquals(ErrorCode.INVALID_ARGUMENT, engine.joinChannel("t", "房".repeat(22), 1),
                    "66 bytes of UTF-8 is over the limit even though it is 22 chars");
            assertEquals(ErrorCode.INVALID_ARGUMENT, engine.joinChannel("t", "room", -1));
            assertEquals(ErrorCode.INVALID_ARGUMENT, engine.joinChannel("t".repeat(1025), "room", 1));
            assertEquals(ConnectionState.DISCONNECTED, engine.getConnectionState());
            assertEquals(ErrorCode.NOT_JOINED, engine.leaveChannel());
        }
        assertEquals(List.of(), listener.events());
    }

    @Test
    void nullConfigOrListenerNamesTheArgument() {
        assertMessage(() -> RoomEngine.create(null, new RecordingListener()), "config");
        assertMessage(() -> RoomEngine.create(CONFIG, null), "listener");
    }

    @Test
    void dispatchPoolPropertiesOutOfRangeAreNamedWhenAnEngineIsCreated() {
        for (String[] bad : new String[][] {{"roomlink.dispatchSliceMicros", "50"},
                {"roomlink.dispatchSliceMicros", "100001"}, {"roomlink.dispatchThreads", "0"}}) {
            String before = System.getProperty(bad[0]);
            System.setProperty(bad[0], bad[1]);
            try {
                assertMessage(() -> RoomEngine.create(CONFIG, new RecordingListener()).close(), bad[0] + " must");
                assertMessage(() -> RoomEngine.create(CONFIG, new RecordingListener()).close(), "was " + bad[1]);
            } finally {
                if (before == null) {
                    System.clearProperty(bad[0]);
                } else {
                    System.setProperty(bad[0], before);
                }
            }
        }
        RoomEngine.create(CONFIG, new RecordingListener()).close(); // and nothing is left broken
    }

    @Test
    void configValuesOutOfRangeNameTheValue() {
        RoomEngineConfig.Builder b = RoomEngineConfig.builder();
        assertMessage(() -> b.appKey(""), "appKey");
        assertMessage(() -> b.appKey(null), "appKey");
        assertMessage(() -> b.appKey("k".repeat(65)), "appKey");
        assertMessage(() -> b.server("127.0.0.1", 0), "port");
        assertMessage(() -> b.server("127.0.0.1", 70000), "70000");
        assertMessage(() -> b.server("", 1), "host");
        assertMessage(() -> b.joinTimeout(Duration.ofMillis(5)), "joinTimeout");
        assertMessage(() -> b.joinTimeout(null), "joinTimeout");
        assertMessage(() -> b.signalTimeout(Duration.ofDays(2)), "signalTimeout");
        assertMessage(() -> b.mediaKeepaliveInterval(Duration.ZERO), "mediaKeepaliveInterval");
        assertMessage(() -> b.reconnectTimeout(Duration.ofMillis(-1)), "reconnectTimeout");
        assertMessage(() -> BackoffPolicy.exponential(Duration.ofMillis(100), Duration.ofMillis(50), 2, 0.1),
                "maxDelay");
        assertMessage(() -> BackoffPolicy.exponential(Duration.ofMillis(100), Duration.ofSeconds(1), 0.5, 0.1),
                "multiplier");
        assertMessage(() -> BackoffPolicy.exponential(Duration.ofMillis(100), Duration.ofSeconds(1), 2, 1.5),
                "jitter");
        assertMessage(() -> RoomEngineConfig.builder().server("h", 1).build(), "appKey");
        assertMessage(() -> RoomEngineConfig.builder().appKey("k").build(), "server");
        assertMessage(() -> Fixtures.config(1).mediaKeepaliveInterval(Duration.ofMillis(800))
                .mediaTimeout(Duration.ofMillis(1000)).build(), "mediaTimeout");
    }

    @Test
    void enumsMapUnknownCodesToUnknown() {
        assertEquals(ConnectionState.UNKNOWN, ConnectionState.fromCode(0));
        assertEquals(ConnectionState.UNKNOWN, ConnectionState.fromCode(99));
        assertEquals(ConnectionState.UNKNOWN, ConnectionState.fromCode(Integer.MIN_VALUE));
        assertEquals(ConnectionStateChangeReason.UNKNOWN, ConnectionStateChangeReason.fromCode(15));
        assertEquals(UserLeaveReason.UNKNOWN, UserLeaveReason.fromCode(-1));
        assertEquals("UNKNOWN(12345)", ErrorCode.nameOf(12345));
        assertEquals("ALREADY_JOINED", ErrorCode.nameOf(30100));
    }

    @Test
    void enumCodesMatchTheReferenceSdk() {
        int[] states = {1, 2, 3, 4, 5};
        ConnectionState[] stateValues = {ConnectionState.DISCONNECTED, ConnectionState.CONNECTING,
            ConnectionState.CONNECTED, ConnectionState.RECONNECTING, ConnectionState.FAILED};
        for (int i = 0; i < states.length; i++) {
            assertEquals(stateValues[i], ConnectionState.fromCode(states[i]));
            assertEquals(states[i], stateValues[i].code());
        }
        for (int code = 1; code <= 14; code++) {
            assertEquals(code, ConnectionStateChangeReason.fromCode(code).code());
        }
        assertEquals(14, ConnectionStateChangeReason.BE_KICKED_DUE_TO_SAME_USER_ID.code());
        assertEquals(8, ConnectionStateChangeReason.MEDIA_CONNECTION_DISCONNECTED.code());
        assertEquals(9, ConnectionStateChangeReason.SIGNAL_DISCONNECTED.code());
        for (int code = 0; code <= 4; code++) {
            assertEquals(code, UserLeaveReason.fromCode(code).code());
        }
    }

    private static void assertMessage(Executable call, String mustName) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage() != null && e.getMessage().contains(mustName),
                "message should name " + mustName + ": " + e.getMessage());
    }
}
