package io.roomlink.server;

import java.net.InetSocketAddress;

/**
 * A member's session. Plain fields are confined to the room executor; the volatile fields are
 * shared with I/O threads (signal frames and media datagrams refresh {@link #lastHeardNanos},
 * the media loop owns {@link #mediaAddress} and reads {@link #connected}).
 */
final class Session {
    final long id;
    final byte[] secret;
    final Room room;
    final long uid;

    /** Room executor only: key registered in the media bindings for this session. */
    long mediaKey;
    /** Room executor only: the current signaling connection, or {@code null} while in grace. */
    SignalHandler conn;
    /**
     * {@code conn != null}, readable from the media loop. Only a connected session is kept alive
     * by media datagrams: in grace the clock runs from the last thing heard up to the drop, so a
     * member whose signaling is gone cannot linger as a ghost on media keepalives alone.
     */
    volatile boolean connected;
    /** Room executor only: true once removed from the registry. */
    boolean removed;

    /** {@link System#nanoTime()} when anything (signal frame or media datagram) was last heard. */
    volatile long lastHeardNanos;
    /** Media loop only (volatile for diagnostics): source address bound by the last BIND. */
    volatile InetSocketAddress mediaAddress;

    Session(long id, byte[] secret, Room room, long uid, long mediaKey) {
        this.id = id;
        this.secret = secret;
        this.room = room;
        this.uid = uid;
        this.mediaKey = mediaKey;
        this.lastHeardNanos = System.nanoTime();
    }

    void touch() {
        lastHeardNanos = System.nanoTime();
    }

    /** Room executor only. */
    void connect(SignalHandler c) {
        conn = c;
        connected = true;
    }

    /** Room executor only: the session goes to grace (or is being removed). */
    void disconnect() {
        conn = null;
        connected = false;
    }

    @Override
    public String toString() {
        return "Session[" + Long.toHexString(id) + " uid=" + Long.toUnsignedString(uid) + " in " + room.key.appKey()
                + "/" + room.key.channel() + (conn == null ? " (grace)" : "") + "]";
    }
}
