/*
 * roomlink C ABI: the only surface the Java binding (or any other host) sees.
 *
 * Rules of this interface:
 *  - Every function returns at once; network work is posted to a shared native loop thread.
 *  - No C++ exception ever escapes; failures are reported as RL_ERR_* / ErrorCode values.
 *  - Callbacks run on a native loop thread. Hosts must hand them off quickly (the Java SDK
 *    queues them onto its own dispatch threads) and must never call rl_engine_destroy from one.
 *  - After rl_engine_destroy() returns, the engine's callback is never invoked again.
 */
#ifndef ROOMLINK_H
#define ROOMLINK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define RL_API __attribute__((visibility("default")))
#else
#define RL_API
#endif

/* Connection states: numeric codes of the reference SDK. */
enum rl_state {
    RL_STATE_DISCONNECTED = 1,
    RL_STATE_CONNECTING = 2,
    RL_STATE_CONNECTED = 3,
    RL_STATE_RECONNECTING = 4,
    RL_STATE_FAILED = 5
};

/* Reasons for a state change: numeric codes of the reference SDK. */
enum rl_reason {
    RL_REASON_LEAVE_CHANNEL = 1,
    RL_REASON_CHANNEL_CLOSED = 2,
    RL_REASON_BE_KICKED = 3,
    RL_REASON_TIMEOUT = 4,
    RL_REASON_JOIN_CHANNEL = 5,
    RL_REASON_JOIN_SUCCEED = 6,
    RL_REASON_REJOIN_SUCCEED = 7,
    RL_REASON_MEDIA_CONNECTION_DISCONNECTED = 8,
    RL_REASON_SIGNAL_DISCONNECTED = 9,
    RL_REASON_REQUEST_CHANNEL_FAILED = 10,
    RL_REASON_JOIN_CHANNEL_FAILED = 11,
    RL_REASON_REDISPATCH = 12,
    RL_REASON_SETTING_PROXY_SERVER = 13,
    RL_REASON_BE_KICKED_DUE_TO_SAME_USER_ID = 14
};

/* Why a peer left (onUserLeave). */
enum rl_user_leave_reason {
    RL_USER_LEAVE_NORMAL = 0,
    RL_USER_LEAVE_FAILOVER = 1,
    RL_USER_LEAVE_UPDATE = 2,
    RL_USER_LEAVE_KICKED = 3,
    RL_USER_LEAVE_TIMEOUT = 4
};

/* Result and error codes. 30xxx are the reference SDK's values; 31xxx are roomlink's own. */
enum rl_error {
    RL_OK = 0,
    RL_ERR_ALREADY_JOINED = 30100,
    RL_ERR_NOT_JOINED = 30101,
    RL_ERR_MEDIA_DISCONNECTED = 30204,
    RL_ERR_SIGNAL_DISCONNECTED = 30205,
    RL_ERR_SERVER_KICKED = 30206,
    RL_ERR_CHANNEL_CLOSED = 30207,
    RL_ERR_SAME_UID_LOGIN = 30209,
    RL_ERR_INVALID_TOKEN = 31001,
    RL_ERR_INVALID_ARGUMENT = 31002,
    RL_ERR_JOIN_TIMEOUT = 31003,
    RL_ERR_CONNECT_FAILED = 31004,
    RL_ERR_MEDIA_BIND_TIMEOUT = 31005,
    RL_ERR_PROTOCOL = 31006,
    RL_ERR_ENGINE_CLOSED = 31007,
    RL_ERR_RECONNECT_TIMEOUT = 31008,
    RL_ERR_SERVER_SHUTDOWN = 31009,
    /* rl_engine_send_message: the engine's messages not yet acknowledged by the server would
     * exceed message_queue_limit bytes */
    RL_ERR_MESSAGE_QUEUE_FULL = 31010,
    RL_ERR_TOKEN_EXPIRED = 31020,       /* SESSION_END: the token expired and was not renewed */
    RL_ERR_SAME_UID_REJECTED = 31021,   /* JOIN_ERR: the uid is already in the channel and the
                                           server keeps the first login (REJECT_NEWCOMER) */
    /* JOIN refused by a server limit: channel full, too many channels, too many join attempts
     * from the client's address. A RESUME refused so is retried with backoff, session kept. */
    RL_ERR_SERVER_LIMIT = 31022,
    /* SESSION_END: the server's replay buffer for this receiver overflowed (it fell behind, or
     * stayed away, while the room sent more than replayBufferBytes); the engine joins afresh */
    RL_ERR_REPLAY_OVERFLOW = 31023,
    RL_ERR_INTERNAL = 31099
};

