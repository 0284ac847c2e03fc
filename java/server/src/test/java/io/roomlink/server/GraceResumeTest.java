package io.roomlink.server;

import io.roomlink.server.protocol.MediaCodec;
import io.roomlink.server.protocol.MediaPacket;
import io.roomlink.server.protocol.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Dropped connections, the grace period, RESUME and idle detection (grace = 1 s in tests). */
class GraceResumeTest {
    private final TestServers servers = new TestServers();

    @AfterEach
    void tearDown() throws Exception {
        servers.close();
    }

    /** Two members; returns {a, b} after both have seen each other. a's JOIN_OK is in {@code okA[0]}. */
    private TestClient[] pair(RoomServer server, Message.JoinOk[] okA) throws Exception {
        TestClient a = servers.client(server);
        okA[0] = a.join("app", "room", 1, "", 1);
        TestClient b = servers.client(server);
        b.join("app", "room", 2, "", 2);
        assertEquals(List.of(1L), b.snapshot());
        assertEquals(2, a.expect(Message.PeerJoined.class).uid());
        return new TestClient[] {a, b};
    }

    @Test
    void dropWithoutLeaveExpiresAfterGraceAndNotBefore() throws Exception {
        RoomServer server = servers.start();
        Message.JoinOk[] ok = new Message.JoinOk[1];
        TestClient[] ab = pair(server, ok);
        long lastSent = System.nanoTime();
        ab[0].pingPong(1);
        ab[0].abort();

        // Held for the grace period: present, no PEER_LEFT.
        ab[1].expectSilence(Duration.ofMillis(700));
        assertEquals(Set.of(1L, 2L), server.members("app", "room"));
        Message.PeerLeft left = ab[1].expect(Message.PeerLeft.class, Duration.ofSeconds(4));
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastSent);
        assertEquals(1, left.uid());
        assertEquals(Message.PeerLeft.REASON_TIMEOUT, left.reason());
        assertTrue(elapsedMs >= 900, "PEER_LEFT after " + elapsedMs + " ms, grace is 1000 ms");
        assertEquals(Set.of(2L), server.members("app", "room"));
        assertEquals(1, server.sessionCount());
        assertEquals(1, server.stats().graceExpiries());
    }

    @Test
    void orderlyCloseWithoutLeaveAlsoGetsGrace() throws Exception {
        RoomServer server = servers.start();
        Message.JoinOk[] ok = new Message.JoinOk[1];
        TestClient[] ab = pair(server, ok);
        ab[0].close(); // FIN, no LEAVE
        ab[1].expectSilence(Duration.ofMillis(600));
        assertEquals(Message.PeerLeft.REASON_TIMEOUT, ab[1].expect(Message.PeerLeft.class).reason());
    }

    @Test
    void resumeWhileTheOldConnectionIsStillOpenReplacesItSilently() throws Exception {
        RoomServer server = servers.start();
        Message.JoinOk[] ok = new Message.JoinOk[1];
        TestClient[] ab = pair(server, ok);
        TestClient a2 = servers.client(server);
        Message.ResumeOk r = a2.resume(ok[0].sessionId(), ok[0].sessionSecret(), 9);
        assertTrue(r.resumed());
        assertEquals(ok[0].sessionId(), r.sessionId());
        assertEquals(List.of(2L), a2.snapshot());
        ab[0].expectClosed(); // no SESSION_END: this is not a duplicate login
        ab[1].expectSilence(TestServers.GRACE.plusMillis(300));
        a2.pingPong(5);
        assertEquals(Set.of(1L, 2L), server.members("app", "room"));
        assertEquals(2, server.sessionCount());
    }

    @Test
    void resumeOfAResumedSessionWorksAgain() throws Exception {
        RoomServer server = servers.start();
        TestClient a = servers.client(server);
        Message.JoinOk ok = a.join("app", "room", 1, "", 1);
        for (int i = 0; i < 3; i++) {
            a.abort();
            a = servers.client(server);
            Message.ResumeOk r = a.resume(ok.sessionId(), ok.sessionSecret(), 100 + i);
            assertEquals(List.of(), a.snapshot());
            assertTrue(r.resumed());
            assertEquals(ok.channelId(), r.channelId());
        }
        assertEquals(1, server.sessionCount());
    }

    @Test
    void unknownSessionOrWrongSecretGetsJoinErr() throws Exception {
        RoomServer server = servers.start();
        TestClient a = servers.client(server);
        Message.JoinOk ok = a.join("app", "room", 1, "", 1);

        TestClient c = servers.client(server);
        c.send(new Message.Resume(ok.sessionId() + 1, ok.sessionSecret(), 2));
        assertEquals(ErrorCodes.INVALID_TOKEN, c.expect(Message.JoinErr.class).code());
        c.expectClosed();

        byte[] wrong = ok.sessionSecret();
        wrong[0] ^= 1;
        TestClient d = servers.client(server);
        d.send(new Message.Resume(ok.sessionId(), wrong, 2));
        assertEquals(ErrorCodes.INVALID_TOKEN, d.expect(Message.JoinErr.class).code());
        d.expectClosed();
        a.pingPong(1); // the real session is untouched
    }

    @Test
    void resumeAfterGraceIsAdmittedAfresh() throws Exception {
        RoomServer server = servers.start();
        Message.JoinOk[] ok = new Message.JoinOk[1];
        TestClient[] ab = pair(server, ok);
        ab[0].abort();
        assertEquals(Message.PeerLeft.REASON_TIMEOUT, ab[1].expect(Message.PeerLeft.class).reason());

        TestClient a2 = servers.client(server);
        Message.ResumeOk r = a2.resume(ok[0].sessionId(), ok[0].sessionSecret(), 5);
        assertFalse(r.resumed());
        assertEquals(ok[0].channelId(), r.channelId()); // the channel still exists (b is in it)
        assertNotEquals(ok[0].sessionId(), r.sessionId());
        assertEquals(List.of(2L), a2.snapshot());
        assertEquals(1, ab[1].expect(Message.PeerJoined.class).uid());
        assertEquals(Set.of(1L, 2L), server.members("app", "room"));

        // The old secret is spent; the new one works.
        TestClient a3 = servers.client(server);
        a3.send(new Message.Resume(ok[0].sessionId(), ok[0].sessionSecret(), 6));
        assertEquals(ErrorCodes.INVALID_TOKEN, a3.expect(Message.JoinErr.class).code());
        TestClient a4 = servers.client(server);
        assertTrue(a4.resume(r.sessionId(), r.sessionSecret(), 7).resumed());
        assertEquals(List.of(2L), a4.snapshot());
    }

    @Test
    void resumeAfterGraceGetsJoinErrWhenRetentionIsOff() throws Exception {
        RoomServer server = servers.start(servers.builder().expiredSessionRetention(Duration.ZERO));
        Message.JoinOk[] ok = new Message.JoinOk[1];
        TestClient[] ab = pair(server, ok);
        ab[0].abort();
        assertEquals(Message.PeerLeft.REASON_TIMEOUT, ab[1].expect(Message.PeerLeft.class).reason());
        TestClient a2 = servers.client(server);
        a2.send(new Message.Resume(ok[0].sessionId(), ok[0].sessionSecret(), 5));
        Message.JoinErr err = a2.expect(Message.JoinErr.class);
        assertEquals(ErrorCodes.INVALID_TOKEN, err.code());
        a2.expectClosed();
        ab[1].expectSilence(Duration.ofMillis(200));
    }

    @Test
    void expiredSessionCannotComeBackOverANewerLogin() throws Exception {
        RoomServer server = servers.start();
        Message.JoinOk[] ok = new Message.JoinOk[1];
        TestClient[] ab = pair(server, ok);
        ab[0].abort();
        assertEquals(Message.PeerLeft.REASON_TIMEOUT, ab[1].expect(Message.PeerLeft.class).reason());
        TestClient newer = servers.client(server);
        newer.join("app", "room", 1, "", 8);
        assertEquals(List.of(2L), newer.snapshot());
        assertEquals(1, ab[1].expect(Message.PeerJoined.class).uid());

        TestClient stale = servers.client(server);
        stale.send(new Message.Resume(ok[0].sessionId(), ok[0].sessionSecret(), 9));
        assertEquals(ErrorCodes.SAME_UID_LOGIN, stale.expect(Message.SessionEnd.class).code());
        stale.expectClosed();
        newer.pingPong(1);
        ab[1].expectSilence(Duration.ofMillis(200));
    }

    @Test
    void graceCountsFromTheLastDatagramHeardBeforeTheDrop() throws Exception {
        RoomServer server = servers.start();
        Message.JoinOk[] ok = new Message.JoinOk[1];
        TestClient[] ab = pair(server, ok);
        MediaClient m = servers.media(server);
        m.bind(1, 0);
        // Signaling stays silent for 1.5 s (> grace) while media is alive...
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
        int seq = 1;
        while (System.nanoTime() < until) {
            m.ping(1, seq++);
            assertEquals(null, m.receive(Duration.ofMillis(100))); // pacing
        }
        // ...then both paths die together. Grace runs from the last datagram, not from the JOIN.
        ab[0].abort();
        long dropped = System.nanoTime();
        ab[1].expectSilence(Duration.ofMillis(600));
        Message.PeerLeft left = ab[1].expect(Message.PeerLeft.class, Duration.ofSeconds(4));
        assertEquals(Message.PeerLeft.REASON_TIMEOUT, left.reason());
        long afterDrop = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - dropped);
        assertTrue(afterDrop >= 800, "expired " + afterDrop + " ms after the drop");
    }

    @Test
    void mediaAloneDoesNotKeepASessionInGraceAlive() throws Exception {
        RoomServer server = servers.start();
        Message.JoinOk[] ok = new Message.JoinOk[1];
        TestClient[] ab = pair(server, ok);
        MediaClient m = servers.media(server);
        m.bind(1, 0);
        ScheduledExecutorService pinger = Executors.newSingleThreadScheduledExecutor();
        AtomicInteger seq = new AtomicInteger();
        try {
            pinger.scheduleAtFixedRate(() -> {
                try {
                    m.send(new MediaPacket(MediaCodec.PING, 1, seq.incrementAndGet(), 0));
                } catch (Exception e) {
                    // the assertions below notice
                }
            }, 0, 100, TimeUnit.MILLISECONDS);
            ab[0].abort(); // signaling gone for good, media keepalives go on
            long dropped = System.nanoTime();
            // No ghost: the member leaves one grace period after the drop although media still flows.
            Message.PeerLeft left = ab[1].expect(Message.PeerLeft.class, Duration.ofSeconds(4));
            assertEquals(Message.PeerLeft.REASON_TIMEOUT, left.reason());
            long afterDrop = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - dropped);
            assertTrue(afterDrop >= 800, "expired " + afterDrop + " ms after the drop");
            assertEquals(Set.of(2L), server.members("app", "room"));
        } finally {
            pinger.shutdownNow();
        }
    }

    @Test
    void silentConnectionIsDroppedAndGraceIsNotAddedOnTop() throws Exception {
        RoomServer server = servers.start(servers.builder().idleTimeout(Duration.ofMillis(1000)));
        TestClient a = servers.client(server);
        a.join("app", "room", 1, "", 1);
        TestClient b = servers.client(server);
        b.join("app", "room", 2, "", 2);
        assertEquals(List.of(1L), b.snapshot());
        a.expect(Message.PeerJoined.class);
        // b keeps pinging; a says nothing.
        ScheduledExecutorService pinger = Executors.newSingleThreadScheduledExecutor();
        AtomicInteger nonce = new AtomicInteger();
        try {
            pinger.scheduleAtFixedRate(() -> {
                try {
                    b.send(new Message.Ping(nonce.incrementAndGet()));
                } catch (Exception e) {
                    // the test fails on its own if b breaks
                }
            }, 0, 250, TimeUnit.MILLISECONDS);
            a.expectClosed(); // idle timeout, silently
            long closedAt = System.nanoTime();
            Message.PeerLeft left = null;
            while (left == null) {
                Message msg = b.expect(Message.class);
                if (msg instanceof Message.PeerLeft pl) {
                    left = pl;
                } else {
                    assertTrue(msg instanceof Message.Pong, "unexpected " + msg);
                }
            }
            long gapMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - closedAt);
            assertEquals(Message.PeerLeft.REASON_TIMEOUT, left.reason());
            // a was last heard ~1 s before the drop and grace is 1 s: expiry follows the drop at once.
            assertTrue(gapMs < 700, "PEER_LEFT " + gapMs + " ms after the idle drop");
            assertEquals(1, server.stats().idleDisconnects());
            assertEquals(Set.of(2L), server.members("app", "room"));
        } finally {
            pinger.shutdownNow();
        }
    }

    @Test
    void mediaPingsAloneKeepTheConnectionOpen() throws Exception {
        RoomServer server = servers.start(servers.builder().idleTimeout(Duration.ofMillis(500)));
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
