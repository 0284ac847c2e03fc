package io.roomlink.demo;

import io.roomlink.ConnectionState;
import io.roomlink.RoomEngine;
import io.roomlink.RoomEngineConfig;
import io.roomlink.server.RoomServer;
import io.roomlink.server.TokenBuilder;
import java.time.Duration;
import java.time.Instant;

/**
 * Starts an embedded room server, joins users A and B to one channel, prints every callback
 * with a millisecond timestamp, leaves, and exits 0 (1 if any step did not happen in time).
 */
public final class Demo {
    private static final String APP_KEY = "demo";
    private static final String SECRET = "demo-secret";
    private static final String CHANNEL = "room-1";
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(15);

    private Demo() {
    }

    public static void main(String[] args) {
        Timeline timeline = new Timeline();
        try (RoomServer server = RoomServer.builder().bindAddress("127.0.0.1").signalPort(0).mediaPort(0)
                .tokenSecret(SECRET).start()) {
            timeline.note("server", "listening: signal tcp/" + server.signalPort() + ", media udp/" + server.mediaPort());
            RoomEngineConfig config = RoomEngineConfig.builder().appKey(APP_KEY)
                    .server("127.0.0.1", server.signalPort()).build();
            PrintingListener a = new PrintingListener("A", timeline);
            PrintingListener b = new PrintingListener("B", timeline);
            try (RoomEngine userA = RoomEngine.create(config, a); RoomEngine userB = RoomEngine.create(config, b)) {
                timeline.note("A", "joinChannel -> " + userA.joinChannel(token(1), CHANNEL, 1));
                a.await("onJoinChannel", STEP_TIMEOUT);
                timeline.note("B", "joinChannel -> " + userB.joinChannel(token(2), CHANNEL, 2));
                b.await("onUserJoined(1)", STEP_TIMEOUT);
                a.await("onUserJoined(2)", STEP_TIMEOUT);
                timeline.note("A", "getConnectionState() = " + userA.getConnectionState());

                timeline.note("A", "leaveChannel -> " + userA.leaveChannel());
                a.await("onLeaveChannel", STEP_TIMEOUT);
                b.await("onUserLeave(1", STEP_TIMEOUT);
                timeline.note("B", "leaveChannel -> " + userB.leaveChannel());
                b.await("onLeaveChannel", STEP_TIMEOUT);
                check(userA.getConnectionState() == ConnectionState.DISCONNECTED, "A is DISCONNECTED");
            }
        } catch (RuntimeException e) {
            System.err.println("demo failed: " + e.getMessage());
            System.exit(1);
        }
        timeline.printSummary();
        System.exit(0);
    }

    private static String token(long uid) {
        return TokenBuilder.build(SECRET, APP_KEY, CHANNEL, uid, Instant.now().plusSeconds(3600));
    }

    private static void check(boolean condition, String what) {
        if (!condition) {
            throw new IllegalStateException("expected: " + what);
        }
    }
}
