package io.roomlink.server;

import io.roomlink.server.protocol.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reliable room messages (docs/PROTOCOL.md, "Room messages"), over real sockets with raw protocol
 * clients: the sender queue (MESSAGE, MESSAGE_ACK, lastAccepted) and the receiver stream
 * (ROOM_MESSAGE and presence, STREAM_ACK, replay after lastReceived).
 */
class RoomMessagesTest {
    private final TestServers servers = new TestServers();

    @AfterEach
    void tearDown() {
        servers.close();
    }

    private static Message.MessageFrame all(long seq, String text) {
        return new Message.MessageFrame(seq, 0, 0, text.getBytes(StandardCharsets.UTF_8));
    }

    private static Message.MessageFrame to(long seq, long uid, String text) {
        return new Message.MessageFrame(seq, 1, uid, text.getBytes(StandardCharsets.UTF_8));
    }

    private static Message.MessageFrame big(long seq) {
        return new Message.MessageFrame(seq, 0, 0, new byte[16384]);
    }

    private static String text(Message.RoomMessage m) {
        return new String(m.data(), StandardCharsets.UTF_8);
    }

    /** The next ROOM_MESSAGE, which must be from {@code from} with {@code text}. */
    private static void expectMessage(TestClient c, long from, int target, String text) throws Exception {
        Message.RoomMessage m = c.expect(Message.RoomMessage.class);
        assertEquals(from, m.fromUid(), m.toString());
        assertEquals(target, m.target(), m.toString());
        assertEquals(text, text(m));
    }

    /** Reads MESSAGE_ACKs (cumulative, never going back) until one covers {@code seq}. */
    private static void awaitAck(TestClient c, long seq) throws Exception {
        long last = 0;
        while (last < seq) {
            long got = c.expect(Message.MessageAck.class).seq();
            assertTrue(got >= last, "acks go forward: " + got + " after " + last);
            assertTrue(got <= seq, "ack " + got + " beyond what was sent, " + seq);
            last = got;
        }
    }

    /** {@link #awaitAck}, skipping the ROOM_MESSAGEs that arrive in between (a sender that also receives). */
    private static void awaitAckAmidMessages(TestClient c, long seq) throws Exception {
        long last = 0;
        while (last < seq) {
            Message m = c.expect(Message.class);
            if (m instanceof Message.MessageAck ack) {
                assertTrue(ack.seq() >= last && ack.seq() <= seq, ack + " after " + last);
                last = ack.seq();
            } else {
                assertInstanceOf(Message.RoomMessage.class, m);
            }
        }
    }

    /** Drops {@code c}'s connection (RST) and waits until the server has let go of it: its session is in grace. */
    private static void dropAndAwaitGrace(RoomServer server, TestClient c, TestClient witness, long seq)
            throws Exception {
        int before = server.connectionCount();
        c.media().stopKeepAlive();
        c.abort();
        Await.until("the dropped connection closed", TestClient.WAIT, () -> server.connectionCount() < before);
        // A round trip through the room executor, after the connection's close was handed to it.
        witness.send(all(seq, "sync"));
        awaitAck(witness, seq);
    }

    /** The next PEER_LEFT, skipping MESSAGE_ACKs. */
    private static Message.PeerLeft expectLeftAmidAcks(TestClient c) throws Exception {
        while (true) {
            Message m = c.expect(Message.class);
            if (m instanceof Message.PeerLeft left) {
                return left;
            }
            assertInstanceOf(Message.MessageAck.class, m);
        }
    }