/* Event types delivered through rl_event_fn. Argument meaning per type (the core emits them in
 * one place, native/src/event_emitter.h; the Java SDK decodes them in NativeEventRouter):
 *   STATE_CHANGED       a=state        b=reason
 *   JOIN_RESULT         a=result       x=channel_id  y=elapsed_ms  z=uid
 *   REJOIN_RESULT       a=result       x=channel_id
 *   LEAVE_RESULT        a=result
 *   RECONNECTING_START  (none)
 *   DISCONNECT          a=error code (30204, 30205, 30206, 30207, 30209, 31008, 31009, 31020)
 *   USER_JOINED         x=uid
 *   USER_LEFT           a=rl_user_leave_reason  x=uid
 *   TOKEN_WILL_EXPIRE   x=the token's expiry (epoch seconds; u64 bits)
 *   RENEW_TOKEN_RESULT  a=result (RL_OK or RL_ERR_INVALID_TOKEN)  x=the session's expiry now in
 *                       effect (epoch seconds; the old one when refused; 0 = none enforced)
 *   CONNECTION_TYPE     a=rl_connection_type (once after joining, then on every change)
 *   MESSAGE             a=length (1..16384)  b=1 if sent to this member only, 0 if to all
 *                       x=sender's uid  y=address of the data (const uint8_t*, valid only
 *                       during the callback: copy it)
 *   MESSAGES_UNDELIVERED a=count of accepted messages the server never acknowledged
 *                       b=reason: the DISCONNECT code (31008, 30206, 30207, 30209, 31020), or
 *                       30205 for a leave whose linger ended before the acknowledgement
 */
enum rl_event_type {
    RL_EVENT_STATE_CHANGED = 1,
    RL_EVENT_JOIN_RESULT = 2,
    RL_EVENT_REJOIN_RESULT = 3,
    RL_EVENT_LEAVE_RESULT = 4,
    RL_EVENT_RECONNECTING_START = 5,
    RL_EVENT_DISCONNECT = 6,
    RL_EVENT_USER_JOINED = 7,
    RL_EVENT_USER_LEFT = 8,
    RL_EVENT_TOKEN_WILL_EXPIRE = 9,
    RL_EVENT_RENEW_TOKEN_RESULT = 10,
    RL_EVENT_CONNECTION_TYPE = 11,
    RL_EVENT_MESSAGE = 12,
    RL_EVENT_MESSAGES_UNDELIVERED = 13
};

/* What the path to the server runs over (CONNECTION_TYPE events): the interface the host routes
 * to the server through. Loopback counts as ETHERNET; NONE means no route at all. */
enum rl_connection_type {
    RL_CONNECTION_TYPE_UNKNOWN = 0,
    RL_CONNECTION_TYPE_ETHERNET = 1,
    RL_CONNECTION_TYPE_WIFI = 2,
    RL_CONNECTION_TYPE_MOBILE = 3,
    RL_CONNECTION_TYPE_NONE = 4
};

/* Primitive-only arguments so that hosts can bind it without marshalling a struct.
 * mono_ns is CLOCK_MONOTONIC at the moment the core emitted the event (for latency probes). */
typedef void (*rl_event_fn)(void* user, int32_t type, int32_t a, int32_t b,
                            int64_t x, int64_t y, int64_t z, int64_t mono_ns);

enum rl_log_level {
    RL_LOG_TRACE = 0,
    RL_LOG_DEBUG = 1,
    RL_LOG_INFO = 2,
    RL_LOG_WARN = 3,
    RL_LOG_ERROR = 4,
    RL_LOG_OFF = 5
};

typedef void (*rl_log_fn)(int32_t level, const char* message);

/* Engine options. Zero in a numeric field means "use the default" (see rl_options_init); a
 * nonzero value must lie in the range given beside it (the Java builder's ranges, README
 * "Configuration"), or rl_engine_create refuses the options.
 * struct_size lets the ABI grow: the core reads only the fields that fit in struct_size. */
