package io.roomlink.testkit;

import io.roomlink.server.RoomServer;
import io.roomlink.server.RoomServerOptions;
import io.roomlink.server.SelfSignedCertificate;
import io.roomlink.server.TokenBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link RoomServer} on loopback for tests, optionally behind one or more {@link FaultProxy}s.
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
 * Signaling is TLS 1.3 with the JVM's self-signed certificate ({@link RoomServer.Builder#selfSignedTls()})
 * unless {@link Builder#plaintext()}: engines trust {@link #trustedCertificatesPem()}.
 *
 * Each proxy is one client's network. The server advertises its real media address, and a proxy
 * cannot change it inside TLS: a client that signals through a proxy is configured with the
 * proxy's media address ({@code RoomEngineConfig.Builder.mediaAddressOverride(proxy.host(),
 * proxy.mediaPort())}), so it sends its media through the same proxy, and a client connected to
 * {@link #serverSignalPort()} talks to the server directly on both paths. (On a plaintext server
 * the proxies also rewrite JOIN_OK / RESUME_OK to their own media port, as before.) To cut one client's
 * network while its peer is unaffected, give that client a proxy of its own:
 *
 * <pre>{@code
 * try (TestRoomServer rooms = TestRoomServer.start()) {
 *     FaultProxy networkOfA = rooms.newFaultProxy();
 *     ... A connects to networkOfA.host(), networkOfA.signalPort() ...
 *     ... B connects to rooms.clientHost(), rooms.serverSignalPort() (or through a proxy of its own) ...
 *     networkOfA.blackhole(Path.BOTH, Direction.BOTH);   // A's network drops; B sees nothing
 * }
 * }</pre>
 *
 * {@link Builder#withFaultProxy()} adds a default proxy, started with the server, that
 * {@link #proxy()} returns and {@link #clientSignalPort()} points at. Server settings not set here
 * keep the {@link RoomServer} defaults.
 */
public final class TestRoomServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TestRoomServer.class);
    private static final String LOOPBACK = "127.0.0.1";
    /** The token secret unless the builder sets another. */
    public static final String DEFAULT_TOKEN_SECRET = "roomlink-testkit-secret";
    private static final Duration TOKEN_LIFETIME = Duration.ofHours(1);
    /** How long {@link #restart()} retries binding a port the old server just released. */
    private static final Duration REBIND_PATIENCE = Duration.ofSeconds(5);

    /** The server's settings but its ports (ephemeral at first, then the same across {@link #restart()}). */
    private final RoomServerOptions serverOptions;
    /** The default proxy ({@link Builder#withFaultProxy()}), or null. */
    private final FaultProxy proxy;
    /** Every proxy fronting the server, the default one first. Guarded by {@code this}. */
    private final List<FaultProxy> proxies = new ArrayList<>();
    private final int signalPort;
    private final int mediaPort;
    private RoomServer server;
    private boolean closed;

    private TestRoomServer(Builder config) {
        this.serverOptions = config.serverOptions();
        this.proxy = config.faultProxy ? startProxy(config) : null;
        try {
            this.server = startServer(0, 0);
            this.signalPort = server.signalPort();
            this.mediaPort = server.mediaPort();
            if (proxy != null) {
                front(proxy);
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

    /** Whether the server was started with a default {@link FaultProxy} ({@link Builder#withFaultProxy()}). */
    public boolean hasFaultProxy() {
        return proxy != null;
    }

    /**
     * The default proxy in front of the server: the first of {@link #proxies()}.
     *
     * @throws IllegalStateException if this was started without {@link Builder#withFaultProxy()}
     */
    public FaultProxy proxy() {
        if (proxy == null) {
            throw new IllegalStateException("started without a fault proxy: use TestRoomServer.builder().withFaultProxy()");
        }
        return proxy;
    }

    /**
     * A new proxy fronting this server, signaling and media, with a random seed: a network of its
     * own for one client (or a few). Connect that client to {@code proxy.host()} and
     * {@code proxy.signalPort()}; the JOIN_OK and RESUME_OK it gets name the proxy's media port.
     * The proxy belongs to this server: it is closed with it and survives {@link #restart()}.
     * Closing it earlier is fine.
     *
     * @throws IllegalStateException if this server is closed
     */
    public FaultProxy newFaultProxy() {
        return addProxy(FaultProxy.start());
    }

    /** {@link #newFaultProxy()} whose random decisions follow {@code seed}. */
    public FaultProxy newFaultProxy(long seed) {
        return addProxy(FaultProxy.start(seed));
    }

    /** Every proxy fronting this server: the default one (if any) first, then those of {@link #newFaultProxy()}. */
    public synchronized List<FaultProxy> proxies() {
        return List.copyOf(proxies);
    }

    /** True if signaling is plaintext ({@link Builder#plaintext()}); TLS 1.3 otherwise. */
    public boolean plaintext() {
        return serverOptions.signalTls().isPlaintext();
    }

    /**
     * What an engine must trust to reach this server: the PEM of the JVM's self-signed
     * certificate (it names localhost, 127.0.0.1 and ::1); null on a plaintext server.
     */
    public String trustedCertificatesPem() {
        return plaintext() ? null : SelfSignedCertificate.shared().pem();
    }

    /** The host clients connect to, directly or through a proxy. */
    public String clientHost() {
        return LOOPBACK;
    }

    /**
     * The signaling port of the default client: the default proxy's when started
     * {@link Builder#withFaultProxy() withFaultProxy()}, else the server's. A client with a proxy of
     * its own connects to that proxy's {@link FaultProxy#signalPort()}; one that should be
     * unaffected by any proxy to {@link #serverSignalPort()}.
     */
    public int clientSignalPort() {
        return proxy != null ? proxy.signalPort() : signalPort;
    }

    /**
     * The media port the default client is told in JOIN_OK: the default proxy's when fronted (the
     * proxy rewrites it), else the server's.
     */
    public int clientMediaPort() {
        return proxy != null ? proxy.mediaPort() : mediaPort;
    }

    /** The server's own signaling port, for clients that bypass every proxy; the same across {@link #restart()}. */
    public int serverSignalPort() {
        return signalPort;
    }

    /** The server's own media port, the one it advertises in JOIN_OK; the same across {@link #restart()}. */
    public int serverMediaPort() {
        return mediaPort;
    }

    /** The token secret, or {@code null} in debug mode. */
    public String tokenSecret() {
        return serverOptions.tokenSecret();
    }

    /** A join token valid for an hour. In debug mode (no secret) any token is accepted; this one still looks real. */
    public String token(String appKey, String channel, long uid) {
        String secret = serverOptions.tokenSecret() != null ? serverOptions.tokenSecret() : DEFAULT_TOKEN_SECRET;
        return TokenBuilder.build(secret, appKey, channel, uid, Instant.now().plus(TOKEN_LIFETIME));
    }

    /**
     * Stops the server (clients get {@code SESSION_END(31009)} and lose their connections) and
     * leaves it stopped: connecting clients are refused, or through a proxy accepted and reset, until
     * {@link #restart()}. The proxies keep running. Idempotent.
     */
    public synchronized void stopServer() {
        if (server != null) {
            server.close();
            server = null;
        }
    }

    /**
     * Stops the server if it runs and starts a new one on the same signal and media ports, with
     * the same settings; none of the old sessions survive. The proxies keep their ports and, as the
     * server's ports are the same, forward to the new server as they are.
     */
    public synchronized void restart() {
        if (closed) {
            throw new IllegalStateException("TestRoomServer is closed");
        }
        stopServer();
        // Same ports: every proxy's targets stay valid, so there is nothing to re-target (and a
        // proxy the test closed itself must not make restart() fail).
        server = startServerRetrying();
        log.info("TestRoomServer restarted on signal port {}, media port {}", signalPort, mediaPort);
    }

    /** Stops the server and every proxy. Idempotent. */
    @Override
    public void close() {
        List<FaultProxy> toClose;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            stopServer();
            toClose = List.copyOf(proxies);
        }
        for (FaultProxy p : toClose) {
            p.close();
        }
    }

    @Override
    public synchronized String toString() {
        StringBuilder sb = new StringBuilder("TestRoomServer[signal=").append(signalPort).append(", media=")
                .append(mediaPort);
        for (FaultProxy p : proxies) {
            sb.append(p == proxy ? ", default proxy signal=" : ", proxy signal=").append(p.signalPort())
                    .append(" media=").append(p.mediaPort());
        }
        return sb.append(']').toString();
    }

    private FaultProxy addProxy(FaultProxy p) {
        synchronized (this) {
            if (!closed) {
                front(p);
                return p;
            }
        }
        p.close();
        throw new IllegalStateException("TestRoomServer is closed");
    }

    /** Points {@code p} at this server's real ports and takes ownership of it. Holds {@code this} or runs in the constructor. */
    private void front(FaultProxy p) {
        try {
            p.forwardSignalTo(LOOPBACK, signalPort);
            p.forwardMediaTo(LOOPBACK, mediaPort);
            // Inside TLS there is nothing to rewrite: clients are told the proxy's media address.
            p.rewriteMediaAddress(plaintext());
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
        proxies.add(p);
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
        // The server advertises its real media address; each proxy rewrites it for its own client.
        return serverOptions.toBuilder().signalPort(signal).mediaPort(media).start();
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
        /**
         * The server settings made here, in the order they were made: replayed onto a
         * {@link RoomServer.Builder} after {@link #configureServer}'s, so that they win. The server's
         * builder defaults and validates them; nothing is declared twice.
         */
        private Consumer<RoomServer.Builder> serverSettings = b -> b.tokenSecret(DEFAULT_TOKEN_SECRET).selfSignedTls();
        private Consumer<RoomServer.Builder> serverCustomizer = b -> { };

        private Builder() {
        }

        /**
         * Fronts the server with a default {@link FaultProxy} with a random seed: {@link #proxy()},
         * {@link #clientSignalPort()}. More proxies, one per client network, come from {@link #newFaultProxy()}.
         */
        public Builder withFaultProxy() {
            this.faultProxy = true;
            this.proxySeed = null;
            return this;
        }

        /** Fronts the server with a default {@link FaultProxy} whose random decisions follow {@code seed}. */
        public Builder withFaultProxy(long seed) {
            this.faultProxy = true;
            this.proxySeed = seed;
            return this;
        }

        /** The server's token secret; {@code null} runs it in debug mode (any token accepted). */
        public Builder tokenSecret(String secret) {
            return serverSetting(b -> b.tokenSecret(secret));
        }

        /** Plaintext signaling ({@link RoomServer.Builder#plaintext()}) instead of self-signed TLS. */
        public Builder plaintext() {
            return serverSetting(RoomServer.Builder::plaintext);
        }

        /** See {@link RoomServer.Builder#sessionGrace(Duration)}. */
        public Builder sessionGrace(Duration grace) {
            return serverSetting(b -> b.sessionGrace(grace));
        }

        /** See {@link RoomServer.Builder#idleTimeout(Duration)}. */
        public Builder idleTimeout(Duration timeout) {
            return serverSetting(b -> b.idleTimeout(timeout));
        }

        /** Checks {@code setting} now (a bad value fails here, not at {@link #start()}) and keeps it. */
        private Builder serverSetting(Consumer<RoomServer.Builder> setting) {
            setting.accept(RoomServer.builder());
            serverSettings = serverSettings.andThen(setting);
            return this;
        }

        /**
         * Any other server setting. Runs before the testkit's own settings, so bind address, ports,
         * secret, grace and idle timeout set there are overridden. An advertised media address set
         * here reaches direct clients as is; proxies still rewrite it to their own.
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
            b.serverSettings = serverSettings;
            b.serverCustomizer = serverCustomizer;
            return b;
        }

        /** The server's settings: {@link #configureServer}'s, then this builder's own, on loopback. */
        RoomServerOptions serverOptions() {
            RoomServer.Builder b = RoomServer.builder();
            serverCustomizer.accept(b);
            serverSettings.accept(b);
            return b.bindAddress(LOOPBACK).options();
        }

        boolean hasFaultProxy() {
            return faultProxy;
        }
    }
}