    @Test
    void broadcastAndDirectedArriveInOrderPerSenderAndAreAcknowledged() throws Exception {
        RoomServer server = servers.start();
        TestClient a = servers.member(server, "room", 1);
        TestClient b = servers.member(server, "room", 2);
        assertEquals(2, a.expect(Message.PeerJoined.class).uid());
        TestClient c = servers.member(server, "room", 3);
        assertEquals(3, a.expect(Message.PeerJoined.class).uid());
        assertEquals(3, b.expect(Message.PeerJoined.class).uid());
        int n = 100;
        for (int i = 1; i <= n; i++) {
            a.send(i % 3 == 0 ? to(i, 2, "m" + i) : all(i, "m" + i));
        }
        for (int i = 1; i <= n; i++) {
            if (i % 3 == 0) {
                expectMessage(b, 1, 1, "m" + i);
            } else {
                expectMessage(b, 1, 0, "m" + i);
                expectMessage(c, 1, 0, "m" + i);
            }
        }
        awaitAck(a, n);
        a.expectSilence(Duration.ofMillis(100)); // the sender never receives its own messages
        c.expectSilence(Duration.ofMillis(1));
        assertEquals(n, server.stats().messagesAccepted());
        assertEquals(n + (n - n / 3), server.stats().messageDeliveries());
        // Two senders interleave, each in its own order.
        for (int i = 1; i <= 20; i++) {
            b.send(all(i, "b" + i));
            c.send(all(i, "c" + i));
        }
        int nextB = 1;
        int nextC = 1;
        while (nextB <= 20 || nextC <= 20) {
            Message.RoomMessage m = a.expect(Message.RoomMessage.class);
            if (m.fromUid() == 2) {
                assertEquals("b" + nextB++, text(m));
            } else {
                assertEquals("c" + nextC++, text(m));
            }
        }
        awaitAckAmidMessages(b, 20);
        awaitAckAmidMessages(c, 20);
    }

    @Test
    void retransmissionAfterAResumeIsDroppedAndAcknowledged() throws Exception {
        MemberPair p = servers.startPair();
        for (int i = 1; i <= 3; i++) {
            p.a().send(all(i, "m" + i));
        }
        awaitAck(p.a(), 3);
        for (int i = 1; i <= 3; i++) {
            expectMessage(p.b(), 1, 0, "m" + i);
        }
        p.cutA();
        TestClient a2 = servers.client(p.server());
        // a processed one stream item: PEER_JOINED(2).
        Message.ResumeOk r = a2.resume(p.okA().sessionId(), p.okA().sessionSecret(), 7, 1);
        assertTrue(r.resumed());
        assertEquals(3, r.lastAccepted());
        servers.live(p.server(), a2, 7);
        // A client that missed the ack resends 2 and 3, then goes on with 4.
        a2.send(all(2, "m2"));
        a2.send(all(3, "m3"));
        a2.send(all(4, "m4"));
        awaitAck(a2, 4);
        expectMessage(p.b(), 1, 0, "m4");
        p.b().expectSilence(Duration.ofMillis(100));
        assertEquals(2, p.server().stats().duplicateMessages());
        // A retransmission alone is acknowledged again.
        a2.send(all(4, "m4"));
        assertEquals(4, a2.expect(Message.MessageAck.class).seq());
    }

    @Test
    void aGapIsAProtocolErrorOfThatConnectionOnly() throws Exception {
        MemberPair p = servers.startPair();
        p.a().send(all(1, "one"));
        p.a().send(all(3, "three"));
        List<Object> got = p.a().drainUntilClosed(TestClient.WAIT);
        Message.Error err = assertInstanceOf(Message.Error.class, got.get(got.size() - 1), got.toString());
        assertEquals(ErrorCodes.PROTOCOL, err.code());
        expectMessage(p.b(), 1, 0, "one");
        p.b().pingPong(5);
        p.b().send(all(1, "still here"));
        awaitAck(p.b(), 1);
        // a's session went to grace like any drop: it may resume and go on from 1.
        TestClient a2 = servers.client(p.server());
        Message.ResumeOk r = a2.resume(p.okA().sessionId(), p.okA().sessionSecret(), 8, 1);
        assertEquals(1, r.lastAccepted());
        expectMessage(a2, 2, 0, "still here");
    }

