package io.roomlink.server;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.roomlink.server.protocol.FrameDecoder;
import io.roomlink.server.protocol.FrameEncoder;
import io.roomlink.server.protocol.Message;
import io.roomlink.server.protocol.WireCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The roomlink room server: signaling over TCP and media keepalives over UDP, wire protocol v1
 * (docs/PROTOCOL.md).
 *
 * <pre>{@code
 * try (RoomServer server = RoomServer.builder().signalPort(7000).mediaPort(7001).tokenSecret(s)
 *         .tls(Path.of("chain.pem"), Path.of("key.pem")).start()) {
 *     ...
 * }
 * }</pre>
 *
 * Threads: one acceptor and {@link Builder#ioThreads} I/O event loops, on Netty's native epoll
 * transport where it loads (else NIO). The I/O loops carry the signaling connections and the media
 * socket, and each is also the room executor of one shard of the room state ({@link RoomShards}):
 * a room and its sessions live on one loop, so presence stays ordered per room, and the room work
 * for a connection on the same loop needs no thread hand-off. All public methods are thread-safe;
 * the query methods wait for the room executors.
 */
public final class RoomServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RoomServer.class);

    static final String DEBUG_MODE_WARNING = "roomlink server is in DEBUG MODE: no token secret is set, so ANY "
            + "token is accepted and anyone can join any channel as any uid. Never run it like this in production.";

    static final String PLAINTEXT_WARNING = "roomlink server signaling is PLAINTEXT: tokens, session secrets and "
            + "media keys cross the network readable by anyone on the path. Development only.";

    /** See {@link Builder#acceptBacklog}. */
    static final int DEFAULT_ACCEPT_BACKLOG = 16384;

    private final RoomServerOptions options;
    private final ServerStats stats = new ServerStats();
    private volatile String tlsProviderName = "none";
    private final MediaBindings bindings = new MediaBindings();
    private final TokenVerifier verifier;
    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;
    /**
     * The media socket's own loop. On a shared I/O loop, a burst of joins on that loop's TCP
     * connections held up the reading of every session's PINGs: the socket's buffer overflowed and
     * thousands of idle sessions lost their media path at once (capacity bench, 10,000 sessions).
     */
    private final EventLoopGroup mediaGroup;
    private final ServerTransport transport;
    private final ChannelGroup signalChannels = new DefaultChannelGroup("roomlink-signal", GlobalEventExecutor.INSTANCE);
    private final MediaHandler mediaHandler;
    private final RoomShards rooms;
    private Channel serverChannel;
    private Channel mediaChannel;
    private volatile int boundSignalPort;
    private volatile int boundMediaPort;
    private final List<ScheduledFuture<?>> sweeps = new ArrayList<>();
    private boolean closed;

    /** A builder with the defaults: ephemeral ports, all interfaces, debug mode, 10 s grace, 3 s idle timeout. */
    public static Builder builder() {
        return new Builder();
    }

    static {
        NettyLogging.install(); // before any Netty class makes its logger
    }

    private final ConnectionGate gate;

    private RoomServer(RoomServerOptions options) {
        this.options = options;
        ServerLimits limits = options.limits();
        this.gate = new ConnectionGate(limits.effectiveMaxConnections(), limits.maxConnectionsPerIp(),
                new AddressRateLimiter(limits.connectionRatePerIp(), limits.connectionBurstPerIp()), stats);
        this.verifier = new TokenVerifier(options.tokenSecret(), options.maxTokenLifetime());
        this.transport = ServerTransport.select(options.nativeTransport());
        this.bossGroup = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("roomlink-accept"),
                transport.ioHandlerFactory());
        this.workerGroup = new MultiThreadIoEventLoopGroup(options.ioThreads(), new DefaultThreadFactory("roomlink-io"),
                transport.ioHandlerFactory());
        this.mediaGroup = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("roomlink-media"),
                transport.ioHandlerFactory());
        List<EventExecutor> loops = new ArrayList<>();
        workerGroup.forEach(loops::add);
        this.mediaHandler = new MediaHandler(bindings, stats, options.limits().maxPendingBinds(),
                options.limits().maxPendingBindsPerSource());
        this.rooms = new RoomShards(loops, bindings, mediaHandler, stats, ByteBufAllocator.DEFAULT,
                options.sessionGrace().toNanos(), options.idleTimeout().toNanos(),
                options.expiredSessionRetention().toNanos(),
                new CredentialPolicy(verifier, options.sameUidPolicy(), options.enforceTokenExpiry(),
                        options.tokenExpiryWarning()),
                new RoomCaps(limits.maxMembersPerChannel(), limits.maxChannels(), limits.maxMessageBytesPerSecond(),
                        limits.replayBufferBytes()));
        this.mediaHandler.bindListener((s, key) -> {
            RoomRegistry shard = rooms.forSession(s.id);
            shard.post(() -> shard.mediaBound(s, key));
        });
    }

    private void start() {
        SslContext tls;
        try {
            tls = options.signalTls().newServerContext();
            tlsProviderName = tls == null ? "none"
                    : tls instanceof io.netty.handler.ssl.ReferenceCountedOpenSslContext
                            ? "openssl (" + io.netty.handler.ssl.OpenSsl.versionString() + ")" : "jdk";
        } catch (RuntimeException e) {
            shutdownExecutors();
            throw e;
        }
        InetAddress bindAddr;
        try {
            bindAddr = InetAddress.getByName(options.bindAddress());
        } catch (UnknownHostException e) {
            shutdownExecutors();
            throw new IllegalStateException("roomlink server: cannot resolve bind address '" + options.bindAddress() + "'",
                    e);
        }
        try {
            Bootstrap media = new Bootstrap()
                    .group(mediaGroup)
                    .channel(transport.datagramChannel())
                    .option(ChannelOption.SO_RCVBUF, 4 << 20)
                    .option(ChannelOption.SO_SNDBUF, 4 << 20)
                    .handler(mediaHandler);
            transport.batchDatagramReads(media);
            mediaChannel = bind("media (UDP)", media.bind(bindAddr, options.mediaPort()), bindAddr, options.mediaPort());
            int mediaPort = ((InetSocketAddress) mediaChannel.localAddress()).getPort();
            String advertisedHost = options.advertisedHost();
            int advertisedPort = options.advertisedPort() > 0 ? options.advertisedPort() : mediaPort;
            if (advertisedHost == null && !bindAddr.isAnyLocalAddress()) {
                advertisedHost = io.netty.util.NetUtil.toAddressString(bindAddr);
            }
            String fixedHost = advertisedHost;
            ServerLimits limits = options.limits();
            SignalLimits signalLimits = new SignalLimits(limits.handshakeTimeout().toNanos(), limits.maxPreAuthPings(),
                    limits.maxPendingWriteBytes(), new AddressRateLimiter(limits.joinRatePerIp(), limits.joinBurstPerIp()));
            int high = limits.writeBufferHighWaterMark();
            serverChannel = bind("signal (TCP)", new ServerBootstrap()
                    .group(bossGroup, workerGroup)
                    .channel(transport.serverChannel())
                    // A reconnect storm arrives all at once; the kernel clamps this to net.core.somaxconn.
                    .option(ChannelOption.SO_BACKLOG, options.acceptBacklog())
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(high / 4, high))
                    .handler(new AcceptGuard(stats, gate))
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            if (!gate.admit(ch)) {
                                return; // over a connection cap: closed already, nothing set up
                            }
                            signalChannels.add(ch);
                            if (tls != null) {
                                // Pre-auth: the handshake shares the JOIN deadline below; Netty's own
                                // timeout is the same bound, in case the handler order ever changes.
                                SslHandler handler = tls.newHandler(ch.alloc());
                                handler.setHandshakeTimeoutMillis(options.idleTimeout().toMillis());
                                handler.handshakeFuture().addListener(f -> {
                                    if (f.isSuccess()) {
                                        stats.tlsHandshakes.increment();
                                        if (SignalTls.resumed(handler.engine())) {
                                            stats.tlsResumedHandshakes.increment();
                                        }
                                    }
                                });
                                ch.pipeline().addLast("tls", handler);
                            }
                            ch.pipeline().addLast("encoder", FrameEncoder.INSTANCE);
                            ch.pipeline().addLast("decoder", new FrameDecoder(WireCodec.MAX_FIRST_FRAME));
                            ch.pipeline().addLast("signal", new SignalHandler(rooms, verifier, stats,
                                    signalLimits, fixedHost, advertisedPort, gate));
                        }
                    })
                    .bind(bindAddr, options.signalPort()), bindAddr, options.signalPort());
        } catch (RuntimeException e) {
            closeChannels();
            shutdownExecutors();
            throw e;
        }
        boundSignalPort = ((InetSocketAddress) serverChannel.localAddress()).getPort();
        boundMediaPort = ((InetSocketAddress) mediaChannel.localAddress()).getPort();
        for (int i = 0; i < rooms.size(); i++) {
            RoomRegistry shard = rooms.shard(i);
            sweeps.add(shard.executor().scheduleAtFixedRate(() -> {
                try {
                    shard.sweep();
                } catch (Throwable t) {
                    log.error("room sweep failed", t);
                }
            }, RoomRegistry.SWEEP_MILLIS, RoomRegistry.SWEEP_MILLIS, TimeUnit.MILLISECONDS));
        }
        if (options.signalTls().isPlaintext()) {
            log.warn("**********************************************************************");
            log.warn(PLAINTEXT_WARNING);
            log.warn("**********************************************************************");
        }
        if (verifier.debugMode()) {
            log.warn("**********************************************************************");
            log.warn(DEBUG_MODE_WARNING);
            log.warn("**********************************************************************");
        }
        if (options.nativeTransport() && !transport.name().equals("epoll")) {
            Throwable why = ServerTransport.epollUnavailabilityCause();
            log.info("native epoll transport unavailable, using NIO: {}", why == null ? "unknown reason" : why.toString());
        }
        if (options.signalTls().provider() == SignalTls.Provider.AUTO && tlsProviderName.equals("jdk")) {
            Throwable why = io.netty.handler.ssl.OpenSsl.unavailabilityCause();
            log.info("BoringSSL (netty-tcnative) unavailable, TLS through the JDK: {}",
                    why == null ? "no TLS 1.3 support" : why.toString());
        }
        log.info("roomlink server started: signal {}:{} ({}, TLS provider {}), media {}:{}, grace {} ms, idle timeout {} ms, {} transport, "
                        + "{} I/O threads", options.bindAddress(), signalPort(), options.signalTls(), tlsProviderName, options.bindAddress(),
                mediaPort(), options.sessionGrace().toMillis(), options.idleTimeout().toMillis(), transport.name(),
                options.ioThreads());
    }

    private static Channel bind(String what, ChannelFuture f, InetAddress addr, int port) {
        f.awaitUninterruptibly();
        if (!f.isSuccess()) {
            Throwable cause = f.cause();
            throw new IllegalStateException("roomlink server: cannot bind " + what + " port " + addr.getHostAddress()
                    + ":" + port + ": " + (cause == null ? "unknown error" : cause.getMessage()), cause);
        }
        return f.channel();
    }

    /** The bound signaling (TCP) port. */
    public int signalPort() {
        return boundSignalPort;
    }

    /** The bound media (UDP) port. */
    public int mediaPort() {
        return boundMediaPort;
    }

    /** The Netty transport in use: "epoll" (native) or "nio". */
    public String transportName() {
        return transport.name();
    }

    /** True if the server was started without a token secret and accepts any token. */
    public boolean debugMode() {
        return verifier.debugMode();
    }

    /** Signaling connections open now (admitted by the connection caps and not closed yet). */
    public int connectionCount() {
        return gate.open();
    }

    /** The total connection cap in force (the configured one, or the one derived from the open-files limit). */
    public int connectionCap() {
        return gate.maxTotal();
    }

    /**
     * The TLS implementation serving signaling: {@code "openssl (BoringSSL)"}-like when
     * netty-tcnative loaded, {@code "jdk"}, or {@code "none"} for plaintext. Set by start.
     */
    public String tlsProvider() {
        return tlsProviderName;
    }

    /** Counters since start. */
    public ServerStats stats() {
        return stats;
    }

    /**
     * Ends the session of {@code uid} in the channel: the user gets {@code SESSION_END(30206)} and is
     * disconnected, the other members get {@code PEER_LEFT(uid, KICKED)} (unless the session was
     * still pending, i.e. never visible to them).
     *
     * @return true if such a session (pending, connected or in grace) was found
     */
    public boolean kickUser(String appKey, String channelName, long uid) {
        RoomKey key = new RoomKey(appKey, channelName);
        RoomRegistry shard = rooms.forRoom(key);
        return shard.call(() -> shard.kick(key, uid), false);
    }

    /**
     * Closes the channel: every member gets {@code SESSION_END(30207)} and is disconnected; the
     * channel is removed (a later JOIN creates a new one, possibly with a new id).
     *
     * @return true if the channel existed
     */
    public boolean closeChannel(String appKey, String channelName) {
        RoomKey key = new RoomKey(appKey, channelName);
        RoomRegistry shard = rooms.forRoom(key);
        return shard.call(() -> shard.closeChannel(key), false);
    }

    /**
     * The uids present in the channel, as its members see them: sessions that are fully connected
     * (JOIN accepted and media bound), including those in grace. A session whose media is not bound
     * yet (pending) is not listed.
     */
    public Set<Long> members(String appKey, String channelName) {
        RoomKey key = new RoomKey(appKey, channelName);
        RoomRegistry shard = rooms.forRoom(key);
        return shard.call(() -> shard.members(key), Set.of());
    }

    /** The id of the channel while it exists. */
    public OptionalLong channelId(String appKey, String channelName) {
        RoomKey key = new RoomKey(appKey, channelName);
        RoomRegistry shard = rooms.forRoom(key);
        return shard.call(() -> shard.channelId(key), OptionalLong.empty());
    }

    /**
     * Number of sessions: pending (media not bound yet), fully connected, and in grace. It can
     * exceed the sum of {@link #members} sizes by the pending sessions.
     */
    public int sessionCount() {
        return rooms.sessionCount();
    }

    /**
     * Stops the server: {@code SESSION_END(31009, "server shutting down")} to every connected
     * client, then closes every socket and stops the threads. The ports are free when this returns.
     * Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (serverChannel != null) {
            serverChannel.close().awaitUninterruptibly(2, TimeUnit.SECONDS); // accept no more
        }
        sweeps.forEach(f -> f.cancel(false));
        rooms.shutdown();
        Message bye = new Message.SessionEnd(ErrorCodes.SERVER_SHUTDOWN, "server shutting down");
        signalChannels.writeAndFlush(bye).awaitUninterruptibly(2, TimeUnit.SECONDS);
        closeChannels();
        shutdownExecutors();
        log.info("roomlink server stopped");
    }

    private void closeChannels() {
        signalChannels.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        if (mediaChannel != null) {
            mediaChannel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        if (serverChannel != null) {
            serverChannel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
    }

    private void shutdownExecutors() {
        for (EventExecutorGroup g : new EventExecutorGroup[] {bossGroup, workerGroup, mediaGroup}) {
            g.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
        for (EventExecutorGroup g : new EventExecutorGroup[] {bossGroup, workerGroup, mediaGroup}) {
            g.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    /**
     * Configuration of a {@link RoomServer}: the one place where each option is declared, defaulted
     * and validated. {@link #start()} binds the ports; {@link #options()} freezes the settings.
     */
    public static final class Builder {
        private int signalPort;
        private int mediaPort;
        private String bindAddress = "0.0.0.0";
        private String tokenSecret;
        private String advertisedHost;
        private int advertisedPort;
        private Duration sessionGrace = Duration.ofSeconds(10);
        private Duration idleTimeout = Duration.ofSeconds(3);
        private Duration expiredSessionRetention = Duration.ofMinutes(5);
        private int ioThreads = Math.max(2, Runtime.getRuntime().availableProcessors());
        private int acceptBacklog = DEFAULT_ACCEPT_BACKLOG;
        private boolean nativeTransport = true;
        private Duration maxTokenLifetime = TokenVerifier.DEFAULT_MAX_LIFETIME;
        private SameUidPolicy sameUidPolicy = SameUidPolicy.NEWEST_WINS;
        private boolean enforceTokenExpiry;
        private Duration tokenExpiryWarning = Duration.ofSeconds(30);
        private SignalTls signalTls;
        private SignalTls.Provider tlsProvider = SignalTls.Provider.AUTO;
        private ServerLimits limits = ServerLimits.DEFAULTS;

        private Builder() {
        }

        /**
         * Signaling over TLS 1.3 with this certificate chain (PEM, leaf first) and its private key
         * (PKCS#8 PEM, {@code BEGIN PRIVATE KEY}). Clients check the chain against their trust
         * anchors and the leaf against the host name they dial. One of {@code tls},
         * {@link #selfSignedTls()} or {@link #plaintext()} is required: {@link #start()} refuses a
         * builder with none.
         */
        public Builder tls(java.nio.file.Path certChainPem, java.nio.file.Path privateKeyPem) {
            this.signalTls = SignalTls.files(certChainPem, privateKeyPem);
            return this;
        }

        /**
         * Signaling over TLS 1.3 with this JVM's self-signed certificate for localhost, 127.0.0.1
         * and ::1 ({@link SelfSignedCertificate#shared()}; clients must trust its
         * {@link SelfSignedCertificate#pem() PEM}). For development and tests only.
         */
        public Builder selfSignedTls() {
            this.signalTls = SignalTls.selfSigned();
            return this;
        }

        /**
         * Signaling without TLS: tokens, session secrets and media keys travel readable by anyone
         * on the path. Logged as a warning at start. For development servers only.
         */
        public Builder plaintext() {
            this.signalTls = SignalTls.plaintext();
            return this;
        }

        /**
         * Which TLS implementation serves signaling: {@code AUTO} (the default) uses BoringSSL
         * (netty-tcnative) when it loads on this host and the JDK's provider otherwise;
         * {@code OPENSSL} requires BoringSSL ({@link #start()} fails without it); {@code JDK} never
         * loads it. Either way TLS 1.3 only, same certificate.
         */
        public Builder tlsProvider(SignalTls.Provider provider) {
            this.tlsProvider = java.util.Objects.requireNonNull(provider, "provider");
            return this;
        }

        /** TCP port for signaling; 0 (the default) picks an ephemeral port. */
        public Builder signalPort(int port) {
            this.signalPort = checkPort("signalPort", port);
            return this;
        }

        /** UDP port for media; 0 (the default) picks an ephemeral port. */
        public Builder mediaPort(int port) {
            this.mediaPort = checkPort("mediaPort", port);
            return this;
        }

        /** Address (literal or host name) both sockets bind to; default "0.0.0.0" (all interfaces). */
        public Builder bindAddress(String address) {
            Objects.requireNonNull(address, "bindAddress");
            if (address.isBlank()) {
                throw new IllegalArgumentException("bindAddress must not be blank");
            }
            this.bindAddress = address;
            return this;
        }

        /** HMAC secret of join tokens; {@code null} (the default) = debug mode, any token accepted. */
        public Builder tokenSecret(String secret) {
            if (secret != null && secret.isEmpty()) {
                throw new IllegalArgumentException("tokenSecret must not be empty (use null for debug mode)");
            }
            this.tokenSecret = secret;
            return this;
        }

        /**
         * Media address told to clients in JOIN_OK/RESUME_OK (behind NAT, a load balancer or a test
         * proxy). Port 0 means the bound media port. Without it the server advertises its bind
         * address, or, when bound to all interfaces, the local address each client's signaling
         * connection reached.
         */
        public Builder advertisedMediaAddress(String host, int port) {
            Objects.requireNonNull(host, "host");
            int len = host.getBytes(StandardCharsets.UTF_8).length;
            if (len < WireCodec.MEDIA_HOST_MIN || len > WireCodec.MEDIA_HOST_MAX) {
                throw new IllegalArgumentException("advertised media host must be 1..255 bytes");
            }
            this.advertisedHost = host;
            this.advertisedPort = checkPort("advertised media port", port);
            return this;
        }

        /**
         * How long a visible member is kept after its last healthy moment (the earlier of the last
         * signal frame and the last media datagram heard from its bound address), whether or not
         * its connection is still attached; then its peers get PEER_LEFT(TIMEOUT). Default 10 s.
         */
        public Builder sessionGrace(Duration grace) {
            this.sessionGrace = checkPositive("sessionGrace", grace);
            return this;
        }

        /** Silence (no signal frame and no media datagram) after which a connection is dropped; default 3 s. */
        public Builder idleTimeout(Duration timeout) {
            this.idleTimeout = checkPositive("idleTimeout", timeout);
            return this;
        }

        /**
         * How long the server remembers sessions after they ended (default 5 min): a RESUME of a
         * session whose grace ran out is admitted as a fresh session ({@code RESUME_OK resumed=0},
         * peers see PEER_JOINED again), and a RESUME of a session the server ended (kick, channel
         * closed, same uid elsewhere) gets that SESSION_END. {@link Duration#ZERO} disables this:
         * such RESUMEs get {@code JOIN_ERR(31001)}.
         */
        public Builder expiredSessionRetention(Duration retention) {
            Objects.requireNonNull(retention, "expiredSessionRetention");
            if (retention.isNegative()) {
                throw new IllegalArgumentException("expiredSessionRetention must not be negative");
            }
            this.expiredSessionRetention = retention;
            return this;
        }

        /**
         * Number of I/O event loops (default: the number of cores, at least 2). Each also serves one
         * shard of the rooms, so this is how many cores joins and keepalives can use.
         */
        public Builder ioThreads(int threads) {
            if (threads < 1 || threads > 256) {
                throw new IllegalArgumentException("ioThreads must be 1..256, got " + threads);
            }
            this.ioThreads = threads;
            return this;
        }

        /**
         * Length of the signaling port's accept queue (default 16384): connections the kernel completes
         * before the server accepts them, e.g. when thousands of clients reconnect at once. Linux clamps it
         * to {@code net.core.somaxconn} (and half-open ones to {@code net.ipv4.tcp_max_syn_backlog}).
         */
        public Builder acceptBacklog(int backlog) {
            if (backlog < 1) {
                throw new IllegalArgumentException("acceptBacklog must be positive, got " + backlog);
            }
            this.acceptBacklog = backlog;
            return this;
        }

        /**
         * Whether to use Netty's native epoll transport where it is available (default true); NIO
         * otherwise, and always when false.
         */
        public Builder nativeTransport(boolean enabled) {
            this.nativeTransport = enabled;
            return this;
        }

        // ---- limits (docs: README "Server limits"; each is counted in ServerStats) ----

        /**
         * Signaling connections open at once (default 0 = derived: the soft open-files limit,
         * RLIMIT_NOFILE, minus {@value FdLimit#RESERVE} descriptors kept for the server's own
         * files). One over the cap is closed as soon as it is accepted
         * ({@link ServerStats#connectionsRejected}).
         */
        public Builder maxConnections(int max) {
            this.limits = limits.withMaxConnections(checkAtLeast("maxConnections", max, 0));
            return this;
        }

        /** Signaling connections open at once from one IP address (default 1024); more are closed at once. */
        public Builder maxConnectionsPerIp(int max) {
            this.limits = limits.withMaxConnectionsPerIp(checkAtLeast("maxConnectionsPerIp", max, 1));
            return this;
        }

        /** Time a new connection has to send JOIN or RESUME before it is closed (default 3 s). */
        public Builder handshakeTimeout(Duration timeout) {
            this.limits = limits.withHandshakeTimeout(checkPositive("handshakeTimeout", timeout));
            return this;
        }

        /**
         * PINGs (path probes) a connection may send before JOIN/RESUME (default 10); the next one
         * gets ERROR(31006). With the handshake deadline and the first-frame cap this bounds what an
         * unauthenticated connection can make the server hold or send.
         */
        public Builder maxPreAuthPings(int max) {
            this.limits = limits.withMaxPreAuthPings(checkAtLeast("maxPreAuthPings", max, 0));
            return this;
        }

        /**
         * Output backlog per connection: at {@code highWaterMark} bytes waiting for a client
         * (default 4 MiB) the server stops reading from it until the backlog falls below a quarter
         * of that; past {@code maxPending} bytes (default 16 MiB, at least highWaterMark) it is
         * disconnected. Other members are not affected.
         */
        public Builder writeBufferLimits(int highWaterMark, long maxPending) {
            checkAtLeast("writeBufferHighWaterMark", highWaterMark, 1024);
            if (maxPending < highWaterMark) {
                throw new IllegalArgumentException("maxPendingWriteBytes must be at least the high-water mark "
                        + highWaterMark + ", got " + maxPending);
            }
            this.limits = limits.withWriteBuffer(highWaterMark, maxPending);
            return this;
        }

        /** Sessions per channel (default 1000); a JOIN into a full channel gets JOIN_ERR(31022). */
        public Builder maxMembersPerChannel(int max) {
            this.limits = limits.withMaxMembersPerChannel(checkAtLeast("maxMembersPerChannel", max, 1));
            return this;
        }

        /**
         * MESSAGE data bytes per second one session may send, sustained (default 1 MiB/s; a token
         * bucket holding two seconds' worth): a session over it gets ERROR(31022, "message rate")
         * and its connection is closed, and only that one. At least 16384 (one largest message).
         */
        public Builder maxMessageBytesPerSecond(int max) {
            this.limits = limits.withMaxMessageBytesPerSecond(checkAtLeast("maxMessageBytesPerSecond", max,
                    io.roomlink.server.protocol.WireCodec.DATA_MAX));
            return this;
        }

        /**
         * Encoded receiver-stream frames (presence and messages) one session keeps until its client
         * acknowledges them (default 2 MiB): a session whose buffer would overflow is ended with
         * SESSION_END(31023), or, in grace, as on expiry. At least 65536 (a few largest messages).
         */
        public Builder replayBufferBytes(int max) {
            this.limits = limits.withReplayBufferBytes(checkAtLeast("replayBufferBytes", max, 65_536));
            return this;
        }

        /** Channels on the server (default 100,000); a JOIN that would open one more gets JOIN_ERR(31022). */
        public Builder maxChannels(int max) {
            this.limits = limits.withMaxChannels(checkAtLeast("maxChannels", max, 1));
            return this;
        }

        /**
         * Token checks from one IP address (JOIN, RESUME and RENEW_TOKEN share one bucket):
         * {@code perSecond} sustained (default 100), and up to {@code burst} at once (default 1000,
         * at least perSecond: a classroom behind one NAT reconnecting together). A JOIN/RESUME over
         * it gets JOIN_ERR(31022) and its connection is closed; a RENEW_TOKEN over it gets
         * RENEW_TOKEN_RESULT(31022), unchecked, and the session goes on with its old expiry.
         */
        public Builder joinRatePerIp(int perSecond, int burst) {
            checkAtLeast("joinRatePerIp", perSecond, 1);
            checkAtLeast("joinBurstPerIp", burst, perSecond);
            this.limits = limits.withJoinRatePerIp(perSecond, burst);
            return this;
        }

        /**
         * New signaling connections from one IP address: {@code perSecond} sustained (default 200)
         * and up to {@code burst} at once (default 2000, at least perSecond). A connection over it
         * is closed at accept, before its TLS handshake ({@code connectionRateRejects}). The
         * defaults are twice the join rate: a client's reconnect may spend a probe connection
         * before its attempt's.
         */
        public Builder connectionRatePerIp(int perSecond, int burst) {
            checkAtLeast("connectionRatePerIp", perSecond, 1);
            checkAtLeast("connectionBurstPerIp", burst, perSecond);
            this.limits = limits.withConnectionRatePerIp(perSecond, burst);
            return this;
        }

        /**
         * Media BINDs kept, unauthenticated, for keys no JOIN/RESUME has named yet (the JOIN may
         * still be on its way over TCP): at most {@code max} in all (default 65,536; when full the
         * oldest makes room, in O(1)) and {@code perSource} from one IP address (default 8).
         * Counted: {@code pendingBindEvictions}, {@code pendingBindSourceRefusals}.
         */
        public Builder pendingBinds(int max, int perSource) {
            checkAtLeast("maxPendingBinds", max, 1);
            checkAtLeast("maxPendingBindsPerSource", perSource, 1);
            this.limits = limits.withPendingBinds(max, perSource);
            return this;
        }

        private static int checkAtLeast(String what, int value, int min) {
            if (value < min) {
                throw new IllegalArgumentException(what + " must be at least " + min + ", got " + value);
            }
            return value;
        }

        /**
         * The longest a join token may still be valid when it is presented (default 24 h): a token
         * whose expiry lies further in the future gets {@code JOIN_ERR(31001)}, so a leaked token
         * cannot be used for ever. Applies to JOIN and RENEW_TOKEN; whole seconds.
         */
        public Builder maxTokenLifetime(Duration lifetime) {
            checkPositive("maxTokenLifetime", lifetime);
            if (lifetime.getSeconds() < 1) {
                throw new IllegalArgumentException("maxTokenLifetime must be at least 1 s, got " + lifetime);
            }
            this.maxTokenLifetime = lifetime;
            return this;
        }

        /**
         * What a JOIN for a uid that already has a live session in the channel does (default
         * {@link SameUidPolicy#NEWEST_WINS}); see {@link SameUidPolicy} for the trade-off against
         * token theft.
         */
        public Builder sameUidPolicy(SameUidPolicy policy) {
            this.sameUidPolicy = Objects.requireNonNull(policy, "sameUidPolicy");
            return this;
        }

        /**
         * Whether a session lives only as long as its token (default false): the server warns the
         * client {@link #tokenExpiryWarning} before the token expires (TOKEN_WILL_EXPIRE,
         * {@code onTokenWillExpire()}), accepts a fresh token (RENEW_TOKEN, {@code renewToken}), and
         * ends a session whose token expired with {@code SESSION_END(31020)}. No effect in debug mode.
         */
        public Builder enforceTokenExpiry(boolean enforce) {
            this.enforceTokenExpiry = enforce;
            return this;
        }

        /** How long before its token expires a session is warned (default 30 s); see {@link #enforceTokenExpiry}. */
        public Builder tokenExpiryWarning(Duration lead) {
            Objects.requireNonNull(lead, "tokenExpiryWarning");
            if (lead.isNegative()) {
                throw new IllegalArgumentException("tokenExpiryWarning must not be negative, got " + lead);
            }
            this.tokenExpiryWarning = lead;
            return this;
        }

        /**
         * Binds the ports and starts serving.
         *
         * @throws IllegalStateException if no signaling security was chosen, the TLS files do not load,
         *         a port cannot be bound or the bind address cannot be resolved
         */
        public RoomServer start() {
            if (signalTls == null) {
                throw new IllegalStateException("roomlink server: choose how signaling is secured: "
                        + "tls(certChainPem, privateKeyPem), selfSignedTls() (dev and tests) or plaintext()");
            }
            RoomServer server = new RoomServer(options());
            server.start();
            return server;
        }

        /** The settings made so far, frozen: later calls on this builder do not change them. */
        public RoomServerOptions options() {
            return new RoomServerOptions(signalPort, mediaPort, bindAddress, tokenSecret, advertisedHost,
                    advertisedPort, sessionGrace, idleTimeout, expiredSessionRetention, ioThreads, acceptBacklog,
                    nativeTransport, maxTokenLifetime, sameUidPolicy, enforceTokenExpiry, tokenExpiryWarning,
                    signalTls == null ? null : signalTls.withProvider(tlsProvider), limits);
        }

        /** See {@link RoomServerOptions#toBuilder()}. */
        static Builder from(RoomServerOptions o) {
            Builder b = new Builder();
            b.signalPort = o.signalPort();
            b.mediaPort = o.mediaPort();
            b.bindAddress = o.bindAddress();
            b.tokenSecret = o.tokenSecret();
            b.advertisedHost = o.advertisedHost();
            b.advertisedPort = o.advertisedPort();
            b.sessionGrace = o.sessionGrace();
            b.signalTls = o.signalTls();
            b.tlsProvider = o.signalTls() == null ? SignalTls.Provider.AUTO : o.signalTls().provider();
            b.idleTimeout = o.idleTimeout();
            b.expiredSessionRetention = o.expiredSessionRetention();
            b.ioThreads = o.ioThreads();
            b.acceptBacklog = o.acceptBacklog();
            b.nativeTransport = o.nativeTransport();
            b.maxTokenLifetime = o.maxTokenLifetime();
            b.sameUidPolicy = o.sameUidPolicy();
            b.enforceTokenExpiry = o.enforceTokenExpiry();
            b.tokenExpiryWarning = o.tokenExpiryWarning();
            b.limits = o.limits();
            return b;
        }

        private static int checkPort(String what, int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException(what + " must be 0..65535, got " + port);
            }
            return port;
        }

        private static Duration checkPositive(String what, Duration d) {
            Objects.requireNonNull(d, what);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be positive, got " + d);
            }
            return d;
        }
    }
}
