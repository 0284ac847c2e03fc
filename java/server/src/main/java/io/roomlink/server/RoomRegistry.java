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
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The room and session state of one shard (see {@link RoomShards}: a room and all its sessions
 * belong to one shard), and every rule that changes it. Every method except {@link #post} and
 * {@link #call} runs on the shard's serial room executor, so the state needs no locks; I/O threads
 * hand messages over with {@link #post}, in order per connection.
 *
 * <p>Presence ("present = fully connected", docs/PROTOCOL.md): a session admitted by JOIN (or by
 * a RESUME that made a fresh session) is <em>pending</em>: its client gets its snapshot and
 * JOIN_OK/RESUME_OK at once and from then on every presence event, but its peers see nothing. It
 * becomes visible (fan-out PEER_JOINED, listed in snapshots) once a media BIND for its current
 * mediaKey arrives while its connection is attached and both paths were heard within the grace
 * period. A pending session that loses its connection is dropped without a word (peers never saw
 * it). A visible session is as healthy as its worse path: it expires at
 * {@code min(last signal frame, last media datagram from its bound address) + grace}, whether or
 * not a connection is attached; its peers get PEER_LEFT(TIMEOUT) and an attached connection is
 * closed silently (to the client, just another drop). So a cut of either path, or both, shows
 * after grace + at most one sweep, and a short outage of either path shows nothing.
 *
 * <p>Its helpers each own one piece of bookkeeping: {@link Attachment} links a session and its
 * connection, {@link MediaBindings} maps mediaKeys to sessions, {@link Tombstones} remembers
 * ended sessions for late RESUMEs. The rules of presence stay here.
 *
 * <p>Timing: one sweep every {@link #SWEEP_MILLIS} ms closes connections that have been silent
 * (no signal frame and no media datagram) for the idle timeout, expires visible sessions whose
 * last healthy moment is older than the grace period, and makes visible the pending sessions that
 * are bound but were not healthy when their BIND arrived. Cost: O(sessions) per sweep, no
 * per-session timers.
 */
final class RoomRegistry {
    private static final Logger log = LoggerFactory.getLogger(RoomRegistry.class);

    static final long SWEEP_MILLIS = 100;
    /** Upper bound on remembered ended sessions (oldest forgotten first). */
    static final int MAX_TOMBSTONES = 100_000;

    private final EventExecutor executor;
    private final int shardIndex;
    private final int shardCount;
    /** Shared by all shards: channel ids are unique server-wide. */
    private final AtomicLong channelIds;
    private final MediaBindings bindings;
    private final MediaHandler media;
    private final ServerStats stats;
    private final ByteBufAllocator alloc;
    private final long graceNanos;
    private final long idleNanos;
    private final RoomCaps caps;
    private final SecureRandom random = new SecureRandom();
    private final CredentialPolicy credentials;

    // Room executor only.
    private final Map<RoomKey, Room> rooms = new HashMap<>();
    /** Linked: the sweep walks every session ten times a second, and a linked map iterates without scanning empty buckets. */
    private final Map<Long, Session> sessions = new LinkedHashMap<>();
    private final Tombstones tombstones;
    private boolean shuttingDown;

    RoomRegistry(EventExecutor executor, int shardIndex, int shardCount, AtomicLong channelIds,
                 MediaBindings bindings, MediaHandler media, ServerStats stats, ByteBufAllocator alloc,
                 long graceNanos, long idleNanos, long retentionNanos, CredentialPolicy credentials,
                 RoomCaps caps) {
        this.executor = executor;
        this.caps = caps;
        this.shardIndex = shardIndex;
        this.shardCount = shardCount;
        this.channelIds = channelIds;
        this.bindings = bindings;
        this.media = media;
        this.stats = stats;
        this.alloc = alloc;
        this.graceNanos = graceNanos;
        this.idleNanos = idleNanos;
        this.tombstones = new Tombstones(retentionNanos, MAX_TOMBSTONES);
        this.credentials = credentials;
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
        admit(conn, new RoomKey(j.appKey(), j.channel()), j.uid(), j.mediaKey(), j.mediaSecret(), false,
                credentials.sessionExpiry(j.token()), 0);
    }

    /**
     * Creates a fresh session for {@code uid} in the room {@code key} (JOIN, or RESUME after grace)
     * and replies with the presence snapshot ended by JOIN_OK (or RESUME_OK resumed=0).
     */
    private void admit(SignalHandler conn, RoomKey key, long uid, long mediaKey, byte[] mediaSecret,
                       boolean viaResume, long tokenExpiresAt, long accepted) {
        Room room = rooms.get(key);
        if (room != null && room.members.containsKey(uid)
                && credentials.sameUidPolicy == SameUidPolicy.REJECT_NEWCOMER) {
            // The live session carries on untouched; the newcomer may be a replayed (stolen) token.
            log.debug("JOIN for uid {} in {}/{} refused: the uid is in the channel (REJECT_NEWCOMER)",
                    Long.toUnsignedString(uid), key.appKey(), key.channel());
            stats.joinRejects.increment();
            stats.sameUidRejects.increment();
            conn.sendAndClose(new Message.JoinErr(ErrorCodes.SAME_UID_REJECTED, "uid already in the channel"));
            return;
        }
        if (room == null) {
            if (!caps.tryOpenChannel()) {
                refuse(conn, stats.channelLimitRejects, "the server holds its maximum of channels");
                return;
            }
            room = new Room(key, channelIds.getAndIncrement());
            rooms.put(key, room);
        } else if (room.members.size() >= caps.maxMembersPerChannel && !room.members.containsKey(uid)) {
            refuse(conn, stats.channelFullRejects, "the channel is full");
            return;
        }
        tombstones.supersede(key, uid);
        Session s = new Session(newSessionId(), newSecret(), room, uid, mediaKey, caps.replayBufferBytes);
        s.tokenExpiresAt = tokenExpiresAt;
        s.accepted = accepted; // an expired session's sender queue goes on where it was taken up to
        s.ackSent = accepted;
        sessions.put(s.id, s);
        Attachment.attach(s, conn);
        Session old = room.members.put(uid, s);
        if (old != null) {
            // Newest login wins. A visible uid stays visible (the newcomer inherits it, its health
            // clocks start now), so peers see neither a leave nor a join.
            s.visible = old.visible;
            log.debug("{} replaces {} (same uid joined again)", s, old);
            endSession(old, ErrorCodes.SAME_UID_LOGIN, "same uid joined elsewhere");
        }
        registerKey(s, mediaKey, mediaSecret);
        Message reply = viaResume
                ? new Message.ResumeOk(room.channelId, false, s.id, s.secret, conn.mediaHost(), conn.mediaPort(),
                        accepted)
                : new Message.JoinOk(room.channelId, s.id, s.secret, conn.mediaHost(), conn.mediaPort(),
                        System.currentTimeMillis());
        stats.joins.increment(); // before the answer, as for resumes
        replyWithSnapshot(conn, reply, s);
        // Peers learn of the newcomer once its media is bound too (mediaBound → promoteIfReady).
        media.keyRegistered(mediaKey, s);
        if (log.isDebugEnabled()) {
            log.debug("{} joined (channelId {}, {} sessions)", s, room.channelId, room.members.size());
        }
    }

    /**
     * Registers the key a JOIN/RESUME named. A key another live session holds stays with it: the
     * newcomer can only hurt itself (docs/PROTOCOL.md). Warned about at most once a second, since a
     * client with valid credentials could otherwise flood the log; the counter has every one.
     */
    private void registerKey(Session s, long mediaKey, byte[] mediaSecret) {
        if (!bindings.register(s, mediaKey, mediaSecret)) {
            stats.mediaKeyConflicts.increment();
            long now = System.nanoTime();
            long last = lastConflictWarnNanos;
            if (last == 0 || now - last > 1_000_000_000L) {
                lastConflictWarnNanos = now;
                log.warn("{} named mediaKey {}, held by {}: the key stays with its holder ({} conflicts so far)",
                        s, Long.toHexString(mediaKey), bindings.session(mediaKey), stats.mediaKeyConflicts.sum());
            }
        }
    }

    /** Any room executor (a racy read is fine: it only paces a log line). */
    private volatile long lastConflictWarnNanos;

    /** JOIN_ERR(31022): a server limit, counted in {@code counter}. */
    private void refuse(SignalHandler conn, LongAdder counter, String why) {
        counter.increment();
        stats.joinRejects.increment();
        log.debug("{}: join refused: {}", conn, why);
        conn.sendAndClose(new Message.JoinErr(ErrorCodes.SERVER_LIMIT, why));
    }

    void resume(SignalHandler conn, Message.Resume r) {
        if (shuttingDown || !conn.isActive()) {
            return;
        }
        byte[] secret = r.sessionSecret();
        Session s = sessions.get(r.sessionId());
        if (s != null && MessageDigest.isEqual(s.secret, secret) && s.visible
                && System.nanoTime() - s.lastHealthyNanos() > graceNanos) {
            expire(s); // its grace ran out just before this sweep would have noticed: same as a late RESUME
            s = null;
        }
        if (s != null && MessageDigest.isEqual(s.secret, secret)) {
            if (!s.stream.canResumeAt(r.lastReceived())) {
                // Below what the client acknowledged, or beyond what was sent: the session is untouched.
                stats.protocolErrors.increment();
                log.debug("{}: RESUME with lastReceived {} outside {}..{}", s,
                        Long.toUnsignedString(r.lastReceived()), s.stream.acked(), s.stream.appended());
                conn.sendAndClose(new Message.Error(ErrorCodes.PROTOCOL, "lastReceived outside "
                        + s.stream.acked() + ".." + s.stream.appended()));
                return;
            }
            SignalHandler old = Attachment.attach(s, conn);
            if (old != null) {
                old.closeSilently(); // replaced by its own resume: never a duplicate login
            }
            s.touchSignal(); // the signal side only: a new mediaKey is healthy once it is bound
            // A fresh secret at every resume: one sniffed or leaked earlier is dead from now on.
            s.secret = newSecret();
            registerKey(s, r.mediaKey(), r.mediaSecret());
            stats.resumes.increment(); // before the answer: whoever sees RESUME_OK sees it counted
            // No snapshot: the receiver stream's replay after RESUME_OK carries every change in order.
            List<ByteBuf> replay = s.stream.replayAfter(r.lastReceived());
            s.ackSent = s.accepted;
            s.ackDue = false;
            s.ackAgain = false;
            conn.sendAndAttach(WireCodec.encode(new Message.ResumeOk(s.room.channelId, true, s.id, s.secret,
                    conn.mediaHost(), conn.mediaPort(), s.accepted), alloc), replay, s);
            media.keyRegistered(r.mediaKey(), s);
            log.debug("{} resumed", s);
            return;
        }
        Tombstone t = tombstones.get(r.sessionId());
        if (t != null && MessageDigest.isEqual(t.secret, secret)) {
            tombstones.forget(t);
            if (t.resumable() && t.tokenExpiresAt != 0
                    && TokenExpiry.expired(t.tokenExpiresAt, CredentialPolicy.nowMillis())) {
                // Its token ran out while it was away: a fresh session would only be ended at once.
                stats.tokenExpiries.increment();
                conn.sendAndClose(new Message.SessionEnd(ErrorCodes.TOKEN_EXPIRED, "token expired"));
            } else if (t.resumable()) {
                log.debug("session {} resumed after its grace period: admitted afresh", Long.toHexString(t.sessionId));
                admit(conn, t.key, t.uid, r.mediaKey(), r.mediaSecret(), true, t.tokenExpiresAt, t.accepted);
            } else {
                conn.sendAndClose(new Message.SessionEnd(t.endCode, t.endMessage));
            }
            return;
        }
        stats.joinRejects.increment();
        conn.sendAndClose(new Message.JoinErr(ErrorCodes.INVALID_TOKEN, "unknown session or wrong secret"));
    }

    void leave(SignalHandler conn) {
        Session s = Attachment.detach(conn);
        conn.sendAndClose(Message.LeaveOk.INSTANCE);
        if (s == null || s.removed) {
            return; // nothing (left) to leave: the JOIN failed, or this connection was already replaced
        }
        removeSession(s);
        if (s.visible) {
            fanOut(s.room, new Message.PeerLeft(s.uid, Message.PeerLeft.REASON_NORMAL), null);
        }
        log.debug("{} left", s);
    }

    /** PING that arrived before the connection was attached (answered here to keep it behind JOIN_OK). */
    void ping(SignalHandler conn, long nonce) {
        Session s = conn.session;
        if (s != null && s.conn == conn) {
            s.touchSignal();
            conn.send(new Message.Pong(nonce));
        }
    }

    /**
     * RENEW_TOKEN: a token for the same appKey, channel and uid replaces the session's. Accepted,
     * the session's expiry moves to the new token's (when expiry is enforced) and a new warning
     * will come before it; refused, the session keeps its old expiry. Either way the answer is
     * RENEW_TOKEN_RESULT. Over its address's token-check rate ({@code withinRate} false) it is
     * refused with 31022 without being checked.
     */
    void renewToken(SignalHandler conn, String token, boolean withinRate) {
        Session s = conn.session;
        if (s == null || s.conn != conn || s.removed) {
            return; // replaced or ended meanwhile: nothing to renew on this connection
        }
        if (!withinRate) {
            stats.tokenRenewalRateRejects.increment();
            conn.send(new Message.RenewTokenResult(ErrorCodes.SERVER_LIMIT, s.tokenExpiresAt));
            return;
        }
        RoomKey key = s.room.key;
        TokenVerifier.Result r = credentials.verifier.verify(key.appKey(), key.channel(), s.uid, token,
                java.time.Instant.now());
        if (r != TokenVerifier.Result.OK) {
            stats.tokenRenewalRejects.increment();
            log.debug("{}: token renewal refused: {}", s, r.message());
            conn.send(new Message.RenewTokenResult(ErrorCodes.INVALID_TOKEN, s.tokenExpiresAt));
            return;
        }
        long expiry = credentials.sessionExpiry(token);
        s.tokenExpiresAt = expiry;
        s.expiryWarned = false;
        stats.tokenRenewals.increment();
        log.debug("{}: token renewed{}", s, expiry == 0 ? "" : ", session now expires at " + expiry);
        conn.send(new Message.RenewTokenResult(0, expiry));
    }

    // ---------------------------------------------------------------------------------------------
    // Room messages (room executor); docs/PROTOCOL.md "Room messages"
    // ---------------------------------------------------------------------------------------------

    /**
     * MESSAGE: accepted if its seq follows the last one received; a retransmission is dropped (and
     * acknowledged again at the end of the batch), a gap is a protocol error. A message from a
     * pending session is held until the session is visible, after its PEER_JOINED.
     */
    void message(SignalHandler conn, Message.MessageFrame m) {
        Session s = conn.session;
        if (s == null || s.conn != conn || s.removed) {
            return; // replaced or ended meanwhile
        }
        s.ackDue = true;
        long next = s.nextSeq();
        if (Long.compareUnsigned(m.seq(), next) < 0) {
            stats.duplicateMessages.increment();
            s.ackAgain = true;
            return;
        }
        if (m.seq() != next) {
            stats.protocolErrors.increment();
            connectionError(s, ErrorCodes.PROTOCOL, "MESSAGE seq " + Long.toUnsignedString(m.seq())
                    + " leaves a gap: expected " + Long.toUnsignedString(next));
            return;
        }
        if (!s.takeMessageBytes(m.data().length, caps.maxMessageBytesPerSecond, System.nanoTime())) {
            stats.messageRateRejects.increment();
            log.debug("{} sends messages faster than {} bytes/s, closing its connection", s,
                    caps.maxMessageBytesPerSecond);
            connectionError(s, ErrorCodes.SERVER_LIMIT, "message rate");
            return;
        }
        if (!s.visible) {
            if (s.held == null) {
                s.held = new java.util.ArrayDeque<>();
            }
            s.held.addLast(m); // bounded by the rate limit: at most two seconds' worth
            return;
        }
        take(s, m);
    }

    /** The end of a batch of frames from {@code conn}: MESSAGE_ACK for what was taken (or retransmitted). */
    void batchEnd(SignalHandler conn) {
        Session s = conn.session;
        if (s != null && s.conn == conn && !s.removed) {
            sendAck(s);
        }
    }

    /** STREAM_ACK: drops what it covers from the replay buffer; beyond what was sent is a protocol error. */
    void streamAck(SignalHandler conn, long seq) {
        Session s = conn.session;
        if (s == null || s.conn != conn || s.removed) {
            return;
        }
        if (!s.stream.ack(seq)) {
            stats.protocolErrors.increment();
            connectionError(s, ErrorCodes.PROTOCOL, "STREAM_ACK " + Long.toUnsignedString(seq)
                    + " beyond the last item sent, " + s.stream.appended());
        }
    }

    /** Appends {@code m} of the visible session {@code s} to the stream of every addressee: it is taken. */
    private void take(Session s, Message.MessageFrame m) {
        Room room = s.room;
        if (m.target() == Message.MessageFrame.TARGET_ALL) {
            toStreams(room, WireCodec.encodeRoomMessage(s.uid, 0, m.data(), alloc), s, true);
        } else {
            Session to = room.members.get(m.toUid());
            if (to == null || to == s) {
                stats.messagesToAbsentUid.increment();
            } else {
                toStream(to, WireCodec.encodeRoomMessage(s.uid, 1, m.data(), alloc), true);
            }
        }
        s.accepted = m.seq();
        stats.messagesAccepted.increment();
    }

    /** MESSAGE_ACK(accepted) if a MESSAGE came since the last one and there is news, or a retransmission. */
    private void sendAck(Session s) {
        if (!s.ackDue) {
            return;
        }
        s.ackDue = false;
        if ((s.accepted != s.ackSent || s.ackAgain) && s.accepted != 0 && s.conn != null) {
            s.conn.send(new Message.MessageAck(s.accepted));
            s.ackSent = s.accepted;
        }
        s.ackAgain = false;
    }

    /** A protocol error or a limit found by the room executor: ERROR to the connection, which is closed. */
    private void connectionError(Session s, int code, String reason) {
        log.debug("{}: {} ({}), closing its connection", s, reason, code);
        SignalHandler c = Attachment.detach(s);
        if (c != null) {
            c.sendAndClose(new Message.Error(code, reason));
        }
        connectionLost(s);
    }

    /**
     * The media loop accepted a BIND of {@code key} for {@code s} (posted before its BIND_ACK was
     * written, so a query issued after the ACK sees the outcome).
     */
    void mediaBound(Session s, long key) {
        if (s.removed || !bindings.bound(s, key)) {
            return; // ended meanwhile, or a RESUME has named another key since
        }
        promoteIfReady(s, System.nanoTime());
    }

    void connectionClosed(SignalHandler conn) {
        Session s = Attachment.detach(conn);
        if (s != null && !s.removed) {
            connectionLost(s);
        }
    }

    /** The session's connection is gone (already detached): a visible session goes to grace, a pending one is dropped. */
    private void connectionLost(Session s) {
        if (s.visible) {
            log.debug("{} lost its connection, in grace", s);
            return;
        }
        // Its peers never saw it: nothing to tell them. Remembered as expired, so that its RESUME
        // gets a fresh session (resumed=0) rather than JOIN_ERR.
        removeSession(s);
        remember(s, 0, null);
        log.debug("{} lost its connection before its media was bound, dropped", s);
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
        if (s.visible) {
            fanOut(room, new Message.PeerLeft(uid, Message.PeerLeft.REASON_KICKED), null);
        }
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
        if (rooms.remove(key, room)) {
            caps.channelClosed();
        }
        log.debug("{} closed", room);
        return true;
    }

    /** The visible members (connected or in grace); pending sessions are not listed. */
    Set<Long> members(RoomKey key) {
        Room room = rooms.get(key);
        if (room == null) {
            return Set.of();
        }
        Set<Long> visible = new HashSet<>();
        for (Session s : room.members.values()) {
            if (s.visible) {
                visible.add(s.uid);
            }
        }
        return Set.copyOf(visible);
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
        List<Session> idle = null;
        List<Session> expired = null;
        List<Session> promotable = null;
        List<Session> tokenDue = null;
        long nowMillis = credentials.enforceTokenExpiry ? CredentialPolicy.nowMillis() : 0;
        // Classify first, act afterwards: acting may remove sessions (and fan-out may drop peers).
        for (Session s : sessions.values()) {
            if (s.conn != null && now - s.lastHeardNanos() > idleNanos) {
                idle = add(idle, s);
            }
            if (s.visible) {
                if (now - s.lastHealthyNanos() > graceNanos) {
                    expired = add(expired, s);
                }
            } else if (s.mediaBound && s.conn != null) {
                promotable = add(promotable, s); // bound, but a path was stale when its BIND came
            }
            if (s.tokenExpiresAt != 0 && TokenExpiry.due(s, nowMillis, credentials.warningLeadMillis)) {
                tokenDue = add(tokenDue, s);
            }
        }
        if (idle != null) {
            for (Session s : idle) {
                if (s.removed || s.conn == null) {
                    continue;
                }
                log.debug("{} silent for {} ms, closing its connection", s,
                        TimeUnit.NANOSECONDS.toMillis(now - s.lastHeardNanos()));
                Attachment.detach(s).closeSilently();
                stats.idleDisconnects.increment();
                connectionLost(s);
            }
        }
        if (expired != null) {
            for (Session s : expired) {
                if (!s.removed) {
                    expire(s);
                }
            }
        }
        if (promotable != null) {
            for (Session s : promotable) {
                promoteIfReady(s, now);
            }
        }
        if (tokenDue != null) {
            for (Session s : tokenDue) {
                if (!s.removed) {
                    tokenDue(s, nowMillis);
                }
            }
        }
        tombstones.prune(now);
    }

    /** The session's token expires soon (warn it once) or has expired (end the session). */
    private void tokenDue(Session s, long nowMillis) {
        if (TokenExpiry.expired(s, nowMillis)) {
            log.debug("{}: token expired at {} and was not renewed, ending the session", s, s.tokenExpiresAt);
            stats.tokenExpiries.increment();
            endSession(s, ErrorCodes.TOKEN_EXPIRED, "token expired");
            if (s.visible) {
                fanOut(s.room, new Message.PeerLeft(s.uid, Message.PeerLeft.REASON_KICKED), null);
            }
            return;
        }
        if (s.conn != null) { // in grace: warned once it is back
            s.expiryWarned = true;
            s.conn.send(new Message.TokenWillExpire(s.tokenExpiresAt));
        }
    }

    private static List<Session> add(List<Session> list, Session s) {
        List<Session> l = list == null ? new ArrayList<>() : list;
        l.add(s);
        return l;
    }

    // ---------------------------------------------------------------------------------------------
    // Internals (room executor)
    // ---------------------------------------------------------------------------------------------

    /**
     * The grace of a visible session ran out (docs/PROTOCOL.md): PEER_LEFT(TIMEOUT) to its peers,
     * remembered as expired (a later RESUME gets a fresh session), and an attached connection is
     * closed without a word: to the client this is just another drop.
     */
    private void expire(Session s) {
        SignalHandler c = Attachment.detach(s);
        if (c != null) {
            c.closeSilently();
        }
        removeSession(s);
        remember(s, 0, null);
        fanOut(s.room, new Message.PeerLeft(s.uid, Message.PeerLeft.REASON_TIMEOUT), null);
        stats.graceExpiries.increment();
        log.debug("{} expired: nothing heard on {} path for the grace period{}", s,
                s.lastSignalNanos - s.lastMediaNanos < 0 ? "its signal" : "its media",
                c != null ? ", closed its connection" : "");
    }

    /**
     * Makes a pending session visible once it is fully connected: connection attached, media
     * bound under its current key, and both paths heard within the grace period (so that it is
     * never shown only to expire at the next sweep).
     */
    private void promoteIfReady(Session s, long now) {
        if (s.visible || s.removed || s.conn == null || !s.mediaBound
                || now - s.lastHealthyNanos() > graceNanos) {
            return;
        }
        s.visible = true;
        fanOut(s.room, new Message.PeerJoined(s.uid), s);
        log.debug("{} fully connected: visible to its peers", s);
        java.util.ArrayDeque<Message.MessageFrame> held = s.held;
        if (held != null) {
            // What it sent while pending reaches its peers right after its PEER_JOINED.
            s.held = null;
            for (Message.MessageFrame m : held) {
                take(s, m);
            }
            s.ackDue = true;
            sendAck(s);
        }
    }

    /** Ends {@code s} by the server's decision: SESSION_END to its connection, if any; no fan-out. */
    private void endSession(Session s, int code, String message) {
        SignalHandler c = Attachment.detach(s);
        if (c != null) {
            c.sendAndClose(new Message.SessionEnd(code, message));
        }
        removeSession(s);
        remember(s, code, message);
    }

    private void removeSession(Session s) {
        s.removed = true;
        s.stream.clear();
        s.held = null;
        sessions.remove(s.id, s);
        bindings.remove(s);
        Room room = s.room;
        room.members.remove(s.uid, s);
        if (room.members.isEmpty() && rooms.remove(room.key, room)) {
            caps.channelClosed();
        }
    }

    /**
     * The presence snapshot, then the reply that ends it (docs/PROTOCOL.md): one PEER_JOINED per
     * other visible member (connected or in grace), then JOIN_OK/RESUME_OK, in one write; then
     * the connection answers PINGs itself.
     */
    private void replyWithSnapshot(SignalHandler conn, Message reply, Session self) {
        Room room = self.room;
        ByteBuf buf = alloc.buffer(128 + 14 * room.members.size());
        try {
            for (Session m : room.members.values()) {
                if (m != self && m.visible) {
                    WireCodec.encode(new Message.PeerJoined(m.uid), buf);
                }
            }
            WireCodec.encode(reply, buf);
        } catch (RuntimeException e) {
            buf.release();
            throw e;
        }
        conn.sendAndAttach(buf, self);
    }

    /**
     * Appends presence {@code m} to the receiver stream of every session of {@code room} except
     * {@code except}, pending ones included (they hold a snapshot and must follow every change
     * after it) and those in grace (replayed when they resume): encoded once.
     */
    private void fanOut(Room room, Message m, Session except) {
        int audience = room.members.size() - (except != null && room.members.get(except.uid) == except ? 1 : 0);
        if (audience <= 0) {
            return;
        }
        toStreams(room, WireCodec.encode(m, alloc), except, false);
    }

    /**
     * Appends {@code frame} (ownership passes to this method) as the next item of the stream of
     * every session of {@code room} except {@code except}, and writes it to those attached: one
     * buffer, shared by every stream and connection. A session whose replay buffer would overflow
     * is ended (see {@link #overflow}).
     */
    private void toStreams(Room room, ByteBuf frame, Session except, boolean message) {
        List<Session> overflowed = null;
        try {
            List<SignalHandler> conns = new ArrayList<>(room.members.size());
            int delivered = 0;
            for (Session peer : room.members.values()) {
                if (peer == except) {
                    continue;
                }
                if (!peer.stream.append(frame)) {
                    overflowed = add(overflowed, peer);
                    continue;
                }
                delivered++;
                if (peer.conn != null) {
                    conns.add(peer.conn);
                }
            }
            if (message && delivered > 0) {
                stats.messageDeliveries.add(delivered);
            }
            if (!conns.isEmpty()) {
                SignalHandler.sendToAll(conns, frame.retain());
            }
        } finally {
            frame.release();
        }
        if (overflowed != null) {
            for (Session peer : overflowed) {
                overflow(peer);
            }
        }
    }

    /** {@link #toStreams} for one session. */
    private void toStream(Session to, ByteBuf frame, boolean message) {
        try {
            if (!to.stream.append(frame)) {
                overflow(to);
                return;
            }
            if (message) {
                stats.messageDeliveries.increment();
            }
            if (to.conn != null) {
                to.conn.sendFrame(frame.retainedDuplicate());
            }
        } finally {
            frame.release();
        }
    }

    /**
     * The replay buffer of {@code s} would overflow: attached, it ends with SESSION_END(31023);
     * in grace, it ends as on expiry (its RESUME gets resumed=0). Peers get PEER_LEFT(TIMEOUT) if
     * they saw it.
     */
    private void overflow(Session s) {
        if (s.removed) {
            return;
        }
        stats.replayOverflows.increment();
        log.debug("{}: replay buffer of {} bytes would overflow, ending the session", s, s.stream.bytes());
        if (s.conn != null) {
            endSession(s, ErrorCodes.REPLAY_OVERFLOW, "replay buffer overflow");
        } else {
            removeSession(s);
            remember(s, 0, null);
        }
        if (s.visible) {
            fanOut(s.room, new Message.PeerLeft(s.uid, Message.PeerLeft.REASON_TIMEOUT), null);
        }
    }

    /** A fresh random id that names this shard (see {@link RoomShards#forSession}). */
    private long newSessionId() {
        long id;
        do {
            id = Long.divideUnsigned(random.nextLong(), shardCount) * shardCount + shardIndex;
        } while (id == 0 || RoomShards.shardOfSession(id, shardCount) != shardIndex || sessions.containsKey(id)
                || tombstones.contains(id));
        return id;
    }

    /** The executor this shard's state is confined to. */
    EventExecutor executor() {
        return executor;
    }

    private byte[] newSecret() {
        byte[] b = new byte[WireCodec.SECRET_LEN];
        random.nextBytes(b);
        return b;
    }

    /** Remembers an ended session: {@code code == 0} for an expiry (resumable afresh). */
    private void remember(Session s, int code, String message) {
        if (!shuttingDown) {
            tombstones.remember(s, code, message, System.nanoTime());
        }
    }
}