typedef struct rl_engine_options {
    uint32_t struct_size;
    const char* app_key;             /* required, 1..64 bytes */
    const char* server_host;         /* required: IPv4/IPv6 literal or host name */
    int32_t server_port;             /* required, 1..65535 */
    int32_t join_timeout_ms;         /* whole join (connect + request + media bind); 100..120000;
                                        default 10000 */
    int32_t signal_keepalive_ms;     /* signaling ping interval while the server answers; an
                                        overdue PONG switches to a ping every 50 ms until data
                                        arrives (docs/STATES.md, "Keepalive"); 20..10000;
                                        default 1000 */
    int32_t signal_timeout_ms;       /* signaling silence that starts an outage if media is silent
                                        too; with healthy media the session silently moves to a new
                                        connection, and only 2x this silence is an outage
                                        (docs/STATES.md); 100..60000 and at least 1.5x
                                        signal_keepalive_ms; default 1500 */
    int32_t media_keepalive_ms;      /* media ping interval while PONGs come back; an overdue PONG
                                        switches to a ping every 25 ms until one arrives;
                                        20..10000; default 500 */
    int32_t media_timeout_ms;        /* the most media silence that starts an outage: the
                                        threshold adapts to the measured RTT (srtt + 4 x rttvar)
                                        and is shorter on a clean path (950 ms at the defaults;
                                        docs/STATES.md, "Keepalive"), never longer than this;
                                        100..60000 and at least 1.5x media_keepalive_ms;
                                        default 1500 */
    int32_t reconnect_timeout_ms;    /* give up after this long in RECONNECTING; 1000..600000;
                                        default 40000 */
    int32_t backoff_initial_ms;      /* first retry delay after the immediate attempt; 10..60000;
                                        default 250 */
    int32_t backoff_max_ms;          /* cap on the retry delay; backoff_initial_ms..300000;
                                        default 5000 */
    int32_t backoff_multiplier_pct;  /* delay growth per attempt, percent; 100..1000;
                                        default 200 (x2.0) */
    int32_t backoff_jitter_pct;      /* +/- random spread, percent of the delay; 0..100, where 0
                                        means "default" unless backoff_jitter_explicit; default 20 */
    int32_t probe_interval_ms;       /* cheap path probes while reconnecting; 20..5000;
                                        default 90 */
    int32_t backoff_jitter_explicit; /* nonzero: backoff_jitter_pct is taken as given, so 0 means
                                        no jitter; 0 (as rl_options_init sets it): a 0 there
                                        means the default */
    int32_t network_watcher_off;     /* 1: ignore the host's network events (Linux rtnetlink:
                                        link down/up, address and default route changes), so
                                        outages are found by keepalive silence alone and the
                                        connection type is not reported; 0 or 1; default 0 */
    /* Signaling runs inside TLS 1.3 unless `plaintext` is set (docs/PROTOCOL.md, "Transport").
     * A failed handshake (untrusted chain, a certificate that does not name server_host) counts
     * as a failed connect (docs/STATES.md). */
    const char* tls_trusted_pem;     /* trust anchors for the server's certificate, one or more
                                        PEM certificates, at most 4 MiB; NULL or "": OpenSSL's
                                        default store (the Java SDK always passes the JVM's
                                        anchors, or the app's own) */
    int32_t plaintext;               /* 0 (default): TLS 1.3; 1: no TLS, for plaintext dev servers */
    const char* media_host_override; /* NULL (default): the media address the server
                                        advertises in JOIN_OK / RESUME_OK; else use this host (IP
                                        literal or name, 1..255 bytes) instead: for a relay or NAT
                                        between client and server, and for tests */
    int32_t media_port_override;     /* 1..65535 with media_host_override; 0 without it */
    int32_t max_peers;               /* the most channel members an engine knows; a PEER_JOINED
                                        for a new uid past it is dropped (not reported, logged
                                        once) until others leave (docs/STATES.md, "Hostile
                                        servers"); 1..1000000; default 10000 */
    int32_t message_queue_limit;     /* bytes of accepted messages not yet acknowledged by the
                                        server (payload bytes); rl_engine_send_message returns
                                        RL_ERR_MESSAGE_QUEUE_FULL beyond it; 16384..1073741824;
                                        default 1048576 */
} rl_engine_options;

typedef struct rl_engine rl_engine;

/* Fills defaults and sets struct_size. */
RL_API void rl_options_init(rl_engine_options* options);

/* Validates options; returns RL_OK or RL_ERR_INVALID_ARGUMENT and writes a message naming
 * the offending field into msg (if msg != NULL and msg_len > 0). */
RL_API int32_t rl_options_validate(const rl_engine_options* options, char* msg, int32_t msg_len);

/* Size of the shared loop-thread pool (default 2). Takes effect only before the first engine
 * is created: returns RL_ERR_INVALID_ARGUMENT outside 1..16, RL_ERR_INTERNAL once started. */
RL_API int32_t rl_runtime_set_loop_threads(int32_t threads);

/* Number of native loop threads currently running (for tests and diagnostics). */
RL_API int32_t rl_runtime_loop_threads(void);

/* Creates an engine in DISCONNECTED. Returns NULL and sets *error (if non-NULL) on failure;
 * for RL_ERR_INVALID_ARGUMENT, rl_last_error_message() names the offending field.
 * fn/user are kept until rl_engine_destroy returns. */
