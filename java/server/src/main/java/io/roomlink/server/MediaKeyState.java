package io.roomlink.server;

import io.roomlink.server.protocol.MediaKeys;
import io.roomlink.server.protocol.ReplayWindow;

/**
 * One registered mediaKey: the session it names and that key's AEAD state. Made on the room
 * executor when a JOIN/RESUME registers the key (from its mediaSecret) and published through
 * {@link MediaBindings}; the mutable parts, the c2s replay window and the s2c send counter, belong
 * to the media loop only, which is the only thread that opens or seals datagrams.
 */
final class MediaKeyState {
    final Session session;
    final long key;
    final MediaKeys keys;
    /** Media loop only. */
    final ReplayWindow replay = new ReplayWindow();
    /** Media loop only: counter of the last datagram sealed under {@code keys.serverToClient()}. */
    private long sent;

    MediaKeyState(Session session, long key, MediaKeys keys) {
        this.session = session;
        this.key = key;
        this.keys = keys;
    }

    /** Media loop only: the counter for the next s2c datagram (1, 2, …; a nonce never repeats). */
    long nextCounter() {
        return ++sent;
    }

    @Override
    public String toString() {
        return "MediaKeyState[" + Long.toHexString(key) + " of " + session + "]";
    }
}
