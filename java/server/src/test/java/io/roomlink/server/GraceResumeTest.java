package io.roomlink.server;

import io.roomlink.server.protocol.MediaCodec;
import io.roomlink.server.protocol.MediaPacket;
import io.roomlink.server.protocol.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Dropped connections, the grace period, RESUME and idle detection (grace = 1 s in tests).
 * "Present = fully connected": a visible member expires one grace period after the earlier of its
 * last signal frame and its last media datagram, whichever path went quiet, connected or not.
 */
class GraceResumeTest {
    private static final long GRACE_MS = TestServers.GRACE.toMillis();
    /** docs/PROTOCOL.md: peers hear of a long outage within grace + 1 s of the cut. */
    private static final long LATEST_MS = GRACE_MS + 1000;

    private final TestServers servers = new TestServers();

    @AfterEach
    void tearDown() throws Exception {
        servers.close();
    }

    private static long msSince(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
    }

    /** PEER_LEFT(uid, TIMEOUT) for {@code uid}, between grace - one keepalive period and grace + 1 s after {@code cut}. */
    private static void expectTimeoutLeave(TestClient peer, long uid, long cut) throws Exception {
        Message.PeerLeft left = peer.expect(Message.PeerLeft.class, Duration.ofSeconds(4));
        long elapsedMs = msSince(cut);
        assertEquals(uid, left.uid());
        assertEquals(Message.PeerLeft.REASON_TIMEOUT, left.reason());
        long earliest = GRACE_MS - TestServers.KEEPALIVE.toMillis() - 50;
        assertTrue(elapsedMs >= earliest, "PEER_LEFT " + elapsedMs + " ms after the cut, grace is " + GRACE_MS + " ms");
        assertTrue(elapsedMs <= LATEST_MS, "PEER_LEFT only " + elapsedMs + " ms after the cut");
    }

    @Test
    void dropWithoutLeaveExpiresAfterGraceAndNotBefore() throws Exception {
        MemberPair p = servers.startPair();
        p.a().media().stopKeepAlive();
        long lastSent = System.nanoTime();
        p.a().pingPong(1);
        p.a().abort();

        // Held for the grace period: present, no PEER_LEFT.
        p.b().expectSilence(Duration.ofMillis(700));
        assertEquals(Set.of(1L, 2L), p.server().members("app", "room"));
        Message.PeerLeft left = p.b().expect(Message.PeerLeft.class, Duration.ofSeconds(4));
        long elapsedMs = msSince(lastSent);
        assertEquals(1, left.uid());
        assertEquals(Message.PeerLeft.REASON_TIMEOUT, left.reason());
        assertTrue(elapsedMs >= 900, "PEER_LEFT after " + elapsedMs + " ms, grace is 1000 ms");
        assertEquals(Set.of(2L), p.server().members("app", "room"));
        assertEquals(1, p.server().sessionCount());
        assertEquals(1, p.server().stats().graceExpiries());
    }

    @Test
    void orderlyCloseWithoutLeaveAlsoGetsGrace() throws Exception {
        MemberPair p = servers.startPair();
        p.a().media().stopKeepAlive();
        p.a().close(); // FIN, no LEAVE
        p.b().expectSilence(Duration.ofMillis(600));
        assertEquals(Message.PeerLeft.REASON_TIMEOUT, p.b().expect(Message.PeerLeft.class).reason());
    }

    @Test
    void resumeWhileTheOldConnectionIsStillOpenReplacesItSilently() throws Exception {
        MemberPair p = servers.startPair();
        TestClient a2 = servers.client(p.server());
        Message.ResumeOk r = a2.resume(p.okA().sessionId(), p.okA().sessionSecret(), 9);
        assertTrue(r.resumed());
        assertEquals(p.okA().sessionId(), r.sessionId());
        // No snapshot after RESUME_OK(resumed=1): the stream's replay after lastReceived=0 says b joined.
        assertEquals(List.of(), a2.snapshot());
        assertEquals(2, a2.expect(Message.PeerJoined.class).uid());
        p.a().expectClosed(); // no SESSION_END: this is not a duplicate login
        a2.keepAlive(servers.keepAlives(), TestServers.KEEPALIVE);

        // Key 9 is not bound yet: the PINGs of the previous binding (key 1) keep the media side healthy.
        p.b().expectSilence(TestServers.GRACE.plusMillis(300));
        assertEquals(Set.of(1L, 2L), p.server().members("app", "room"));

        // Once key 9 is bound, the previous binding is retired: its PINGs go unanswered.
        MediaClient m2 = servers.media(p.server());
        m2.bind(9, 0);
        m2.ping(9, 1);
        MediaClient old = p.a().media();
        old.stopKeepAlive();
        old.send(new MediaPacket(MediaCodec.PING, 1, 2, 3));
        assertNull(old.receive(Duration.ofMillis(200)));
        a2.pingPong(5);
        assertEquals(Set.of(1L, 2L), p.server().members("app", "room"));
        assertEquals(2, p.server().sessionCount());
    }

