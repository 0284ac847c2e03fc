package io.roomlink;

/** Why the connection state changed. Codes match the reference SDK. */
public enum ConnectionStateChangeReason {
    /** The app called leaveChannel. */
    LEAVE_CHANNEL(1),
    /** The server closed the channel. */
    CHANNEL_CLOSED(2),
    /** The server removed this user from the channel. */
    BE_KICKED(3),
    /** Reconnecting took longer than the reconnect timeout; the engine gave up. */
    TIMEOUT(4),
    /** The app called joinChannel. */
    JOIN_CHANNEL(5),
    /** The join completed. */
    JOIN_SUCCEED(6),
    /** The connection came back after an outage. */
    REJOIN_SUCCEED(7),
    /** The media path went silent or failed first. */
    MEDIA_CONNECTION_DISCONNECTED(8),
    /** The signaling path went silent or failed first. */
    SIGNAL_DISCONNECTED(9),
    /** The server refused the join (bad or expired token, for instance). */
    REQUEST_CHANNEL_FAILED(10),
    /** No connection to the server could be set up within the join timeout. */
    JOIN_CHANNEL_FAILED(11),
    /** Reserved: the server moved the client elsewhere. */
    REDISPATCH(12),
    /** Reserved: a proxy server was set. */
    SETTING_PROXY_SERVER(13),
    /** Another login with the same uid joined the channel. */
    BE_KICKED_DUE_TO_SAME_USER_ID(14),
    /** A code this version of the SDK does not know. */
    UNKNOWN(-1);

    private static final ConnectionStateChangeReason[] BY_CODE =
            Codes.index(values(), ConnectionStateChangeReason::code);

    private final int code;

    ConnectionStateChangeReason(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** Never throws: codes this version does not know map to {@link #UNKNOWN}. */
    public static ConnectionStateChangeReason fromCode(int code) {
        return Codes.lookup(BY_CODE, code, UNKNOWN);
    }
}
