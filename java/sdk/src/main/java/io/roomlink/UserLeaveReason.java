package io.roomlink;

/** Why a remote user left the channel. */
public enum UserLeaveReason {
    /** The user left on purpose. */
    NORMAL(0),
    /** Reserved: the user's client failed over to another server. */
    FAILOVER(1),
    /** Reserved: the user's client is updating. */
    UPDATE(2),
    /** The server removed the user. */
    KICKED(3),
    /** The user dropped off the network and did not come back within the server's grace period. */
    TIMEOUT(4),
    /** A code this version of the SDK does not know. */
    UNKNOWN(-1);

    private static final UserLeaveReason[] BY_CODE = Codes.index(values(), UserLeaveReason::code);

    private final int code;

    UserLeaveReason(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** Never throws: codes this version does not know map to {@link #UNKNOWN}. */
    public static UserLeaveReason fromCode(int code) {
        return Codes.lookup(BY_CODE, code, UNKNOWN);
    }
}