    @Test
    void resumeOfAResumedSessionWorksAgain() throws Exception {
        RoomServer server = servers.start();
        TestClient a = servers.client(server);
        Message.JoinOk ok = a.join("app", "room", 1, "", 1);
        MediaClient m = servers.media(server);
        m.bind(1, 0);
        byte[] secret = ok.sessionSecret();
        for (int i = 0; i < 3; i++) {
            a.abort();
            a = servers.client(server);
            Message.ResumeOk r = a.resume(ok.sessionId(), secret, 100 + i);
            secret = r.sessionSecret(); // rotated at every RESUME_OK: the next resume needs this one
            assertEquals(List.of(), a.snapshot());
            assertTrue(r.resumed());
            assertEquals(ok.channelId(), r.channelId());
            m.bind(100 + i, i + 1);
        }
        assertEquals(1, server.sessionCount());
        assertEquals(Set.of(1L), server.members("app", "room"));
        assertEquals(3, server.stats().resumes());
    }

    @Test
    void unknownSessionOrWrongSecretGetsJoinErr() throws Exception {
        RoomServer server = servers.start();
        TestClient a = servers.client(server);
        Message.JoinOk ok = a.join("app", "room", 1, "", 1);

        TestClient c = servers.client(server);
        c.send(new Message.Resume(ok.sessionId() + 1, ok.sessionSecret(), 2, MediaClient.secret(2)));
        assertEquals(ErrorCodes.INVALID_TOKEN, c.expect(Message.JoinErr.class).code());
        c.expectClosed();

        byte[] wrong = ok.sessionSecret();
        wrong[0] ^= 1;
        TestClient d = servers.client(server);
        d.send(new Message.Resume(ok.sessionId(), wrong, 2, MediaClient.secret(2)));
        assertEquals(ErrorCodes.INVALID_TOKEN, d.expect(Message.JoinErr.class).code());
        d.expectClosed();
        a.pingPong(1); // the real session is untouched
    }

    @Test
    void resumeAfterGraceIsAdmittedAfreshAndShownOnceItsMediaIsBound() throws Exception {
        MemberPair p = servers.startPair();
        p.cutA();
        assertEquals(Message.PeerLeft.REASON_TIMEOUT, p.b().expect(Message.PeerLeft.class).reason());

        TestClient a2 = servers.client(p.server());
        Message.ResumeOk r = a2.resume(p.okA().sessionId(), p.okA().sessionSecret(), 5);
        assertFalse(r.resumed());
        assertEquals(p.okA().channelId(), r.channelId()); // the channel still exists (b is in it)
        assertNotEquals(p.okA().sessionId(), r.sessionId());
        assertEquals(List.of(2L), a2.snapshot());
        assertEquals(Set.of(2L), p.server().members("app", "room")); // pending: media not bound yet
        assertEquals(2, p.server().sessionCount());
        servers.media(p.server()).bind(5, 0);
        assertEquals(1, p.b().expect(Message.PeerJoined.class).uid());
        assertEquals(Set.of(1L, 2L), p.server().members("app", "room"));

        // The old secret is spent; the new one works.
        TestClient a3 = servers.client(p.server());
        a3.send(new Message.Resume(p.okA().sessionId(), p.okA().sessionSecret(), 6, MediaClient.secret(6)));
        assertEquals(ErrorCodes.INVALID_TOKEN, a3.expect(Message.JoinErr.class).code());
        TestClient a4 = servers.client(p.server());
        assertTrue(a4.resume(r.sessionId(), r.sessionSecret(), 7).resumed());
        // The fresh session's stream began after its snapshot, and nothing happened since: no replay.
        assertEquals(List.of(), a4.snapshot());
        a4.expectSilence(Duration.ofMillis(200));
    }

