package io.roomlink.server;

import java.time.Duration;

/**
 * The settings of a {@link RoomServer}, immutable, as {@link RoomServer.Builder} made them: the
 * builder is the one place where each option is defaulted and validated (see its methods for
 * what each means), so every value here is valid. {@link #toBuilder()} starts a builder from
 * them, e.g. to start another server with the same settings on other ports.
 */
public final class RoomServerOptions {
    private final int signalPort;
    private final int mediaPort;
    private final String bindAddress;
    private final String tokenSecret;
    private final String advertisedHost;
    private final int advertisedPort;
    private final Duration sessionGrace;
    private final Duration idleTimeout;
    private final Duration expiredSessionRetention;
    private final int ioThreads;
    private final int acceptBacklog;
    private final boolean nativeTransport;
    private final Duration maxTokenLifetime;
    private final SameUidPolicy sameUidPolicy;
    private final boolean enforceTokenExpiry;
    private final Duration tokenExpiryWarning;
    private final SignalTls signalTls;
    private final ServerLimits limits;

    RoomServerOptions(int signalPort, int mediaPort, String bindAddress, String tokenSecret, String advertisedHost,
                      int advertisedPort, Duration sessionGrace, Duration idleTimeout,
                      Duration expiredSessionRetention, int ioThreads, int acceptBacklog, boolean nativeTransport,
                      Duration maxTokenLifetime, SameUidPolicy sameUidPolicy, boolean enforceTokenExpiry,
                      Duration tokenExpiryWarning, SignalTls signalTls,
                      ServerLimits limits) {
        this.signalPort = signalPort;
        this.mediaPort = mediaPort;
        this.bindAddress = bindAddress;
        this.tokenSecret = tokenSecret;
        this.advertisedHost = advertisedHost;
        this.advertisedPort = advertisedPort;
        this.sessionGrace = sessionGrace;
        this.idleTimeout = idleTimeout;
        this.expiredSessionRetention = expiredSessionRetention;
        this.ioThreads = ioThreads;
        this.acceptBacklog = acceptBacklog;
        this.nativeTransport = nativeTransport;
        this.maxTokenLifetime = maxTokenLifetime;
        this.sameUidPolicy = sameUidPolicy;
        this.enforceTokenExpiry = enforceTokenExpiry;
        this.tokenExpiryWarning = tokenExpiryWarning;
        this.signalTls = signalTls;
        this.limits = limits;
    }

    /**
     * How signaling is secured: {@link RoomServer.Builder#tls}, {@link RoomServer.Builder#selfSignedTls()}
     * or {@link RoomServer.Builder#plaintext()}; null if none was chosen (such a server refuses to start).
     */
    public SignalTls signalTls() {
        return signalTls;
    }

    /** A builder preset with these settings. */
    public RoomServer.Builder toBuilder() {
        return RoomServer.Builder.from(this);
    }

    /** See {@link RoomServer.Builder#signalPort(int)}. */
    public int signalPort() {
        return signalPort;
    }

    /** See {@link RoomServer.Builder#mediaPort(int)}. */
    public int mediaPort() {
        return mediaPort;
    }

    /** See {@link RoomServer.Builder#bindAddress(String)}. */
    public String bindAddress() {
        return bindAddress;
    }

    /** See {@link RoomServer.Builder#tokenSecret(String)}; {@code null} in debug mode. */
    public String tokenSecret() {
        return tokenSecret;
    }

    /** See {@link RoomServer.Builder#advertisedMediaAddress(String, int)}; {@code null} when not set. */
    public String advertisedHost() {
        return advertisedHost;
    }

    /** See {@link RoomServer.Builder#advertisedMediaAddress(String, int)}; 0 = the bound media port. */
    public int advertisedPort() {
        return advertisedPort;
    }

    /** See {@link RoomServer.Builder#sessionGrace(Duration)}. */
    public Duration sessionGrace() {
        return sessionGrace;
    }

    /** See {@link RoomServer.Builder#idleTimeout(Duration)}. */
    public Duration idleTimeout() {
        return idleTimeout;
    }

    /** See {@link RoomServer.Builder#expiredSessionRetention(Duration)}. */
    public Duration expiredSessionRetention() {
        return expiredSessionRetention;
    }

    /** See {@link RoomServer.Builder#ioThreads(int)}. */
    public int ioThreads() {
        return ioThreads;
    }

    /** See {@link RoomServer.Builder#acceptBacklog(int)}. */
    public int acceptBacklog() {
        return acceptBacklog;
    }

    /** See {@link RoomServer.Builder#nativeTransport(boolean)}. */
    public boolean nativeTransport() {
        return nativeTransport;
    }

    /** See {@link RoomServer.Builder#maxTokenLifetime(Duration)}. */
    public Duration maxTokenLifetime() {
        return maxTokenLifetime;
    }

    /** See {@link RoomServer.Builder#sameUidPolicy(SameUidPolicy)}. */
    public SameUidPolicy sameUidPolicy() {
        return sameUidPolicy;
    }

    /** See {@link RoomServer.Builder#enforceTokenExpiry(boolean)}. */
    public boolean enforceTokenExpiry() {
        return enforceTokenExpiry;
    }

    /** See {@link RoomServer.Builder#tokenExpiryWarning(Duration)}. */
    public Duration tokenExpiryWarning() {
        return tokenExpiryWarning;
    }

    /** The limits on connections, pre-auth traffic, output backlog, channels and join rate. */
    public ServerLimits limits() {
        return limits;
    }

    /** Every setting but the token secret. */
    @Override
    public String toString() {
        return "RoomServerOptions[signalPort=" + signalPort + ", mediaPort=" + mediaPort + ", bindAddress="
                + bindAddress + ", tokenSecret=" + (tokenSecret == null ? "none (debug mode)" : "<redacted>")
                + ", advertisedMedia=" + (advertisedHost == null ? "-" : advertisedHost + ":" + advertisedPort)
                + ", sessionGrace=" + sessionGrace + ", idleTimeout=" + idleTimeout + ", expiredSessionRetention="
                + expiredSessionRetention + ", ioThreads=" + ioThreads + ", acceptBacklog=" + acceptBacklog
                + ", nativeTransport=" + nativeTransport + ", maxTokenLifetime=" + maxTokenLifetime
                + ", sameUidPolicy=" + sameUidPolicy + ", enforceTokenExpiry=" + enforceTokenExpiry
                + ", tokenExpiryWarning=" + tokenExpiryWarning
                + ", signaling=" + (signalTls == null ? "not chosen" : signalTls) + ", limits=" + limits + "]";
    }
}