    @Test
    void itemsSentWhileAwayAreReplayedAfterResumeOkInOrderWithoutASnapshot() throws Exception {
        MemberPair p = servers.startPair();
        p.cutA();
        p.b().send(all(1, "while away 1"));
        awaitAck(p.b(), 1);
        TestClient c = servers.member(p.server(), "room", 3);
        assertEquals(3, p.b().expect(Message.PeerJoined.class).uid());
        p.b().send(all(2, "while away 2"));
        awaitAck(p.b(), 2);
        c.send(to(1, 1, "to a"));
        awaitAckAmidMessages(c, 1);
        c.send(new Message.Leave());
        c.expect(Message.LeaveOk.class);
        assertEquals(Message.PeerLeft.REASON_NORMAL, p.b().expect(Message.PeerLeft.class).reason());
        Await.until("c's directed message taken", TestClient.WAIT,
                () -> p.server().stats().messagesAccepted() == 3);

        TestClient a2 = servers.client(p.server());
        Message.ResumeOk r = a2.resume(p.okA().sessionId(), p.okA().sessionSecret(), 9, 1);
        assertTrue(r.resumed());
        assertEquals(List.of(), a2.snapshot(), "no snapshot before RESUME_OK(resumed=1)");
        expectMessage(a2, 2, 0, "while away 1");
        assertEquals(3, a2.expect(Message.PeerJoined.class).uid());
        expectMessage(a2, 2, 0, "while away 2");
        expectMessage(a2, 3, 1, "to a");
        Message.PeerLeft left = a2.expect(Message.PeerLeft.class);
        assertEquals(3, left.uid());
        a2.expectSilence(Duration.ofMillis(100));

        // Acknowledged items are not replayed again; a signal migration replays the rest.
        a2.send(new Message.StreamAck(3));
        a2.pingPong(1); // the STREAM_ACK was handled (same connection, in order)
        TestClient a3 = servers.client(p.server());
        Message.ResumeOk r3 = a3.resume(r.sessionId(), r.sessionSecret(), 10, 4);
        assertTrue(r3.resumed());
        expectMessage(a3, 3, 1, "to a");
        assertEquals(3, a3.expect(Message.PeerLeft.class).uid());
        a2.expectClosed();
    }

    @Test
    void lastReceivedOutOfRangeIsAProtocolErrorAndTheSessionIsUntouched() throws Exception {
        MemberPair p = servers.startPair();
        p.b().send(all(1, "x"));
        expectMessage(p.a(), 2, 0, "x");
        p.a().send(new Message.StreamAck(1));
        p.a().pingPong(1);
        // a has seen 2 items: PEER_JOINED(2) and the message.
        TestClient beyond = servers.client(p.server());
        beyond.send(new Message.Resume(p.okA().sessionId(), p.okA().sessionSecret(), 11, MediaClient.secret(11), 3));
        assertEquals(ErrorCodes.PROTOCOL, beyond.expect(Message.Error.class).code());
        beyond.expectClosed();
        TestClient below = servers.client(p.server());
        below.send(new Message.Resume(p.okA().sessionId(), p.okA().sessionSecret(), 11, MediaClient.secret(11), 0));
        assertEquals(ErrorCodes.PROTOCOL, below.expect(Message.Error.class).code());
        below.expectClosed();
        // Untouched: a's connection still works and its secret still resumes.
        p.a().pingPong(2);
        TestClient ok = servers.client(p.server());
        assertTrue(ok.resume(p.okA().sessionId(), p.okA().sessionSecret(), 12, 2).resumed());
        ok.expectSilence(Duration.ofMillis(100));
        // A STREAM_ACK beyond what was sent is a protocol error too.
        ok.send(new Message.StreamAck(3));
        assertEquals(ErrorCodes.PROTOCOL, ok.expect(Message.Error.class).code());
    }

