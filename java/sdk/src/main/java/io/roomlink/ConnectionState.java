package io.roomlink;

/** Where the engine's connection to its channel stands. Codes match the reference SDK. */
public enum ConnectionState {
    /** Not in a channel: before the first join, after a leave, or after a server-side ending. */
    DISCONNECTED(1),
    /** joinChannel was called and the connection is being set up. */
    CONNECTING(2),
    /** Joined: both the signaling and the media path are up. */
    CONNECTED(3),
    /** The connection broke and the engine is trying to get it back on its own. */
    RECONNECTING(4),
    /** Joining failed, or reconnecting gave up; nothing happens until the app joins again. */
    FAILED(5),
    /** A code this version of the SDK does not know. */
    UNKNOWN(-1);

    private static final ConnectionState[] BY_CODE = Codes.index(values(), ConnectionState::code);

    private final int code;

    ConnectionState(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** Never throws: codes this version does not know map to {@link #UNKNOWN}. */
    public static ConnectionState fromCode(int code) {
        return Codes.lookup(BY_CODE, code, UNKNOWN);
    }
}
