package io.roomlink;

/**
 * What the path to the server runs over, as the host sees it: the interface it routes to the
 * server through (on Linux from {@code /sys/class/net/<interface>/wireless}, its {@code type}
 * and the route in use). Reported by {@link RoomEngineListener#onConnectionTypeChanged}.
 */
public enum ConnectionType {
    /** Not known: another platform, a tunnel, PPP, or the watcher is off. */
    UNKNOWN(0),
    /** A wired interface; loopback counts as one. */
    ETHERNET(1),
    /** A Wi-Fi interface. */
    WIFI(2),
    /** A cellular modem. */
    MOBILE(3),
    /** No route to the server at all (the link is down). */
    NONE(4);

    private static final ConnectionType[] BY_CODE = Codes.index(values(), ConnectionType::code);

    private final int code;

    ConnectionType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** Never throws: codes this version does not know map to {@link #UNKNOWN}. */
    public static ConnectionType fromCode(int code) {
        return Codes.lookup(BY_CODE, code, UNKNOWN);
    }
}
