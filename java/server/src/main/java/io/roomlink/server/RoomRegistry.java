package io.roomlink.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.concurrent.EventExecutor;
import io.roomlink.server.protocol.Message;
import io.roomlink.server.protocol.WireCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * All room and session state, and every rule that changes it. Every method except {@link #post}
 * and {@link #call} runs on the single room executor, so the state needs no locks; I/O threads
 * hand messages over with {@link #post}, in order per connection.
 *
 * <p>Timing: one sweep every {@link #SWEEP_MILLIS} ms closes connections that have been silent
 * (no signal frame and no media datagram) for the idle timeout, and expires sessions in grace
 * whose last sign of life (signal frame or media datagram, heard while connected) is older than
 * the grace period (PEER_LEFT TIMEOUT): a member is never shown more than grace + 0.1 s after it
 * was last heard, however late its drop was detected. Cost: O(sessions) per sweep, no
 * per-session timers.
 */
final class RoomRegistry {
    private static final Logger log = LoggerFactory.getLogger(RoomRegistry.class);

    static final long SWEEP_MILLIS = 100;
    /** Upper bound on remembered ended sessions (oldest forgotten first). */
    static final int MAX_TOMBSTONES = 100_000;

    private final EventExecutor executor;
    private final ConcurrentMap<Long, Session> bindings;
    private final MediaHandler media;
    private final ServerStats stats;
    private final ByteBufAllocator alloc;
    private final long graceNanos;
    private final long idleNanos;
    private final long retentionNanos;
    private final SecureRandom random = new SecureRandom();

    // Room executor only.
    private final Map<RoomKey, Room> rooms = new HashMap<>();
    private final Map<Long, Session> sessions = new HashMap<>();
    private final LinkedHashMap<Long, Tombstone> tombstones = new LinkedHashMap<>();
    private final Map<Tombstone.Identity, Tombstone> resumableByIdentity = new HashMap<>();
    private long nextChannelId = 1;
    private boolean shuttingDown;

    RoomRegistry(EventExecutor executor, ConcurrentMap<Long, Session> bindings, MediaHandler media,
                 ServerStats stats, ByteBufAllocator alloc, long graceNanos, long idleNanos, long retentionNanos) {
        this.executor = executor;
        this.bindings = bindings;
        this.media = media;
        this.stats = stats;
        this.alloc = alloc;
        this.graceNanos = graceNanos;
        this.idleNanos = idleNanos;
        this.retentionNanos = retentionNanos;
    }

    // ---------------------------------------------------------------------------------------------
    // Hand-off (any thread)
    // ---------------------------------------------------------------------------------------------

    /** Runs {@code task} on the room executor; failures are logged, never lost. */
    void post(Runnable task) {
        try {
            executor.execute(() -> {
                try {
                    task.run();
                } catch (Throwable t) {
                    log.error("room task failed", t);
                }
            });
        } catch (RejectedExecutionException e) {
            log.debug("room executor shut down, task dropped");
        }
    }

    /** Runs {@code task} on the room executor and waits for its result; {@code fallback} once shut down. */
    <T> T call(Callable<T> task, T fallback) {
        if (executor.inEventLoop()) {
            try {
                return task.call();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        try {
            return executor.submit(task).get(10, TimeUnit.SECONDS);
        } catch (RejectedExecutionException e) {
            return fallback;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the room executor", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("room task failed", e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("room executor did not answer within 10 s", e);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Signaling (room executor)
    // ---------------------------------------------------------------------------------------------

    /** JOIN with an already verified token. */
    void join(SignalHandler conn, Message.Join j) {
        if (shuttingDown || !conn.isActive()) {
            return; // the client is gone, or the server is closing and tells every connection itself
        }
        admit(conn, new RoomKey(j.appKey(), j.channel()), j.uid(), j.mediaKey(), false);
    }

    /**
     * Creates a fresh session for {@code uid} in the room {@code key} (JOIN, or RESUME after grace)
     * and replies with the presence snapshot ended by JOIN_OK (or RESUME_OK resumed=0).
     */
    private void admit(SignalHandler conn, RoomKey key, long uid, long mediaKey, boolean viaResume) {
        Room room = rooms.get(key);
        if (room == null) {
            room = new Room(key, nextChannelId++);
            rooms.put(key, room);
        }
        supersedeTombstone(key, uid);
        Session s = new Session(newSessionId(), newSecret(), room, uid, mediaKey);
        sessions.put(s.id, s);
        s.connect(conn);
        conn.session = s;
        Session old = room.members.put(uid, s);
        if (old != null) {
            // Newest login wins. The uid stays present, so peers see neither a leave nor a join.
            log.debug("{} replaces {} (same uid joined again)", s, old);
            endSession(old, ErrorCodes.SAME_UID_LOGIN, "same uid joined elsewhere");
        }
        registerMediaKey(s, mediaKey);
        Message reply = viaResume
                ? new Message.ResumeOk(room.channelId, false, s.id, s.secret, conn.mediaHost(), conn.mediaPort())
                : new Message.JoinOk(room.channelId, s.id, s.secret, conn.mediaHost(), conn.mediaPort(),
                        System.currentTimeMillis());
        replyWithSnapshot(conn, reply, s);
        if (old == null) {
            fanOut(room, new Message.PeerJoined(uid), s);
        }
        conn.attach(s);
        media.keyRegistered(mediaKey, s);
        stats.joins.increment();
        log.debug("{} joined (channelId {}, {} members)", s, room.channelId, room.members.size());
    }

    void resume(SignalHandler conn, Message.Resume r) {
        if (shuttingDown || !conn.isActive()) {
            return;
        }
        byte[] secret = r.sessionSecret();
        Session s = sessions.get(r.sessionId());
        if (s != null && MessageDigest.isEqual(s.secret, secret)) {
            SignalHandler old = s.conn;
            if (old != null && old != conn) {
                old.session = null;
                old.closeSilently(); // replaced by its own resume: never a duplicate login
            }
            s.connect(conn);
            conn.session = s;
            s.touch();
            registerMediaKey(s, r.mediaKey());
            replyWithSnapshot(conn, new Message.ResumeOk(s.room.channelId, true, s.id, s.secret, conn.mediaHost(),
                    conn.mediaPort()), s);
            conn.attach(s);
            media.keyRegistered(r.mediaKey(), s);
            stats.resumes.increment();
            log.debug("{} resumed", s);
            return;
        }
        Tombstone t = tombstones.get(r.sessionId());
        if (t != null && MessageDigest.isEqual(t.secret, secret)) {
            forget(t);
            if (t.resumable()) {
                log.debug("session {} resumed after its grace period: admitted afresh", Long.toHexString(t.sessionId));
                admit(conn, t.key, t.uid, r.mediaKey(), true);
            } else {
                conn.sendAndClose(new Message.SessionEnd(t.endCode, t.endMessage));
            }
            return;
        }
        stats.joinRejects.increment();
        conn.sendAndClose(new Message.JoinErr(ErrorCodes.INVALID_TOKEN, "unknown session or wrong secret"));
    }

    void leave(SignalHandler conn) {
        Session s = conn.session;
        conn.session = null;
        conn.sendAndClose(Message.LeaveOk.INSTANCE);
        if (s == null || s.conn != conn || s.removed) {
            return; // nothing (left) to leave: the JOIN failed, or this connection was already replaced
        }
        s.disconnect();
        removeSession(s);
        fanOut(s.room, new Message.PeerLeft(s.uid, Message.PeerLeft.REASON_NORMAL), null);
        log.debug("{} left", s);
    }

    /** PING that arrived before the connection was attached (answered here to keep it behind JOIN_OK). */
    void ping(SignalHandler conn, long nonce) {
        Session s = conn.session;
        if (s != null && s.conn == conn) {
            s.touch();
            conn.send(new Message.Pong(nonce));
        }
    }

    void connectionClosed(SignalHandler conn) {
        Session s = conn.session;
        if (s == null) {
            return;
        }
        conn.session = null;
        if (s.conn == conn && !s.removed) {
            s.disconnect();
            log.debug("{} lost its connection, in grace", s);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Administration and queries (room executor)
    // ---------------------------------------------------------------------------------------------

    boolean kick(RoomKey key, long uid) {
        Room room = rooms.get(key);
        Session s = room == null ? null : room.members.get(uid);
        if (s == null) {
            return false;
        }
        endSession(s, ErrorCodes.SERVER_KICKED, "kicked by the server");
        fanOut(room, new Message.PeerLeft(uid, Message.PeerLeft.REASON_KICKED), null);
        log.debug("{} kicked", s);
        return true;
    }

    boolean closeChannel(RoomKey key) {
        Room room = rooms.get(key);
        if (room == null) {
            return false;
        }
        for (Session s : new ArrayList<>(room.members.values())) {
            endSession(s, ErrorCodes.CHANNEL_CLOSED, "channel closed by the server");
        }
        rooms.remove(key, room);
        log.debug("{} closed", room);
        return true;
    }

    Set<Long> members(RoomKey key) {
        Room room = rooms.get(key);
        return room == null ? Set.of() : Set.copyOf(room.members.keySet());
    }

    OptionalLong channelId(RoomKey key) {
        Room room = rooms.get(key);
        return room == null ? OptionalLong.empty() : OptionalLong.of(room.channelId);
    }

    int sessionCount() {
        return sessions.size();
    }

    /** Stops admitting; the server then tells every connection itself. */
    void shutdown() {
        shuttingDown = true;
    }

    // ---------------------------------------------------------------------------------------------
    // Timers (room executor)
    // ---------------------------------------------------------------------------------------------

    void sweep() {
        long now = System.nanoTime();
        List<Session> expired = null;
        for (Session s : sessions.values()) {
            long silent = now - s.lastHeardNanos;
            if (s.conn != null && silent > idleNanos) {
                log.debug("{} silent for {} ms, closing its connection", s, TimeUnit.NANOSECONDS.toMillis(silent));
                SignalHandler c = s.conn;
                s.disconnect();
                c.session = null;
                c.closeSilently();
                stats.idleDisconnects.increment();
            }
            if (s.conn == null && silent > graceNanos) {
                if (expired == null) {
                    expired = new ArrayList<>();
                }
                expired.add(s);
            }
        }
        if (expired != null) {
            for (Session s : expired) {
                removeSession(s);
                remember(s, 0, null);
                fanOut(s.room, new Message.PeerLeft(s.uid, Message.PeerLeft.REASON_TIMEOUT), null);
                stats.graceExpiries.increment();
                log.debug("{} expired after its grace period", s);
            }
        }
        pruneTombstones(now);
    }

    // ---------------------------------------------------------------------------------------------
    // Internals (room executor)
    // ---------------------------------------------------------------------------------------------

    /** Ends {@code s} by the server's decision: SESSION_END to its connection, if any; no fan-out. */
    private void endSession(Session s, int code, String message) {
        SignalHandler c = s.conn;
        if (c != null) {
            s.disconnect();
            c.session = null;
            c.sendAndClose(new Message.SessionEnd(code, message));
        }
        removeSession(s);
        remember(s, code, message);
    }

    private void removeSession(Session s) {
        s.removed = true;
        sessions.remove(s.id, s);
        bindings.remove(s.mediaKey, s);
        Room room = s.room;
        room.members.remove(s.uid, s);
        if (room.members.isEmpty()) {
            rooms.remove(room.key, room);
        }
    }

    private void registerMediaKey(Session s, long key) {
        if (s.mediaKey != key) {
            bindings.remove(s.mediaKey, s);
            s.mediaKey = key;
        }
        Session previous = bindings.put(key, s);
        if (previous != null && previous != s) {
            log.warn("mediaKey {} of {} reused by {}: the binding moves to the newer session",
                    Long.toHexString(key), previous, s);
        }
    }

    /**
     * The presence snapshot, then the reply that ends it (docs/PROTOCOL.md): one PEER_JOINED per
     * other member (connected or in grace), then JOIN_OK/RESUME_OK, in one write.
     */
    private void replyWithSnapshot(SignalHandler conn, Message reply, Session self) {
        Room room = self.room;
        ByteBuf buf = alloc.buffer(128 + 14 * room.members.size());
        try {
            for (Session m : room.members.values()) {
                if (m != self) {
                    WireCodec.encode(new Message.PeerJoined(m.uid), buf);
                }
            }
            WireCodec.encode(reply, buf);
        } catch (RuntimeException e) {
            buf.release();
            throw e;
        }
        conn.send(buf);
    }

    /** Sends {@code m} to every connected member of {@code room} except {@code except}: encoded once. */
    private void fanOut(Room room, Message m, Session except) {
        int audience = room.members.size() - (except != null && room.members.get(except.uid) == except ? 1 : 0);
        if (audience <= 0) {
            return;
        }
        ByteBuf frame = WireCodec.encode(m, alloc);
        try {
            for (Session peer : room.members.values()) {
                SignalHandler c = peer.conn;
                if (peer == except || c == null) {
                    continue;
                }
                if (!c.isWritable()) {
                    // Megabytes of unread presence events: the client is not reading. Treat as dropped.
                    log.warn("{} does not read its signaling connection, dropping it", peer);
                    peer.disconnect();
                    c.session = null;
                    c.closeSilently();
                    continue;
                }
                c.send(frame.retainedDuplicate());
            }
        } finally {
            frame.release();
        }
    }

    private long newSessionId() {
        long id;
        do {
            id = random.nextLong();
        } while (id == 0 || sessions.containsKey(id) || tombstones.containsKey(id));
        return id;
    }

    private byte[] newSecret() {
        byte[] b = new byte[WireCodec.SECRET_LEN];
        random.nextBytes(b);
        return b;
    }

    /** Remembers an ended session: {@code code == 0} for an expiry (resumable afresh). */
    private void remember(Session s, int code, String message) {
        if (retentionNanos <= 0 || shuttingDown) {
            return;
        }
        Tombstone t = new Tombstone(s, code, message, System.nanoTime());
        tombstones.put(t.sessionId, t);
        if (t.resumable()) {
            Tombstone prev = resumableByIdentity.put(new Tombstone.Identity(t.key, t.uid), t);
            if (prev != null) {
                supersede(prev);
            }
        }
        if (tombstones.size() > MAX_TOMBSTONES) {
            forget(tombstones.values().iterator().next());
        }
    }

    /** A newer session of (key, uid) exists: an older expired one may no longer come back. */
    private void supersedeTombstone(RoomKey key, long uid) {
        if (resumableByIdentity.isEmpty()) {
            return;
        }
        Tombstone t = resumableByIdentity.remove(new Tombstone.Identity(key, uid));
        if (t != null) {
            supersede(t);
        }
    }

    private static void supersede(Tombstone t) {
        t.endCode = ErrorCodes.SAME_UID_LOGIN;
        t.endMessage = "same uid joined elsewhere";
    }

    private void forget(Tombstone t) {
        tombstones.remove(t.sessionId, t);
        resumableByIdentity.remove(new Tombstone.Identity(t.key, t.uid), t);
    }

    private void pruneTombstones(long now) {
        for (Iterator<Tombstone> it = tombstones.values().iterator(); it.hasNext(); ) {
            Tombstone t = it.next();
            if (now - t.createdNanos <= retentionNanos) {
                break; // insertion order = age order
            }
            it.remove();
            resumableByIdentity.remove(new Tombstone.Identity(t.key, t.uid), t);
        }
    }
}