    @Test
    void resumeAfterGraceGetsJoinErrWhenRetentionIsOff() throws Exception {
        MemberPair p = servers.startPair(servers.builder().expiredSessionRetention(Duration.ZERO));
        p.cutA();
        assertEquals(Message.PeerLeft.REASON_TIMEOUT, p.b().expect(Message.PeerLeft.class).reason());
        TestClient a2 = servers.client(p.server());
        a2.send(new Message.Resume(p.okA().sessionId(), p.okA().sessionSecret(), 5, MediaClient.secret(5)));
        Message.JoinErr err = a2.expect(Message.JoinErr.class);
        assertEquals(ErrorCodes.INVALID_TOKEN, err.code());
        a2.expectClosed();
        p.b().expectSilence(Duration.ofMillis(200));
    }

    @Test
    void expiredSessionCannotComeBackOverANewerLogin() throws Exception {
        MemberPair p = servers.startPair();
        p.cutA();
        assertEquals(Message.PeerLeft.REASON_TIMEOUT, p.b().expect(Message.PeerLeft.class).reason());
        TestClient newer = servers.member(p.server(), "room", 1);
        assertEquals(List.of(2L), newer.snapshot());
        assertEquals(1, p.b().expect(Message.PeerJoined.class).uid());

        TestClient stale = servers.client(p.server());
        stale.send(new Message.Resume(p.okA().sessionId(), p.okA().sessionSecret(), 9, MediaClient.secret(9)));
        assertEquals(ErrorCodes.SAME_UID_LOGIN, stale.expect(Message.SessionEnd.class).code());
        stale.expectClosed();
        newer.pingPong(1);
        p.b().expectSilence(Duration.ofMillis(200));
    }

    @Test
    void mediaSilentWhileSignalingIsAliveExpiresAtLastMediaPlusGrace() throws Exception {
        MemberPair p = servers.startPair();
        p.a().media().stopKeepAlive(); // the media path dies; signaling PINGs go on
        long cut = System.nanoTime();
        p.b().expectSilence(Duration.ofMillis(700)); // a short outage shows nothing
        expectTimeoutLeave(p.b(), 1, cut);
        // Its connection is closed like any drop (no SESSION_END); the session is gone.
        p.a().expectClosed();
        assertEquals(Set.of(2L), p.server().members("app", "room"));
        assertEquals(1, p.server().sessionCount());
        assertEquals(1, p.server().stats().graceExpiries());

        // The client reconnects: a fresh session, shown to its peers only once its media is bound.
        TestClient a2 = servers.client(p.server());
        Message.ResumeOk r = a2.resume(p.okA().sessionId(), p.okA().sessionSecret(), 11);
        assertFalse(r.resumed());
        assertEquals(List.of(2L), a2.snapshot());
        p.b().expectSilence(Duration.ofMillis(300));
        assertEquals(Set.of(2L), p.server().members("app", "room"));
        servers.live(p.server(), a2, 11);
        Message.PeerJoined joined = p.b().expect(Message.PeerJoined.class);
        assertEquals(1, joined.uid());
        assertEquals(Set.of(1L, 2L), p.server().members("app", "room"));
        p.b().expectSilence(Duration.ofMillis(200)); // exactly one leave and one join
    }

    @Test
    void signalingSilentWhileMediaIsAliveExpiresAtLastSignalPlusGrace() throws Exception {
        MemberPair p = servers.startPair();
        p.a().stopKeepAlive(); // signaling goes quiet (the connection stays open); media PINGs go on
        long cut = System.nanoTime();
        p.b().expectSilence(Duration.ofMillis(700));
        expectTimeoutLeave(p.b(), 1, cut);
        p.a().expectClosed(); // no SESSION_END
        assertEquals(Set.of(2L), p.server().members("app", "room"));
        assertEquals(0, p.server().stats().idleDisconnects()); // expired, not idle: media was flowing
    }

    @Test
    void mediaAloneDoesNotKeepASessionInGraceAlive() throws Exception {
        MemberPair p = servers.startPair();
        p.a().abort(); // signaling gone for good, media keepalives go on
        long dropped = System.nanoTime();
        // No ghost: the member leaves one grace period after the drop although media still flows.
        expectTimeoutLeave(p.b(), 1, dropped);
        assertEquals(Set.of(2L), p.server().members("app", "room"));
    }

    @Test
    void resumeWithinGraceWithABindShowsPeersNothing() throws Exception {
        MemberPair p = servers.startPair();
        p.cutA();
        p.b().expectSilence(Duration.ofMillis(400)); // the outage lasts 0.4 s
        TestClient a2 = servers.client(p.server());
        Message.ResumeOk r = a2.resume(p.okA().sessionId(), p.okA().sessionSecret(), 21);
        assertTrue(r.resumed());
        // No snapshot after RESUME_OK(resumed=1): the stream's replay after lastReceived=0 says b joined.
        assertEquals(List.of(), a2.snapshot());
        assertEquals(2, a2.expect(Message.PeerJoined.class).uid());
        servers.live(p.server(), a2, 21);
        // Neither a leave when the grace of the cut would have run out, nor a join.
        p.b().expectSilence(TestServers.GRACE.plusMillis(300));
        assertEquals(Set.of(1L, 2L), p.server().members("app", "room"));
        a2.pingPong(1);
    }

