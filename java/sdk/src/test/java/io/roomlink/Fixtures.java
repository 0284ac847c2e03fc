package io.roomlink;

import io.roomlink.server.RoomServer;
import io.roomlink.server.TokenBuilder;
import java.time.Duration;
import java.time.Instant;

/** Shared setup for tests that run real engines against a real server over loopback. */
final class Fixtures {
    static final String APP_KEY = "demo";
    static final String SECRET = "test-secret";
    static final Duration WAIT = Duration.ofSeconds(10);

    private Fixtures() {
    }

    static RoomServer.Builder server() {
        return RoomServer.builder().bindAddress("127.0.0.1").signalPort(0).mediaPort(0).tokenSecret(SECRET);
    }

    static String token(String channel, long uid) {
        return TokenBuilder.build(SECRET, APP_KEY, channel, uid, Instant.now().plusSeconds(600));
    }

    static RoomEngineConfig.Builder config(RoomServer server) {
        return config(server.signalPort());
    }

    static RoomEngineConfig.Builder config(int port) {
        return RoomEngineConfig.builder().appKey(APP_KEY).server("127.0.0.1", port);
    }

    static void awaitTrue(java.util.function.BooleanSupplier condition, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + what);
            }
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
    }
}
