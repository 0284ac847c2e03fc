package io.roomlink.testkit;

import io.roomlink.server.RoomServer;
import io.roomlink.server.TokenBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link RoomServer} on loopback for tests, optionally behind a {@link FaultProxy}.
 *
 * <pre>{@code
 * try (TestRoomServer rooms = TestRoomServer.builder().withFaultProxy().start()) {
 *     RoomEngineConfig config = RoomEngineConfig.builder().appKey("demo")
 *             .server(rooms.clientHost(), rooms.clientSignalPort()).build();
 *     ... engine.joinChannel(rooms.token("demo", "room-1", 42), "room-1", 42) ...
 *     rooms.proxy().blackhole(Path.BOTH, Direction.BOTH);
 * }
 * }</pre>
 *
 * Clients must use {@link #clientHost()} and {@link #clientSignalPort()}: when a proxy fronts the
 * server those are the proxy's, and the server advertises the proxy's media port in JOIN_OK, so
 * both paths run through it. Server settings not set here keep the {@link RoomServer} defaults.
 */
public final class TestRoomServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TestRoomServer.class);
    private static final String LOOPBACK = "127.0.0.1";
    /** The token secret unless the builder sets another. */
    public static final String DEFAULT_TOKEN_SECRET = "roomlink-testkit-secret";
    private static final Duration TOKEN_LIFETIME = Duration.ofHours(1);
    /** How long {@link #restart()} retries binding a port the old server just released. */
    private static final Duration REBIND_PATIENCE = Duration.ofSeconds(5);

    private final Builder config;
    private final FaultProxy proxy;
    private final int signalPort;
    private final int mediaPort;
    private RoomServer server;
    private boolean closed;

    private TestRoomServer(Builder config) {
        this.config = config;
        this.proxy = config.faultProxy ? startProxy(config) : null;
        try {
            this.server = startServer(0, 0);
            this.signalPort = server.signalPort();
            this.mediaPort = server.mediaPort();
            if (proxy != null) {
                proxy.forwardSignalTo(LOOPBACK, signalPort);
                proxy.forwardMediaTo(LOOPBACK, mediaPort);
            }
        } catch (RuntimeException e) {
            if (server != null) {
                server.close();
            }
            if (proxy != null) {
                proxy.close();
            }
            throw e;
        }
    }

    /** A server on loopback with ephemeral ports, {@link #DEFAULT_TOKEN_SECRET} and no proxy. */
    public static TestRoomServer start() {
        return builder().start();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The running server. */
    public synchronized RoomServer server() {
        if (server == null) {
            throw new IllegalStateException(closed ? "TestRoomServer is closed" : "the server is stopped; call restart()");
        }
        return server;
    }

    /** Whether a {@link FaultProxy} fronts the server. */
    public boolean hasFaultProxy() {
        return proxy != null;
    }

    /**
     * The proxy in front of the server.
     *
     * @throws IllegalStateException if this was started without {@link Builder#withFaultProxy()}
     */
    public FaultProxy proxy() {
        if (proxy == null) {
            throw new IllegalStateException("started without a fault proxy: use TestRoomServer.builder().withFaultProxy()");
        }
        return proxy;
    }

    /** The host clients connect to. */
    public String clientHost() {
        return LOOPBACK;
    }

    /** The signaling port clients connect to: the proxy's when fronted, else the server's. */
    public int clientSignalPort() {
        return proxy != null ? proxy.signalPort() : signalPort;
    }

    /** The media port clients are told in JOIN_OK: the proxy's when fronted, else the server's. */
    public int clientMediaPort() {
        return proxy != null ? proxy.mediaPort() : mediaPort;
    }

    /** The server's own signaling port; the same across {@link #restart()}. */
    public int serverSignalPort() {
        return signalPort;
    }

    /** The server's own media port; the same across {@link #restart()}. */
    public int serverMediaPort() {
        return mediaPort;
    }

    /** The token secret, or {@code null} in debug mode. */
    public String tokenSecret() {
        return config.tokenSecret;
    }

    /** A join token valid for an hour. In debug mode (no secret) any token is accepted; this one still looks real. */
    public String token(String appKey, String channel, long uid) {
        String secret = config.tokenSecret != null ? config.tokenSecret : DEFAULT_TOKEN_SECRET;
        return TokenBuilder.build(secret, appKey, channel, uid, Instant.now().plus(TOKEN_LIFETIME));
    }

    /**
     * Stops the server (clients get {@code SESSION_END(31009)} and lose their connections) and
     * leaves it stopped: connecting clients are refused, or with a proxy accepted and reset, until
     * {@link #restart()}. The proxy keeps running. Idempotent.
     */
    public synchronized void stopServer() {
        if (server != null) {
            server.close();
            server = null;
        }
    }

    /**
     * Stops the server if it runs and starts a new one on the same signal and media ports, with
     * the same settings; none of the old sessions survive. The proxy keeps its ports and forwards
     * to the new server.
     */
    public synchronized void restart() {
        if (closed) {
            throw new IllegalStateException("TestRoomServer is closed");
        }
        stopServer();
        server = startServerRetrying();
        if (proxy != null) {
            proxy.forwardSignalTo(LOOPBACK, signalPort);
            proxy.forwardMediaTo(LOOPBACK, mediaPort);
        }
        log.info("TestRoomServer restarted on signal port {}, media port {}", signalPort, mediaPort);
    }

    /** Stops the server and the proxy. Idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            stopServer();
        }
        if (proxy != null) {
            proxy.close();
        }
    }

    @Override
    public String toString() {
        return "TestRoomServer[signal=" + signalPort + ", media=" + mediaPort
                + (proxy != null ? ", proxy signal=" + proxy.signalPort() + " media=" + proxy.mediaPort() : "") + "]";
    }

    private RoomServer startServerRetrying() {
        long deadline = System.nanoTime() + REBIND_PATIENCE.toNanos();
        while (true) {
            try {
                return startServer(signalPort, mediaPort);
            } catch (IllegalStateException e) {
                // The old sockets may linger for a moment (TIME_WAIT, or an ephemeral socket that
                // grabbed the port): try again briefly rather than fail the test.
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("cannot restart the room server on its old ports", e);
                }
                log.debug("rebinding ports {}/{} failed, retrying: {}", signalPort, mediaPort, e.getMessage());
                LockSupport.parkNanos(Duration.ofMillis(50).toNanos());
            }
        }
    }

    private RoomServer startServer(int signal, int media) {
        RoomServer.Builder b = RoomServer.builder();
        config.serverCustomizer.accept(b);
        b.bindAddress(LOOPBACK).signalPort(signal).mediaPort(media).tokenSecret(config.tokenSecret);
        if (config.sessionGrace != null) {
            b.sessionGrace(config.sessionGrace);
        }
        if (config.idleTimeout != null) {
            b.idleTimeout(config.idleTimeout);
        }
        if (proxy != null) {
            b.advertisedMediaAddress(LOOPBACK, proxy.mediaPort());
        }
        return b.start();
    }

    private static FaultProxy startProxy(Builder config) {
        return config.proxySeed != null ? FaultProxy.start(config.proxySeed) : FaultProxy.start();
    }

    /**
     * Settings of a {@link TestRoomServer}. {@link #start()} does not consume the builder: one
     * builder can start many servers with the same settings.
     */
    public static final class Builder {
        private boolean faultProxy;
        private Long proxySeed;
        private String tokenSecret = DEFAULT_TOKEN_SECRET;
        private Duration sessionGrace;
        private Duration idleTimeout;
        private Consumer<RoomServer.Builder> serverCustomizer = b -> { };

        private Builder() {
        }

        /** Fronts the server with a {@link FaultProxy} with a random seed. */
        public Builder withFaultProxy() {
            this.faultProxy = true;
            this.proxySeed = null;
            return this;
        }

        /** Fronts the server with a {@link FaultProxy} whose random decisions follow {@code seed}. */
        public Builder withFaultProxy(long seed) {
            this.faultProxy = true;
            this.proxySeed = seed;
            return this;
        }

        /** The server's token secret; {@code null} runs it in debug mode (any token accepted). */
        public Builder tokenSecret(String secret) {
            if (secret != null && secret.isEmpty()) {
                throw new IllegalArgumentException("tokenSecret must not be empty (use null for debug mode)");
            }
            this.tokenSecret = secret;
            return this;
        }

        /** See {@link RoomServer.Builder#sessionGrace(Duration)}. */
        public Builder sessionGrace(Duration grace) {
            this.sessionGrace = positive(grace, "sessionGrace");
            return this;
        }

        /** See {@link RoomServer.Builder#idleTimeout(Duration)}. */
        public Builder idleTimeout(Duration timeout) {
            this.idleTimeout = positive(timeout, "idleTimeout");
            return this;
        }

        /**
         * Any other server setting. Runs before the testkit's own settings, so bind address, ports,
         * secret, grace, idle timeout and the advertised media address set there are overridden.
         */
        public Builder configureServer(Consumer<RoomServer.Builder> customizer) {
            this.serverCustomizer = Objects.requireNonNull(customizer, "customizer");
            return this;
        }

        public TestRoomServer start() {
            return new TestRoomServer(copy());
        }

        Builder copy() {
            Builder b = new Builder();
            b.faultProxy = faultProxy;
            b.proxySeed = proxySeed;
            b.tokenSecret = tokenSecret;
            b.sessionGrace = sessionGrace;
            b.idleTimeout = idleTimeout;
            b.serverCustomizer = serverCustomizer;
            return b;
        }

        boolean hasFaultProxy() {
            return faultProxy;
        }

        private static Duration positive(Duration d, String name) {
            Objects.requireNonNull(d, name);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive: " + d);
            }
            return d;
        }
    }
}