    @Test
    void resumeWithoutABindDoesNotRefreshTheMediaSide() throws Exception {
        MemberPair p = servers.startPair();
        p.cutA();
        long cut = System.nanoTime();
        p.b().expectSilence(Duration.ofMillis(600)); // 0.6 s into the outage the client is back on signaling
        TestClient a2 = servers.client(p.server());
        assertTrue(a2.resume(p.okA().sessionId(), p.okA().sessionSecret(), 31).resumed());
        assertEquals(2, a2.expect(Message.PeerJoined.class).uid()); // the replay
        a2.keepAlive(servers.keepAlives(), TestServers.KEEPALIVE); // signaling is fine, key 31 never binds
        expectTimeoutLeave(p.b(), 1, cut);
        // Counted from the media cut, not from the RESUME (that would be cut + 1.6 s).
        long elapsedMs = msSince(cut);
        assertTrue(elapsedMs < GRACE_MS + 400, "PEER_LEFT " + elapsedMs + " ms after the media cut");
        a2.expectClosed();
        assertEquals(Set.of(2L), p.server().members("app", "room"));
    }

    @Test
    void silentConnectionIsDroppedAndGraceIsNotAddedOnTop() throws Exception {
        RoomServer server = servers.start(servers.builder().idleTimeout(Duration.ofMillis(600)));
        TestClient a = servers.client(server);
        a.join("app", "room", 1, "", 1);
        servers.media(server).bind(1, 0);
        TestClient b = servers.member(server, "room", 2);
        assertEquals(List.of(1L), b.snapshot());
        a.expect(Message.PeerJoined.class);
        // b keeps both paths alive; a says nothing on either.
        a.expectClosed(); // idle timeout, silently
        long closedAt = System.nanoTime();
        Message.PeerLeft left = b.expect(Message.PeerLeft.class);
        long gapMs = msSince(closedAt);
        assertEquals(Message.PeerLeft.REASON_TIMEOUT, left.reason());
        // a was last heard ~0.6 s before the drop and grace is 1 s: expiry follows ~0.4 s later, not 1 s.
        assertTrue(gapMs < 700, "PEER_LEFT " + gapMs + " ms after the idle drop");
        assertEquals(1, server.stats().idleDisconnects());
        assertEquals(Set.of(2L), server.members("app", "room"));
    }

    @Test
    void mediaPingsAloneKeepTheConnectionOpen() throws Exception {
        // Grace well above the 1.5 s of signal silence: this is about the idle timeout only.
        RoomServer server = servers.start(servers.builder().idleTimeout(Duration.ofMillis(500))
                .sessionGrace(Duration.ofSeconds(5)));
        TestClient a = servers.client(server);
        a.join("app", "room", 1, "", 31);
        MediaClient m = servers.media(server);
        m.bind(31, 0);
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
        int seq = 1;
        while (System.nanoTime() < until) {
            m.ping(31, seq++);
            assertEquals(null, m.receive(Duration.ofMillis(100))); // pacing
        }
        assertFalse(a.closedByServer());
        a.pingPong(3);
        assertEquals(0, server.stats().idleDisconnects());
        assertEquals(Set.of(1L), server.members("app", "room"));
    }

    @Test
    void connectionThatNeverSendsAFrameIsClosed() throws Exception {
        RoomServer server = servers.start(servers.builder().idleTimeout(Duration.ofMillis(300)));
        TestClient a = servers.client(server);
        a.expectClosed();
        assertEquals(0, server.sessionCount());
    }

    @Test
    void datagramsFromAnUnboundAddressDoNotKeepASessionAlive() throws Exception {
        RoomServer server = servers.start(servers.builder().idleTimeout(Duration.ofMillis(500)));
        TestClient a = servers.client(server);
        a.join("app", "room", 1, "", 41);
        MediaClient stranger = servers.media(server);
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2000);
        while (!a.closedByServer() && System.nanoTime() < until) {
            stranger.send(new MediaPacket(MediaCodec.PING, 41, 1, 1));
            stranger.receive(Duration.ofMillis(50)); // pacing
        }
        assertTrue(a.closedByServer(), "the unbound pings must not count as life");
    }
}
