package io.roomlink.internal;

import com.sun.jna.Callback;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.ptr.IntByReference;

/**
 * Mirrors native/include/roomlink/roomlink.h one to one (JNA direct mapping). Nothing else in
 * the SDK talks to native code. Strings cross as NUL-terminated UTF-8 byte arrays so that the
 * JVM's default charset never matters.
 */
public final class NativeApi {
    public static final int EVENT_STATE_CHANGED = 1;
    public static final int EVENT_JOIN_RESULT = 2;
    public static final int EVENT_REJOIN_RESULT = 3;
    public static final int EVENT_LEAVE_RESULT = 4;
    public static final int EVENT_RECONNECTING_START = 5;
    public static final int EVENT_DISCONNECT = 6;
    public static final int EVENT_USER_JOINED = 7;
    public static final int EVENT_USER_LEFT = 8;
    public static final int EVENT_TOKEN_WILL_EXPIRE = 9;
    public static final int EVENT_RENEW_TOKEN_RESULT = 10;
    public static final int EVENT_CONNECTION_TYPE = 11;
    public static final int EVENT_MESSAGE = 12;
    public static final int EVENT_MESSAGES_UNDELIVERED = 13;

    public static final int LOG_TRACE = 0;
    public static final int LOG_DEBUG = 1;
    public static final int LOG_INFO = 2;
    public static final int LOG_WARN = 3;
    public static final int LOG_ERROR = 4;
    public static final int LOG_OFF = 5;

    static {
        Native.register(NativeApi.class, NativeLibrary.getInstance("roomlink"));
    }

    private NativeApi() {
    }

    /** rl_event_fn */
    public interface EventCallback extends Callback {
        void invoke(Pointer user, int type, int a, int b, long x, long y, long z, long monoNs);
    }

    /** rl_log_fn */
    public interface LogCallback extends Callback {
        void invoke(int level, Pointer message);
    }

    /** rl_engine_options */
    @Structure.FieldOrder({"struct_size", "app_key", "server_host", "server_port", "join_timeout_ms",
            "signal_keepalive_ms", "signal_timeout_ms", "media_keepalive_ms", "media_timeout_ms",
            "reconnect_timeout_ms", "backoff_initial_ms", "backoff_max_ms", "backoff_multiplier_pct",
            "backoff_jitter_pct", "probe_interval_ms", "backoff_jitter_explicit", "network_watcher_off",
            "tls_trusted_pem", "plaintext", "media_host_override", "media_port_override", "max_peers",
            "message_queue_limit"})
    public static final class EngineOptions extends Structure {
        public int struct_size;
        public Pointer app_key;
        public Pointer server_host;
        public int server_port;
        public int join_timeout_ms;
        public int signal_keepalive_ms;
        public int signal_timeout_ms;
        public int media_keepalive_ms;
        public int media_timeout_ms;
        public int reconnect_timeout_ms;
        public int backoff_initial_ms;
        public int backoff_max_ms;
        public int backoff_multiplier_pct;
        public int backoff_jitter_pct;
        public int probe_interval_ms;
        public int backoff_jitter_explicit;
        public int network_watcher_off;
        public Pointer tls_trusted_pem;
        public int plaintext;
        public Pointer media_host_override;
        public int media_port_override;
        public int max_peers;
        public int message_queue_limit;
    }

    public static native void rl_options_init(EngineOptions options);

    public static native int rl_options_validate(EngineOptions options, byte[] msg, int msgLen);

    public static native int rl_runtime_set_loop_threads(int threads);

    public static native int rl_runtime_loop_threads();

    public static native Pointer rl_engine_create(EngineOptions options, EventCallback fn, Pointer user,
            IntByReference error);

    public static native int rl_engine_join(Pointer engine, byte[] token, byte[] channel, long uid);

    /** NUL-terminated UTF-8, owned by the core: read it with {@link Utf8#fromC(Pointer)}. */
    public static native Pointer rl_last_error_message();

    public static native int rl_engine_renew_token(Pointer engine, byte[] token);

    public static native int rl_engine_send_message(Pointer engine, int directed, long toUid, byte[] data, int length);

    public static native int rl_engine_leave(Pointer engine);

    public static native int rl_engine_get_state(Pointer engine);

    public static native int rl_engine_notify_network_changed(Pointer engine);

    public static native void rl_engine_destroy(Pointer engine);

    public static native void rl_set_log_callback(LogCallback fn, int minLevel);

    public static native String rl_version();

    public static native long rl_monotonic_ns();

    public static native int rl_thread_set_latency_slice(long sliceNs);
}
