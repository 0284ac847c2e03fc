package io.roomlink.server;

/** Error codes of native/include/roomlink/roomlink.h ({@code enum rl_error}) that the server sends. */
public final class ErrorCodes {
    /** SESSION_END: the server kicked this user. */
    public static final int SERVER_KICKED = 30206;
    /** SESSION_END: the channel was closed by the server. */
    public static final int CHANNEL_CLOSED = 30207;
    /** SESSION_END: the same uid joined the channel elsewhere (newest login wins). */
    public static final int SAME_UID_LOGIN = 30209;
    /** JOIN_ERR: bad, expired or malformed token; unknown session or wrong secret on RESUME. */
    public static final int INVALID_TOKEN = 31001;
    /** ERROR: wire protocol violation. */
    public static final int PROTOCOL = 31006;
    /** SESSION_END: the server is shutting down. */
    public static final int SERVER_SHUTDOWN = 31009;
    /** SESSION_END: the session's token expired and was not renewed (enforceTokenExpiry). */
    public static final int TOKEN_EXPIRED = 31020;
    /** JOIN_ERR: the uid already has a live session in the channel (SameUidPolicy.REJECT_NEWCOMER). */
    public static final int SAME_UID_REJECTED = 31021;
    /**
     * JOIN_ERR: a server limit refused the join: the channel is full, the server holds its maximum
     * of channels, or the client's address made too many JOIN/RESUME attempts per second.
     */
    public static final int SERVER_LIMIT = 31022;
    /**
     * SESSION_END: the session's replay buffer (receiver-stream items its client has not
     * acknowledged) would exceed {@code replayBufferBytes}; the client joins afresh.
     */
    public static final int REPLAY_OVERFLOW = 31023;
    /** JOIN_ERR: the server failed internally while admitting the client. */
    public static final int INTERNAL = 31099;

    private ErrorCodes() {
    }
}