    @Test
    void aMessageFromAPendingSessionReachesPeersOnlyAfterItsPeerJoined() throws Exception {
        MemberPair p = servers.startPair();
        TestClient c = servers.client(p.server());
        c.join("app", "room", 3, "", 3);
        assertEquals(List.of(1L, 2L), c.snapshot());
        c.send(all(1, "early"));
        c.send(to(2, 1, "early to a"));
        p.a().expectSilence(Duration.ofMillis(300));
        p.b().expectSilence(Duration.ofMillis(1));
        c.expectSilence(Duration.ofMillis(1)); // held, so not acknowledged
        servers.live(p.server(), c, 3);
        assertEquals(3, p.a().expect(Message.PeerJoined.class).uid());
        expectMessage(p.a(), 3, 0, "early");
        expectMessage(p.a(), 3, 1, "early to a");
        assertEquals(3, p.b().expect(Message.PeerJoined.class).uid());
        expectMessage(p.b(), 3, 0, "early");
        awaitAck(c, 2);
    }

    @Test
    void aMessageToAnAbsentUidIsCountedAndAcknowledged() throws Exception {
        MemberPair p = servers.startPair();
        p.a().send(to(1, 99, "nobody"));
        p.a().send(to(2, 1, "myself"));
        awaitAck(p.a(), 2);
        assertEquals(2, p.server().stats().messagesToAbsentUid());
        assertEquals(0, p.server().stats().messageDeliveries());
        p.b().expectSilence(Duration.ofMillis(100));
        p.a().send(to(3, 2, "b"));
        expectMessage(p.b(), 1, 1, "b");
    }

    @Test
    void overTheMessageRateOnlyTheOffenderIsClosed() throws Exception {
        MemberPair p = servers.startPair(servers.builder().maxMessageBytesPerSecond(16384));
        // The bucket holds two seconds' worth, 32768 bytes: the third largest message is over it.
        for (int i = 1; i <= 3; i++) {
            p.a().send(big(i));
        }
        List<Object> got = p.a().drainUntilClosed(TestClient.WAIT);
        Message.Error err = assertInstanceOf(Message.Error.class, got.get(got.size() - 1), got.toString());
        assertEquals(ErrorCodes.SERVER_LIMIT, err.code());
        assertEquals("message rate", err.message());
        assertEquals(1, p.server().stats().messageRateRejects());
        assertEquals(2, p.b().expect(Message.RoomMessage.class).data().length / 8192);
        assertEquals(16384, p.b().expect(Message.RoomMessage.class).data().length);
        p.b().pingPong(1);
        p.b().send(all(1, "fine"));
        awaitAck(p.b(), 1);
        assertEquals(Set.of(1L, 2L), p.server().members("app", "room"), "a is in grace, not gone");
    }

    @Test
    void replayOverflowEndsAnAttachedReceiverWith31023() throws Exception {
        MemberPair p = servers.startPair(servers.builder().replayBufferBytes(65536));
        // b never acknowledges: three largest ROOM_MESSAGEs (16399 bytes each) fit, a fourth does not.
        for (int i = 1; i <= 4; i++) {
            p.a().send(big(i));
        }
        List<Object> got = p.b().drainUntilClosed(TestClient.WAIT);
        assertEquals(4, got.size(), got.toString());
        for (int i = 0; i < 3; i++) {
            assertInstanceOf(Message.RoomMessage.class, got.get(i));
        }
        assertEquals(new Message.SessionEnd(ErrorCodes.REPLAY_OVERFLOW, "replay buffer overflow"), got.get(3));
        Message.PeerLeft left = expectLeftAmidAcks(p.a());
        assertEquals(2, left.uid());
        assertEquals(Message.PeerLeft.REASON_TIMEOUT, left.reason());
        Await.until("all four taken", TestClient.WAIT, () -> p.server().stats().messagesAccepted() == 4);
        assertEquals(1, p.server().stats().replayOverflows());
        assertEquals(Set.of(1L), p.server().members("app", "room"));
        assertEquals(1, p.server().sessionCount());
    }