RL_API rl_engine* rl_engine_create(const rl_engine_options* options, rl_event_fn fn, void* user,
                                   int32_t* error);

/* Starts joining. Returns RL_OK (the outcome arrives as events), RL_ERR_ALREADY_JOINED if the
 * engine is CONNECTING, CONNECTED or RECONNECTING, or RL_ERR_INVALID_ARGUMENT (then
 * rl_last_error_message() names the offending argument).
 * channel: 1..64 bytes of UTF-8; token: 0..1024 bytes (may be empty in debug mode); uid >= 0. */
RL_API int32_t rl_engine_join(rl_engine* engine, const char* token, const char* channel,
                              int64_t uid);

/* Why the last rl_engine_create or rl_engine_join on the calling thread returned
 * RL_ERR_INVALID_ARGUMENT: "<field>: <why>", or "" if that call did not fail so. Each of those
 * calls resets it; the text stays valid until the next one on this thread. */
RL_API const char* rl_last_error_message(void);

/* Hands the engine a fresh token (after RL_EVENT_TOKEN_WILL_EXPIRE): it is sent to the server,
 * which answers with RL_EVENT_RENEW_TOKEN_RESULT, and it replaces the token the engine keeps for
 * joining afresh after an outage. While reconnecting it is sent once the session is back.
 * Returns RL_OK, RL_ERR_NOT_JOINED (DISCONNECTED or FAILED) or RL_ERR_INVALID_ARGUMENT (token
 * NULL or longer than 1024 bytes, or not UTF-8; rl_last_error_message() names it). */
RL_API int32_t rl_engine_renew_token(rl_engine* engine, const char* token);

/* Sends a reliable room message (docs/PROTOCOL.md, "Room messages"): to every other member
 * (directed = 0, to_uid ignored) or to the member to_uid (directed = 1). The engine copies data
 * and returns at once; delivery is exactly once and in order per sender while the session lives,
 * across outages and resumes. Returns RL_OK, RL_ERR_NOT_JOINED unless CONNECTED or RECONNECTING,
 * RL_ERR_INVALID_ARGUMENT (data NULL, length outside 1..16384, directed not 0/1, to_uid < 0),
 * RL_ERR_MESSAGE_QUEUE_FULL, or RL_ERR_ENGINE_CLOSED. Any thread. */
RL_API int32_t rl_engine_send_message(rl_engine* engine, int32_t directed, int64_t to_uid,
                                      const uint8_t* data, int32_t length);

/* Leaves the channel. Returns RL_OK or RL_ERR_NOT_JOINED (DISCONNECTED or FAILED). Accepted
 * messages still unacknowledged are sent first; the LEAVE follows them (bounded by the linger). */
RL_API int32_t rl_engine_leave(rl_engine* engine);

/* Current state; it changes synchronously with join/leave and on the loop for network events. */
RL_API int32_t rl_engine_get_state(const rl_engine* engine);

/* Hint that the network may have changed: retry at once if reconnecting, or probe if connected. */
RL_API int32_t rl_engine_notify_network_changed(rl_engine* engine);

/* Stops the engine and frees it. Blocks until the loop has dropped it: no callback runs after
 * this returns. Must not be called from the engine's own callback. NULL is ignored. */
RL_API void rl_engine_destroy(rl_engine* engine);

/* Process-wide log sink; NULL disables. Lines below min_level are not formatted at all. */
RL_API void rl_set_log_callback(rl_log_fn fn, int32_t min_level);

/* Library version, e.g. "0.1.0": the Maven project version without a qualifier such as
 * "-SNAPSHOT" (the root pom.xml is its one source). */
RL_API const char* rl_version(void);

/* Monotonic clock used for mono_ns in events (CLOCK_MONOTONIC, nanoseconds). */
RL_API int64_t rl_monotonic_ns(void);

/* Gives the calling thread a short scheduling slice (Linux 6.12+ EEVDF; older kernels accept and
 * ignore it), so that when it wakes up it preempts longer-slice work on its CPU instead of
 * waiting for that work's slice to end. For threads that sleep most of the time and must react
 * at once, such as a host's callback dispatch threads. slice_ns: 100000..100000000, or 0 for the
 * kernel's default. Returns RL_OK, RL_ERR_INVALID_ARGUMENT for a slice outside the range, or
 * RL_ERR_INTERNAL if the kernel refused (the thread is then unchanged). */
RL_API int32_t rl_thread_set_latency_slice(int64_t slice_ns);

#ifdef __cplusplus
}
#endif

#endif /* ROOMLINK_H */
