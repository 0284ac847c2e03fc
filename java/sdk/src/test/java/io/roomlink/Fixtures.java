package io.roomlink;

import io.roomlink.server.RoomServer;
import io.roomlink.server.SelfSignedCertificate;
import io.roomlink.testkit.FaultProxy;
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
        return RoomServer.builder().bindAddress("127.0.0.1").signalPort(0).mediaPort(0).tokenSecret(SECRET)
                .selfSignedTls();
    }

    static String token(String channel, long uid) {
        return TokenBuilder.build(SECRET, APP_KEY, channel, uid, Instant.now().plusSeconds(600));
    }

    static RoomEngineConfig.Builder config(RoomServer server) {
        return config(server.signalPort());
    }

    /**
     * An engine for a test server on loopback {@code port}: TLS trusting this JVM's self-signed
     * certificate (every test server here uses it), and, if {@code port} is a FaultProxy's, that
     * proxy's media address (inside TLS the proxy cannot rewrite JOIN_OK's).
     */
    static RoomEngineConfig.Builder config(int port) {
        RoomEngineConfig.Builder b = RoomEngineConfig.builder().appKey(APP_KEY).server("127.0.0.1", port)
                .trustedCertificates(SelfSignedCertificate.shared().pem());
        FaultProxy.withSignalPort(port).ifPresent(p -> b.mediaAddressOverride(p.host(), p.mediaPort()));
        return b;
    }

    /**
     * Joins {@code engine} to {@code channel} as {@code uid} with a valid token and waits for
     * {@code listener}'s onJoinChannel(OK): the start of most tests, where the join itself is not
     * what is tested.
     */
    static void joinAndAwait(RoomEngine engine, RecordingListener listener, String channel, long uid) {
        joinAndAwait(engine, listener, token(channel, uid), channel, uid);
    }

    /** {@link #joinAndAwait(RoomEngine, RecordingListener, String, long)} with a token of the caller's. */
    static void joinAndAwait(RoomEngine engine, RecordingListener listener, String token, String channel, long uid) {
        engine.joinChannel(token, channel, uid);
        listener.awaitEvent("onJoinChannel(OK, uid=" + uid + ")", WAIT);
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
