package io.roomlink;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * Immutable engine settings. Build with {@link #builder()}; every setter checks its value at once
 * and throws {@link IllegalArgumentException} naming the value that is out of range.
 */
public final class RoomEngineConfig {
    private final String appKey;
    private final String serverHost;
    private final int serverPort;
    private final Duration joinTimeout;
    private final Duration signalKeepaliveInterval;
    private final Duration signalTimeout;
    private final Duration mediaKeepaliveInterval;
    private final Duration mediaTimeout;
    private final Duration reconnectTimeout;
    private final Duration probeInterval;
    private final BackoffPolicy backoff;
    private final int maxPeers;
    private final int messageQueueLimit;
    private final Executor callbackExecutor;
    private final boolean networkWatcher;
    private final String trustedCertificates;
    private final boolean plaintext;
    private final String mediaHostOverride;
    private final int mediaPortOverride;

    private RoomEngineConfig(Builder b) {
        this.appKey = b.appKey;
        this.serverHost = b.serverHost;
        this.serverPort = b.serverPort;
        this.joinTimeout = b.joinTimeout;
        this.signalKeepaliveInterval = b.signalKeepaliveInterval;
        this.signalTimeout = b.signalTimeout;
        this.mediaKeepaliveInterval = b.mediaKeepaliveInterval;
        this.mediaTimeout = b.mediaTimeout;
        this.reconnectTimeout = b.reconnectTimeout;
        this.probeInterval = b.probeInterval;
        this.backoff = b.backoff;
        this.maxPeers = b.maxPeers;
        this.messageQueueLimit = b.messageQueueLimit;
        this.callbackExecutor = b.callbackExecutor;
        this.networkWatcher = b.networkWatcher;
        this.trustedCertificates = b.trustedCertificates;
        this.plaintext = b.plaintext;
        this.mediaHostOverride = b.mediaHostOverride;
        this.mediaPortOverride = b.mediaPortOverride;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder that starts from this config's values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.appKey = appKey;
        b.serverHost = serverHost;
        b.serverPort = serverPort;
        b.joinTimeout = joinTimeout;
        b.signalKeepaliveInterval = signalKeepaliveInterval;
        b.signalTimeout = signalTimeout;
        b.mediaKeepaliveInterval = mediaKeepaliveInterval;
        b.mediaTimeout = mediaTimeout;
        b.reconnectTimeout = reconnectTimeout;
        b.probeInterval = probeInterval;
        b.backoff = backoff;
        b.maxPeers = maxPeers;
        b.messageQueueLimit = messageQueueLimit;
        b.callbackExecutor = callbackExecutor;
        b.networkWatcher = networkWatcher;
        b.trustedCertificates = trustedCertificates;
        b.plaintext = plaintext;
        b.mediaHostOverride = mediaHostOverride;
        b.mediaPortOverride = mediaPortOverride;
        return b;
    }

    public String appKey() {
        return appKey;
    }

    public String serverHost() {
        return serverHost;
    }

    public int serverPort() {
        return serverPort;
    }

    public Duration joinTimeout() {
        return joinTimeout;
    }

    public Duration signalKeepaliveInterval() {
        return signalKeepaliveInterval;
    }

    public Duration signalTimeout() {
        return signalTimeout;
    }

    public Duration mediaKeepaliveInterval() {
        return mediaKeepaliveInterval;
    }

    public Duration mediaTimeout() {
        return mediaTimeout;
    }

    public Duration reconnectTimeout() {
        return reconnectTimeout;
    }

    public Duration probeInterval() {
        return probeInterval;
    }

    /** The most channel members this engine knows and reports; see {@link Builder#maxPeers(int)}. */
    public int maxPeers() {
        return maxPeers;
    }

    /** Bytes of sent messages awaiting the server's acknowledgement; see {@link Builder#messageQueueLimit(int)}. */
    public int messageQueueLimit() {
        return messageQueueLimit;
    }

    public BackoffPolicy backoff() {
        return backoff;
    }

    /** The executor callbacks run on, or null for roomlink's shared dispatch threads. */
    public Executor callbackExecutor() {
        return callbackExecutor;
    }

    /** Whether the engine reacts to the host's own network events; see {@link Builder#networkWatcher}. */
    public boolean networkWatcher() {
        return networkWatcher;
    }

    /** The PEM trust anchors set with {@link Builder#trustedCertificates}, or null for the JVM's own. */
    public String trustedCertificates() {
        return trustedCertificates;
    }

    /** True if signaling runs without TLS ({@link Builder#plaintext}). */
    public boolean plaintext() {
        return plaintext;
    }

    /** The media host that replaces the server's advertised one, or null ({@link Builder#mediaAddressOverride}). */
    public String mediaHostOverride() {
        return mediaHostOverride;
    }

    /** The media port that goes with {@link #mediaHostOverride()}, 0 without it. */
    public int mediaPortOverride() {
        return mediaPortOverride;
    }

    @Override
    public String toString() {
        return "RoomEngineConfig{appKey=" + appKey + ", server=" + serverHost + ":" + serverPort
                + ", joinTimeout=" + joinTimeout.toMillis() + "ms, signalKeepalive="
                + signalKeepaliveInterval.toMillis() + "ms, signalTimeout=" + signalTimeout.toMillis()
                + "ms, mediaKeepalive=" + mediaKeepaliveInterval.toMillis() + "ms, mediaTimeout="
                + mediaTimeout.toMillis() + "ms, reconnectTimeout=" + reconnectTimeout.toMillis()
                + "ms, probeInterval=" + probeInterval.toMillis() + "ms, backoff=" + backoff
                + ", networkWatcher=" + networkWatcher
                + (plaintext ? ", PLAINTEXT" : trustedCertificates != null ? ", tls=own anchors" : ", tls=JVM anchors")
                + (mediaHostOverride != null ? ", mediaAddressOverride=" + mediaHostOverride + ":" + mediaPortOverride : "")
                + "}";
    }

    public static final class Builder {
        private String appKey;
        private String serverHost;
        private int serverPort;
        private Duration joinTimeout = Duration.ofSeconds(10);
        private Duration signalKeepaliveInterval = Duration.ofSeconds(1);
        private Duration signalTimeout = Duration.ofMillis(1500);
        private Duration mediaKeepaliveInterval = Duration.ofMillis(500);
        private Duration mediaTimeout = Duration.ofMillis(1500);
        private Duration reconnectTimeout = Duration.ofSeconds(40);
        private Duration probeInterval = Duration.ofMillis(90);
        private BackoffPolicy backoff = BackoffPolicy.DEFAULT;
        private int maxPeers = 10_000;
        private int messageQueueLimit = 1 << 20;
        private Executor callbackExecutor;
        private boolean networkWatcher = true;
        private String trustedCertificates;
        private boolean plaintext;
        private String mediaHostOverride;
        private int mediaPortOverride;

        private Builder() {
        }

        /** Your application's key, 1 to 64 bytes of UTF-8. Required. */
        public Builder appKey(String appKey) {
            String problem = Checks.utf8Length("appKey", appKey, 1, 64);
            if (problem != null) {
                throw new IllegalArgumentException(problem);
            }
            this.appKey = appKey;
            return this;
        }

        /** The room server's signaling address: an IP literal or a host name, and a port. Required. */
        public Builder server(String host, int port) {
            String problem = Checks.utf8Length("server host", host, 1, 255);
            if (problem != null) {
                throw new IllegalArgumentException(problem);
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("server port must be between 1 and 65535, was " + port);
            }
            this.serverHost = host;
            this.serverPort = port;
            return this;
        }

        /** How long a join may take, connect to media bind, before it fails. 100 ms to 120 s; default 10 s. */
        public Builder joinTimeout(Duration joinTimeout) {
            Checks.millisInRange("joinTimeout", joinTimeout, 100, 120_000);
            this.joinTimeout = joinTimeout;
            return this;
        }

        /**
         * Signaling ping interval while the server answers. A PING left unanswered longer than
         * expected (the retransmission timeout of the measured round trips, srtt + 4 × rttvar, at
         * least 100 ms) switches to a ping every 25 ms (never slower than this interval) until
         * data arrives; silence is always measured from the last data received.
         * 20 ms to 10 s; default 1 s.
         */
        public Builder signalKeepaliveInterval(Duration interval) {
            Checks.millisInRange("signalKeepaliveInterval", interval, 20, 10_000);
            this.signalKeepaliveInterval = interval;
            return this;
        }

        /**
         * Signaling silence that starts an outage (with media silent too; with healthy media the
         * session first moves silently to a new connection). 100 ms to 60 s, at least 1.5 ×
         * {@link #signalKeepaliveInterval}; default 1.5 s.
         */
        public Builder signalTimeout(Duration timeout) {
            Checks.millisInRange("signalTimeout", timeout, 100, 60_000);
            this.signalTimeout = timeout;
            return this;
        }

        /**
         * Media ping interval while PONGs come back; an overdue PONG switches to a ping every
         * 25 ms (never slower than this interval) until one arrives, as for signaling. With
         * {@link #mediaTimeout} it sets the media silence threshold on a clean path.
         * 20 ms to 10 s; default 500 ms.
         */
        public Builder mediaKeepaliveInterval(Duration interval) {
            Checks.millisInRange("mediaKeepaliveInterval", interval, 20, 10_000);
            this.mediaKeepaliveInterval = interval;
            return this;
        }

        /**
         * The longest media silence that starts an outage: the cap of an RTT-adaptive threshold,
         * min(this, interval + 2 × RTO + 10 × 25 ms) with RTO = srtt + 4 × rttvar of the measured
         * round trips (at least 100 ms). On a clean path that is 950 ms at the defaults; jitter
         * stretches it up to this value, which also applies before the first round trip is
         * measured. 100 ms to 60 s, at least 1.5 × {@link #mediaKeepaliveInterval}; default 1.5 s.
         */
        public Builder mediaTimeout(Duration timeout) {
            Checks.millisInRange("mediaTimeout", timeout, 100, 60_000);
            this.mediaTimeout = timeout;
            return this;
        }

        /** How long to keep reconnecting before giving up with FAILED/TIMEOUT. 1 s to 10 min; default 40 s. */
        public Builder reconnectTimeout(Duration timeout) {
            Checks.millisInRange("reconnectTimeout", timeout, 1_000, 600_000);
            this.reconnectTimeout = timeout;
            return this;
        }

        /** How often the path is probed while reconnecting (a fresh TCP connect). 20 ms to 5 s; default 90 ms. */
        public Builder probeInterval(Duration interval) {
            Checks.millisInRange("probeInterval", interval, 20, 5_000);
            this.probeInterval = interval;
            return this;
        }

        /** Spacing of reconnect attempts after the first; default {@link BackoffPolicy#DEFAULT}. */
        public Builder backoff(BackoffPolicy backoff) {
            this.backoff = Objects.requireNonNull(backoff, "backoff");
            return this;
        }

        /**
         * Whether to watch the host's own network events (Linux rtnetlink; elsewhere there are
         * none): when the link or local address the connection uses goes away the outage starts
         * at once instead of after the keepalive timeout, a link or route that appears starts a
         * reconnect attempt at once, and {@link RoomEngineListener#onConnectionTypeChanged}
         * reports the connection type. Default on; off leaves keepalive silence as the only
         * detector.
         */
        public Builder networkWatcher(boolean enabled) {
            this.networkWatcher = enabled;
            return this;
        }

        /**
         * The most channel members this engine knows, 1 to 1,000,000; default 10,000. It bounds the
         * memory a server can make the engine (and its callback queue) hold: a peer announced past
         * it is not reported (and logged once) until others leave.
         */
        public Builder maxPeers(int maxPeers) {
            if (maxPeers < 1 || maxPeers > 1_000_000) {
                throw new IllegalArgumentException("maxPeers must be between 1 and 1000000, was " + maxPeers);
            }
            this.maxPeers = maxPeers;
            return this;
        }

        /**
         * The most bytes of message payload that {@link RoomEngine#sendMessage} has accepted and
         * the server not yet acknowledged, 16,384 to 1,073,741,824; default 1 MiB. Beyond it
         * sendMessage returns {@link ErrorCode#MESSAGE_QUEUE_FULL}. It bounds what an outage makes
         * the engine hold for resending.
         */
        public Builder messageQueueLimit(int bytes) {
            if (bytes < 16_384 || bytes > 1_073_741_824) {
                throw new IllegalArgumentException(
                        "messageQueueLimit must be between 16384 and 1073741824 bytes, was " + bytes);
            }
            this.messageQueueLimit = bytes;
            return this;
        }

        /**
         * Run callbacks on this executor (a UI thread, say) instead of roomlink's shared dispatch
         * threads. They still arrive one at a time and in order.
         */
        public Builder callbackExecutor(Executor executor) {
            this.callbackExecutor = executor;
            return this;
        }

        /**
         * Trust exactly these certificate authorities (one or more PEM {@code CERTIFICATE} blocks,
         * at most 4 MiB) for the server's TLS certificate, instead of the JVM's default trust
         * anchors. The chain must lead to one of them and the certificate must name the
         * {@link #server} host (DNS or IP subjectAltName). Whether the PEM holds a certificate is
         * checked when the engine is created ({@link RoomEngine#create} throws
         * {@link IllegalArgumentException} naming {@code tls_trusted_pem}). Null restores the default.
         */
        public Builder trustedCertificates(String pem) {
            if (pem != null && (pem.isBlank() || pem.length() > 4 << 20)) {
                throw new IllegalArgumentException("trustedCertificates must be 1.." + (4 << 20)
                        + " characters of PEM, or null for the JVM's trust anchors, was " + pem.length() + " characters");
            }
            this.trustedCertificates = pem;
            return this;
        }

        /**
         * Talk to a plaintext development server: signaling without TLS, the token and session
         * secret readable by anyone on the path. Default false (TLS 1.3).
         */
        public Builder plaintext(boolean plaintext) {
            this.plaintext = plaintext;
            return this;
        }

        /**
         * Send media to this address instead of the one the server advertises in JOIN_OK /
         * RESUME_OK: for a UDP relay or NAT between client and server that the server cannot know
         * about, and for tests that put a fault proxy on the path. Host: IP literal or name,
         * 1..255 bytes; port 1..65535. Null host clears it.
         */
        public Builder mediaAddressOverride(String host, int port) {
            if (host == null) {
                this.mediaHostOverride = null;
                this.mediaPortOverride = 0;
                return this;
            }
            String problem = Checks.utf8Length("mediaAddressOverride host", host, 1, 255);
            if (problem != null) {
                throw new IllegalArgumentException(problem);
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("mediaAddressOverride port must be between 1 and 65535, was " + port);
            }
            this.mediaHostOverride = host;
            this.mediaPortOverride = port;
            return this;
        }

        /** @throws IllegalArgumentException if a required value is missing or values contradict each other */
        public RoomEngineConfig build() {
            if (appKey == null) {
                throw new IllegalArgumentException("appKey is required");
            }
            if (serverHost == null) {
                throw new IllegalArgumentException("server(host, port) is required");
            }
            // After the last answer the next healthy PING goes out up to one interval later; the
            // rest of the timeout is left for fast PINGs should that one go unanswered.
            checkTimeout("signalTimeout", signalTimeout, "signalKeepaliveInterval", signalKeepaliveInterval);
            checkTimeout("mediaTimeout", mediaTimeout, "mediaKeepaliveInterval", mediaKeepaliveInterval);
            return new RoomEngineConfig(this);
        }

        private static void checkTimeout(String timeoutName, Duration timeout, String intervalName, Duration interval) {
            if (timeout.toMillis() * 2 < interval.toMillis() * 3) {
                throw new IllegalArgumentException(timeoutName + " (" + timeout.toMillis()
                        + " ms) must be at least 1.5 times " + intervalName + " (" + interval.toMillis() + " ms)");
            }
        }
    }
}