    @Test
    void aReceiverThatAcknowledgesIsNeverOverflowed() throws Exception {
        MemberPair p = servers.startPair(servers.builder().replayBufferBytes(65536));
        // 64 largest messages, 1 MiB through a 64 KiB buffer: the receiver acknowledges as it goes.
        int n = 64;
        int sent = 0;
        int received = 0;
        while (received < n) {
            while (sent < n && sent - received < 1) {
                p.a().send(big(++sent));
            }
            p.b().expect(Message.RoomMessage.class);
            received++;
            p.b().send(new Message.StreamAck(received));
        }
        awaitAck(p.a(), n);
        assertEquals(0, p.server().stats().replayOverflows());
        p.b().pingPong(1);
    }

    @Test
    void replayOverflowInGraceEndsTheSessionAsOnExpiry() throws Exception {
        MemberPair p = servers.startPair(servers.builder().replayBufferBytes(65536));
        dropAndAwaitGrace(p.server(), p.b(), p.a(), 1);
        for (int i = 2; i <= 5; i++) {
            p.a().send(big(i));
        }
        // Well before the grace period (1 s) would have run out.
        Message.PeerLeft left = expectLeftAmidAcks(p.a());
        assertEquals(2, left.uid());
        assertEquals(Message.PeerLeft.REASON_TIMEOUT, left.reason());
        assertEquals(1, p.server().stats().replayOverflows());
        assertEquals(0, p.server().stats().graceExpiries());
        assertEquals(Set.of(1L), p.server().members("app", "room"));
    }

    @Test
    void replayOverflowInGraceIsResumedAfresh() throws Exception {
        RoomServer server = servers.start(servers.builder().replayBufferBytes(65536));
        TestClient a = servers.member(server, "room", 1);
        Message.JoinOk[] okB = new Message.JoinOk[1];
        TestClient b = servers.member(server, "room", 2, okB);
        assertEquals(2, a.expect(Message.PeerJoined.class).uid());
        b.send(all(1, "before"));
        expectMessage(a, 2, 0, "before");
        awaitAck(b, 1);
        dropAndAwaitGrace(server, b, a, 1);
        for (int i = 2; i <= 5; i++) {
            a.send(big(i));
        }
        assertEquals(2, expectLeftAmidAcks(a).uid());
        TestClient b2 = servers.client(server);
        Message.ResumeOk r = b2.resume(okB[0].sessionId(), okB[0].sessionSecret(), 22, 0);
        assertFalse(r.resumed(), "ended as on expiry: a fresh session");
        assertEquals(1, r.lastAccepted(), "the ended session's sender queue goes on");
        assertEquals(List.of(1L), b2.snapshot());
    }

    @Test
    void anExpiredSessionsLastAcceptedIsCarriedIntoTheFreshOne() throws Exception {
        MemberPair p = servers.startPair();
        for (int i = 1; i <= 3; i++) {
            p.a().send(all(i, "m" + i));
        }
        awaitAck(p.a(), 3);
        for (int i = 1; i <= 3; i++) {
            expectMessage(p.b(), 1, 0, "m" + i);
        }
        p.cutA();
        assertEquals(Message.PeerLeft.REASON_TIMEOUT, p.b().expect(Message.PeerLeft.class).reason());
        TestClient a2 = servers.client(p.server());
        Message.ResumeOk r = a2.resume(p.okA().sessionId(), p.okA().sessionSecret(), 5, 1);
        assertFalse(r.resumed());
        assertEquals(3, r.lastAccepted());
        assertEquals(List.of(2L), a2.snapshot());
        servers.live(p.server(), a2, 5);
        assertEquals(1, p.b().expect(Message.PeerJoined.class).uid());
        a2.send(all(3, "m3")); // taken by the old session, its ack lost: not sent twice
        a2.send(all(4, "m4"));
        awaitAck(a2, 4);
        expectMessage(p.b(), 1, 0, "m4");
        p.b().expectSilence(Duration.ofMillis(100));
        assertEquals(1, p.server().stats().duplicateMessages());
    }
}
