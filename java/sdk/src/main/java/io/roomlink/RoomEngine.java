package io.roomlink;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import io.roomlink.internal.CallbackTiming;
import io.roomlink.internal.DispatchPool;
import io.roomlink.internal.JvmTrustAnchors;
import io.roomlink.internal.NativeApi;
import io.roomlink.internal.NativeEventRouter;
import io.roomlink.internal.NativeRuntime;
import io.roomlink.internal.SerialQueue;
import io.roomlink.internal.Utf8;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One app's connection to one channel at a time. Calls return at once; outcomes arrive on the
 * {@link RoomEngineListener}. Thread-safe. Close it when done: an engine that is not closed
 * stays in its channel.
 *
 * <pre>{@code
 * try (RoomEngine engine = RoomEngine.create(config, listener)) {
 *     engine.joinChannel(token, "room-1", 42L);
 *     ...
 * }
 * }</pre>
 */
public final class RoomEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RoomEngine.class);
    /** The largest payload of {@link #sendMessage}. */
    public static final int MAX_MESSAGE_BYTES = 16_384;

    private final RoomEngineListener listener;
    private final SerialQueue callbacks;
    private final Pointer token;
    private final Pointer handle;
    /** Guards the native handle: API calls share it, close() takes it alone before freeing. */
    private final ReentrantReadWriteLock handleLock = new ReentrantReadWriteLock();
    private boolean closed;

    private RoomEngine(RoomEngineConfig config, RoomEngineListener listener) {
        this.listener = listener;
        Executor executor = config.callbackExecutor() != null ? config.callbackExecutor() : DispatchPool.shared();
        this.callbacks = new SerialQueue(executor, "RoomEngine[" + config.appKey() + "]");
        this.token = NativeEventRouter.register(listener, this::onNativeEvent);
        Pointer created;
        try {
            created = createNative(config, token);
        } catch (RuntimeException | Error e) {
            NativeEventRouter.unregister(token);
            throw e;
        }
        this.handle = created;
    }

    /**
     * Creates an engine in {@link ConnectionState#DISCONNECTED}.
     *
     * @throws IllegalArgumentException if config or listener is null, or a {@code roomlink.*} system property
     *     (README, "Configuration") is out of range, or the native core refuses the config (the
     *     message names the field)
     */
    public static RoomEngine create(RoomEngineConfig config, RoomEngineListener listener) {
        if (config == null) {
            throw new IllegalArgumentException("config must not be null");
        }
        if (listener == null) {
            throw new IllegalArgumentException("listener must not be null");
        }
        NativeRuntime.ensureInitialized();
        return new RoomEngine(config, listener);
    }

    /**
     * Starts joining a channel; the outcome arrives as {@code onConnectionStateChanged} and
     * {@code onJoinChannel}.
     *
     * @param token the join token from your app server (may be null or empty if the server runs in debug mode)
     * @param channelName 1 to 64 bytes of UTF-8
     * @param uid this user's id, 0 or more
     * @return {@link ErrorCode#OK}, {@link ErrorCode#ALREADY_JOINED} if connecting, connected or
     *     reconnecting, {@link ErrorCode#INVALID_ARGUMENT} (the reason is logged), or
     *     {@link ErrorCode#ENGINE_CLOSED}
     */
    public int joinChannel(String token, String channelName, long uid) {
        String problem = Checks.utf8Length("channelName", channelName, 1, 64);
        if (problem == null && uid < 0) {
            problem = "uid must be 0 or more, was " + uid;
        }
        if (problem == null && token != null) {
            problem = Checks.utf8Length("token", token, 0, 1024);
        }
        if (problem != null) {
            LOG.warn("joinChannel rejected: {}", problem);
            return ErrorCode.INVALID_ARGUMENT;
        }
        byte[] tokenBytes = Utf8.cString(token == null ? "" : token);
        byte[] channelBytes = Utf8.cString(channelName);
        return withHandle(h -> {
            int rc = NativeApi.rl_engine_join(h, tokenBytes, channelBytes, uid);
            if (rc == ErrorCode.INVALID_ARGUMENT) { // the core's rules are the final word
                LOG.warn("joinChannel rejected: {}", Utf8.fromC(NativeApi.rl_last_error_message()));
            }
            return rc;
        });
    }

    /**
     * Replaces the join token, typically from {@link RoomEngineListener#onTokenWillExpire}: the
     * server checks it (same app key, channel and uid) and answers with
     * {@link RoomEngineListener#onRenewTokenResult}. The engine also keeps it for joining afresh
     * after an outage. While reconnecting, it is sent once the session is back.
     *
     * @param token the new token from your app server, at most 1024 bytes of UTF-8
     * @return {@link ErrorCode#OK} (the outcome arrives as {@code onRenewTokenResult}),
     *     {@link ErrorCode#NOT_JOINED}, {@link ErrorCode#INVALID_ARGUMENT} (the reason is logged),
     *     or {@link ErrorCode#ENGINE_CLOSED}
     */
    public int renewToken(String token) {
        String problem = token == null ? "token must not be null" : Checks.utf8Length("token", token, 0, 1024);
        if (problem != null) {
            LOG.warn("renewToken rejected: {}", problem);
            return ErrorCode.INVALID_ARGUMENT;
        }
        byte[] tokenBytes = Utf8.cString(token);
        return withHandle(h -> {
            int rc = NativeApi.rl_engine_renew_token(h, tokenBytes);
            if (rc == ErrorCode.INVALID_ARGUMENT) {
                LOG.warn("renewToken rejected: {}", Utf8.fromC(NativeApi.rl_last_error_message()));
            }
            return rc;
        });
    }

    /**
     * Sends a message to every other member of the channel: reliable, exactly once and in order
     * per sender while the session lives, across outages and resumes (README, "Messages"). The
     * engine copies {@code data}, so the caller may reuse the array; the call never blocks.
     *
     * @param data 1 to {@value #MAX_MESSAGE_BYTES} bytes
     * @return {@link ErrorCode#OK}; {@link ErrorCode#NOT_JOINED} unless CONNECTED or RECONNECTING;
     *     {@link ErrorCode#INVALID_ARGUMENT} for null, empty or oversize data;
     *     {@link ErrorCode#MESSAGE_QUEUE_FULL} when the messages not yet acknowledged by the server
     *     would exceed {@link RoomEngineConfig#messageQueueLimit()}; {@link ErrorCode#ENGINE_CLOSED}
     */
    public int sendMessage(byte[] data) {
        return send(0, 0, data);
    }

    /**
     * Sends a message to the member {@code toUid} only; otherwise as {@link #sendMessage(byte[])}.
     * A uid that is not in the channel is dropped by the server (and counted there), never an
     * error for this engine.
     *
     * @return as {@link #sendMessage(byte[])}, and {@link ErrorCode#INVALID_ARGUMENT} for a negative uid
     */
    public int sendMessage(long toUid, byte[] data) {
        if (toUid < 0) {
            LOG.warn("sendMessage rejected: toUid must be >= 0, was {}", toUid);
            return ErrorCode.INVALID_ARGUMENT;
        }
        return send(1, toUid, data);
    }

    private int send(int directed, long toUid, byte[] data) {
        if (data == null || data.length < 1 || data.length > MAX_MESSAGE_BYTES) {
            LOG.warn("sendMessage rejected: data must be 1..{} bytes, was {}", MAX_MESSAGE_BYTES,
                    data == null ? "null" : data.length + " bytes");
            return ErrorCode.INVALID_ARGUMENT;
        }
        return withHandle(h -> NativeApi.rl_engine_send_message(h, directed, toUid, data, data.length));
    }

    /**
     * Leaves the channel, also while connecting or reconnecting. Arrives as
     * {@code onConnectionStateChanged(DISCONNECTED, LEAVE_CHANNEL)} and {@code onLeaveChannel(0)}.
     *
     * @return {@link ErrorCode#OK}, {@link ErrorCode#NOT_JOINED} or {@link ErrorCode#ENGINE_CLOSED}
     */
    public int leaveChannel() {
        return withHandle(NativeApi::rl_engine_leave);
    }

    /** The state right now, read from the core (after close(): DISCONNECTED). */
    public ConnectionState getConnectionState() {
        handleLock.readLock().lock();
        try {
            return closed ? ConnectionState.DISCONNECTED
                    : ConnectionState.fromCode(NativeApi.rl_engine_get_state(handle));
        } finally {
            handleLock.readLock().unlock();
        }
    }

    /**
     * Tells the engine the device's network changed (Wi-Fi to cellular, VPN up, and so on). If it is
     * reconnecting it tries again at once instead of waiting for its next attempt.
     *
     * @return {@link ErrorCode#OK} or {@link ErrorCode#ENGINE_CLOSED}
     */
    public int notifyNetworkChanged() {
        return withHandle(NativeApi::rl_engine_notify_network_changed);
    }

    /**
     * Leaves the channel if in one and frees the engine. Safe in any state and idempotent; may be
     * called from a callback. No callback arrives after it returns (except the one it was called from).
     */
    @Override
    public void close() {
        handleLock.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            NativeApi.rl_engine_destroy(handle);
        } finally {
            handleLock.writeLock().unlock();
        }
        NativeEventRouter.unregister(token);
        callbacks.close();
    }

    /** The native core's version, such as "0.1.0". */
    public static String nativeVersion() {
        return NativeRuntime.nativeVersion();
    }

    private interface NativeCall {
        int apply(Pointer handle);
    }

    private int withHandle(NativeCall call) {
        handleLock.readLock().lock();
        try {
            return closed ? ErrorCode.ENGINE_CLOSED : call.apply(handle);
        } finally {
            handleLock.readLock().unlock();
        }
    }

    /** Runs on a native loop thread (NativeEventRouter has decoded the event): queue, nothing more. */
    private void onNativeEvent(int type, long uid, long monoNs, Runnable callback) {
        Runnable task = CallbackTiming.timed(type, monoNs, callback); // as is unless a benchmark observes
        switch (type) {
            case NativeApi.EVENT_USER_JOINED -> callbacks.submitPresence(uid, true, task);
            case NativeApi.EVENT_USER_LEFT -> callbacks.submitPresence(uid, false, task);
            default -> callbacks.submit(task);
        }
    }

    private static Pointer createNative(RoomEngineConfig config, Pointer token) {
        NativeApi.EngineOptions options = new NativeApi.EngineOptions();
        NativeApi.rl_options_init(options);
        Memory appKey = Utf8.cMemory(config.appKey());
        Memory host = Utf8.cMemory(config.serverHost());
        options.app_key = appKey;
        options.server_host = host;
        options.server_port = config.serverPort();
        options.join_timeout_ms = (int) config.joinTimeout().toMillis();
        options.signal_keepalive_ms = (int) config.signalKeepaliveInterval().toMillis();
        options.signal_timeout_ms = (int) config.signalTimeout().toMillis();
        options.media_keepalive_ms = (int) config.mediaKeepaliveInterval().toMillis();
        options.media_timeout_ms = (int) config.mediaTimeout().toMillis();
        options.reconnect_timeout_ms = (int) config.reconnectTimeout().toMillis();
        options.probe_interval_ms = (int) config.probeInterval().toMillis();
        BackoffPolicy backoff = config.backoff();
        options.backoff_initial_ms = (int) backoff.initialDelay().toMillis();
        options.backoff_max_ms = (int) backoff.maxDelay().toMillis();
        options.backoff_multiplier_pct = (int) Math.round(backoff.multiplier() * 100);
        options.backoff_jitter_pct = (int) Math.round(backoff.jitter() * 100);
        options.backoff_jitter_explicit = 1; // 0.0 is no jitter, not the default
        options.network_watcher_off = config.networkWatcher() ? 0 : 1;
        options.plaintext = config.plaintext() ? 1 : 0;
        // Every platform checks the server against the same anchors: the app's, else the JVM's.
        Memory pem = config.plaintext() ? null : Utf8.cMemory(config.trustedCertificates() != null
                ? config.trustedCertificates() : JvmTrustAnchors.pem());
        options.tls_trusted_pem = pem;
        Memory mediaHost = config.mediaHostOverride() == null ? null : Utf8.cMemory(config.mediaHostOverride());
        options.media_host_override = mediaHost;
        options.media_port_override = config.mediaPortOverride();
        options.max_peers = config.maxPeers();
        options.message_queue_limit = config.messageQueueLimit();
        options.write();

        // The builder checked every value early; the core validates them once more by its own
        // rules, which are the source of truth (native/src/options.cpp).
        IntByReference error = new IntByReference();
        Pointer handle = NativeApi.rl_engine_create(options, NativeEventRouter.CALLBACK, token, error);
        // The core copies the strings during create, so they can be freed now.
        appKey.close();
        host.close();
        if (pem != null) {
            pem.close();
        }
        if (mediaHost != null) {
            mediaHost.close();
        }
        if (handle == null && error.getValue() == ErrorCode.INVALID_ARGUMENT) {
            throw new IllegalArgumentException(Utf8.fromC(NativeApi.rl_last_error_message()));
        }
        if (handle == null) {
            throw new IllegalStateException("native engine could not be created: " + ErrorCode.nameOf(error.getValue()));
        }
        return handle;
    }
}
