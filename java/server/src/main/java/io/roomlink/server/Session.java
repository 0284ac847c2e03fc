package io.roomlink.server;

import io.roomlink.server.protocol.Message;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;

/**
 * A member's session.
 *
 * <p>Presence ("present = fully connected", docs/PROTOCOL.md): a session starts <em>pending</em>
 * (its client has its snapshot, its peers know nothing of it) and becomes {@link #visible} once a
 * media BIND for its current {@link #mediaKey} has arrived. A visible session is healthy as of
 * {@link #lastHealthyNanos()}, the earlier of the last signal frame and the last media datagram
 * heard from its bound address; it expires one grace period after that, connection or not.
 *
 * <p>Threading: plain fields are confined to the room executor. The volatile timestamps are
 * written by I/O threads (signal frames: the connection's loop; datagrams: the media loop).
 * {@link #mediaKey} is written by the room executor and read by the media loop;
 * {@link #mediaAddress} and {@link #boundKey} are written by the media loop only.
 */
final class Session {
    final long id;
    /** Room executor only: replaced at every RESUME_OK, so a secret seen once is dead after the next resume. */
    byte[] secret;
    final Room room;
    final long uid;

    /**
     * The key named by the last JOIN/RESUME (written by the room executor before the key is put in
     * the media bindings, so a media loop that found the session under a key sees it).
     */
    volatile long mediaKey;
    /**
     * Room executor only: the key that was bound before a RESUME named a new one. It stays in the
     * media bindings, so PINGs from the old binding keep counting, until the new key is bound.
     * This and {@link #mediaBound} are written by {@link MediaBindings} only.
     */
    boolean hasPreviousKey;
    long previousMediaKey;
    /** Room executor only: a BIND for the current {@link #mediaKey} has been processed. */
    boolean mediaBound;
    /** Room executor only: peers know this session (PEER_JOINED sent, listed in snapshots). */
    boolean visible;
    /**
     * Room executor only: the current signaling connection, or {@code null} while in grace.
     * Written by {@link Attachment} only, together with {@link SignalHandler#session}.
     */
    SignalHandler conn;
    /** Room executor only: true once removed from the registry. */
    boolean removed;
    /** Room executor only: epoch seconds at which the session's token expires; 0 = not enforced. */
    long tokenExpiresAt;
    /** Room executor only: TOKEN_WILL_EXPIRE was sent for the current {@link #tokenExpiresAt}. */
    boolean expiryWarned;

    /** Room executor only: the receiver stream (presence and messages) and its replay buffer. */
    final ReceiverStream stream;
    /** Room executor only: the highest MESSAGE seq taken (the sender queue's cumulative ack). */
    long accepted;
    /** Room executor only: the {@link #accepted} the client was last told (MESSAGE_ACK or RESUME_OK). */
    long ackSent;
    /** Room executor only: a MESSAGE came in the current batch: MESSAGE_ACK at its end. */
    boolean ackDue;
    /** Room executor only: a retransmission came in the current batch: ack even if nothing new was taken. */
    boolean ackAgain;
    /** Room executor only: MESSAGEs received while pending, taken once the session is visible; or null. */
    ArrayDeque<Message.MessageFrame> held;
    /** Room executor only: the MESSAGE data token bucket (bytes) and when it was last refilled. */
    double rateTokens = -1;
    long rateRefillNanos;

    /** {@link System#nanoTime()} of the last signal frame heard (or of the JOIN/RESUME). */
    volatile long lastSignalNanos;
    /** {@link System#nanoTime()} of the last media datagram heard from the bound address (or of the JOIN). */
    volatile long lastMediaNanos;
    /** Media loop only (volatile for diagnostics): source address bound by the last accepted BIND. */
    volatile InetSocketAddress mediaAddress;
    /** Media loop only: the key of the last accepted BIND (meaningful once {@link #mediaAddress} is set). */
    volatile long boundKey;

    Session(long id, byte[] secret, Room room, long uid, long mediaKey) {
        this(id, secret, room, uid, mediaKey, ServerLimits.DEFAULTS.replayBufferBytes());
    }

    Session(long id, byte[] secret, Room room, long uid, long mediaKey, int replayBufferBytes) {
        this.stream = new ReceiverStream(replayBufferBytes);
        this.id = id;
        this.secret = secret;
        this.room = room;
        this.uid = uid;
        this.mediaKey = mediaKey;
        long now = System.nanoTime();
        this.lastSignalNanos = now;
        this.lastMediaNanos = now;
    }

    /**
     * Takes {@code bytes} of MESSAGE data from the token bucket ({@code perSecond} sustained,
     * holding two seconds' worth, full at first).
     *
     * @return false if the bucket does not hold that much (the session is over its rate)
     */
    boolean takeMessageBytes(int bytes, int perSecond, long nowNanos) {
        double capacity = 2.0 * perSecond;
        if (rateTokens < 0) {
            rateTokens = capacity;
        } else {
            rateTokens = Math.min(capacity, rateTokens + (nowNanos - rateRefillNanos) * 1e-9 * perSecond);
        }
        rateRefillNanos = nowNanos;
        if (rateTokens < bytes) {
            return false;
        }
        rateTokens -= bytes;
        return true;
    }

    /** The seq a new MESSAGE must carry: after every one taken or held. */
    long nextSeq() {
        return accepted + (held == null ? 0 : held.size()) + 1;
    }

    void touchSignal() {
        lastSignalNanos = System.nanoTime();
    }

    void touchMedia() {
        lastMediaNanos = System.nanoTime();
    }

    /** The earlier of the two paths' last signs of life: the session is only as healthy as its worse path. */
    long lastHealthyNanos() {
        long signal = lastSignalNanos;
        long media = lastMediaNanos;
        return signal - media < 0 ? signal : media;
    }

    /** The later of the two paths' last signs of life (the idle timeout watches this). */
    long lastHeardNanos() {
        long signal = lastSignalNanos;
        long media = lastMediaNanos;
        return signal - media < 0 ? media : signal;
    }

    @Override
    public String toString() {
        return "Session[" + Long.toHexString(id) + " uid=" + Long.toUnsignedString(uid) + " in " + room.key.appKey()
                + "/" + room.key.channel() + (visible ? "" : " (pending)") + (conn == null ? " (grace)" : "") + "]";
    }
}
