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
    /**
     * Media loop only: counter of the last datagram sealed under {@code keys.serverToClient()}.
     * It starts at the monotonic clock, not at 0, because the same mediaKey and mediaSecret can
     * be registered twice: a signal migration's RESUME names the attempt's current key, and if the
     * server answers it with a fresh session (resumed=0) a new state is made for the same keys.
     * Starting at 0 again would repeat nonces under one GCM key; a start at the clock is past every
     * counter the earlier state reached, which sent far fewer than one datagram per nanosecond.
     */
    private long sent = System.nanoTime();

    MediaKeyState(Session session, long key, MediaKeys keys) {
        this.session = session;
        this.key = key;
        this.keys = keys;
    }

    /** Media loop only: the counter for the next s2c datagram (it only grows; a nonce never repeats). */
    long nextCounter() {
        return ++sent;
    }

    @Override
    public String toString() {
        return "MediaKeyState[" + Long.toHexString(key) + " of " + session + "]";
    }
}
