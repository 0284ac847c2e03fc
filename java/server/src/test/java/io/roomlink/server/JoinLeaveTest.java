package io.roomlink.server;

import io.roomlink.server.protocol.MediaCodec;
import io.roomlink.server.protocol.MediaPacket;
import io.roomlink.server.protocol.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JoinLeaveTest {
    private static final String SECRET = "test-secret";
    private static final Instant EXPIRES = Instant.now().plusSeconds(3600);
    private final TestServers servers = new TestServers();

    @AfterEach
    void tearDown() throws Exception {
        servers.close();
    }

    private static String token(String channel, long uid) {
        return TokenBuilder.build(SECRET, "app", channel, uid, EXPIRES);
    }

    @Test
    void joinOkFieldsAndPresence() throws Exception {
        RoomServer server = servers.start(servers.builder().tokenSecret(SECRET));
        long before = System.currentTimeMillis();
        TestClient a = servers.client(server);
        Message.JoinOk okA = a.join("app", "room", 1, token("room", 1), 11);
        assertTrue(okA.channelId() > 0);
        assertNotEquals(0, okA.sessionId());
        assertFalse(java.util.Arrays.equals(new byte[16], okA.sessionSecret()));
        assertEquals("127.0.0.1", okA.mediaHost());
        assertEquals(server.mediaPort(), okA.mediaPort());
        assertTrue(okA.serverTimeMs() >= before - 1000 && okA.serverTimeMs() <= System.currentTimeMillis() + 1000);
        servers.live(server, a, 11);
        a.expectSilence(Duration.ofMillis(100)); // alone: no PEER_JOINED

        TestClient b = servers.client(server);
        Message.JoinOk okB = b.join("app", "room", 2, token("room", 2), 22);
        assertEquals(okA.channelId(), okB.channelId());
        assertNotEquals(okA.sessionId(), okB.sessionId());
        assertEquals(List.of(1L), b.snapshot()); // the snapshot came before JOIN_OK
        a.expectSilence(Duration.ofMillis(100)); // b is not shown before its media is bound
        servers.live(server, b, 22);
        assertEquals(2, a.expect(Message.PeerJoined.class).uid()); // fan-out

        TestClient c = servers.client(server);
        c.join("app", "room", 3, token("room", 3), 33);
        assertEquals(List.of(1L, 2L), c.snapshot()); // in join order
        c.expectSilence(Duration.ofMillis(100)); // nothing after JOIN_OK: the snapshot came first
        assertEquals(Set.of(1L, 2L), server.members("app", "room")); // c is pending
        assertEquals(3, server.sessionCount());
        servers.live(server, c, 33);
        assertEquals(3, a.expect(Message.PeerJoined.class).uid());
        assertEquals(3, b.expect(Message.PeerJoined.class).uid());

        assertEquals(Set.of(1L, 2L, 3L), server.members("app", "room"));
        assertEquals(okA.channelId(), server.channelId("app", "room").orElseThrow());
        assertEquals(3, server.sessionCount());
        a.pingPong(7);
        c.pingPong(-1);
    }

    @Test
    void channelsAreIsolatedByAppKeyAndName() throws Exception {
        RoomServer server = servers.start();
        TestClient a = servers.client(server);
        TestClient b = servers.client(server);
        TestClient c = servers.client(server);
        long idA = a.join("app", "room", 1, "", 1).channelId();
        long idB = b.join("app", "other", 2, "", 2).channelId();
        long idC = c.join("app2", "room", 3, "", 3).channelId();
        assertEquals(3, Set.of(idA, idB, idC).size());
        servers.live(server, a, 1);
        servers.live(server, b, 2);
        servers.live(server, c, 3);
        a.expectSilence(Duration.ofMillis(150));
        b.expectSilence(Duration.ofMillis(1));
        c.expectSilence(Duration.ofMillis(1));
        assertEquals(Set.of(1L), server.members("app", "room"));
        assertEquals(Set.of(), server.members("nope", "room"));
        assertTrue(server.channelId("nope", "room").isEmpty());
    }

    @Test
    void badTokensGetJoinErr() throws Exception {
        RoomServer server = servers.start(servers.builder().tokenSecret(SECRET));
        String[][] cases = {
            {"", "malformed token"},
            {"garbage", "malformed token"},
            {TokenBuilder.build("wrong", "app", "room", 1, EXPIRES), "invalid token"},
            {TokenBuilder.build(SECRET, "app", "room", 2, EXPIRES), "invalid token"},
            {TokenBuilder.build(SECRET, "app", "room", 1, Instant.now().minusSeconds(5)), "token expired"},
        };
        for (String[] c : cases) {
            TestClient client = servers.client(server);
            client.send(new Message.Join("app", "room", 1, c[0], 1, MediaClient.secret(1)));
            Message.JoinErr err = client.expect(Message.JoinErr.class);
            assertEquals(ErrorCodes.INVALID_TOKEN, err.code());
            assertEquals(c[1], err.message());
            client.expectClosed();
        }
        assertEquals(0, server.sessionCount());
        assertTrue(server.channelId("app", "room").isEmpty());
        assertEquals(cases.length, server.stats().joinRejects());
    }

    @Test
    void debugModeAcceptsAnyToken() throws Exception {
        RoomServer server = servers.start();
        assertTrue(server.debugMode());
        TestClient a = servers.client(server);
        a.join("app", "room", 5, "whatever", 1);
        servers.live(server, a, 1);
        TestClient b = servers.client(server);
        b.join("app", "room", 6, "", 2);
        assertEquals(List.of(5L), b.snapshot());
    }

    @Test
    void leaveGetsLeaveOkAndPeersSeeNormalLeave() throws Exception {
        MemberPair p = servers.startPair();
        long channelId = p.okA().channelId();

        p.a().send(Message.Leave.INSTANCE);
        p.a().expect(Message.LeaveOk.class);
        p.a().expectClosed();
        Message.PeerLeft left = p.b().expect(Message.PeerLeft.class);
        assertEquals(1, left.uid());
        assertEquals(Message.PeerLeft.REASON_NORMAL, left.reason());
        assertEquals(Set.of(2L), p.server().members("app", "room"));
        assertEquals(1, p.server().sessionCount());

        p.b().send(Message.Leave.INSTANCE);
        p.b().expect(Message.LeaveOk.class);
        p.b().expectClosed();
        Await.until("channel removed", Duration.ofSeconds(5), () -> p.server().channelId("app", "room").isEmpty());
        assertEquals(0, p.server().sessionCount());

        // A new channel with the same name is a new channel.
        TestClient c = servers.client(p.server());
        long newId = c.join("app", "room", 3, "", 3).channelId();
        assertTrue(newId > 0);
        assertNotEquals(channelId, newId);
    }

    @Test
    void pingBeforeJoinIsAReachabilityProbe() throws Exception {
        RoomServer server = servers.start();
        TestClient probe = servers.client(server);
        probe.send(new Message.Ping(7));
        assertEquals(new Message.Pong(7), probe.expect(Message.Pong.class));
        probe.send(new Message.Ping(8));
        assertEquals(new Message.Pong(8), probe.expect(Message.Pong.class));
        // The same connection can then join: a probe that found the server becomes the attempt.
        assertTrue(probe.join("app", "probe-room", 4, "", 4).channelId() > 0);
    }

    @Test
    void pipelinedJoinPingLeaveAreHandledInOrder() throws Exception {
        RoomServer server = servers.start();
        TestClient a = servers.client(server);
        byte[] join = io.roomlink.server.protocol.WireCodec.encode(new Message.Join("app", "room", 1, "", 1, MediaClient.secret(1)));
        byte[] ping = io.roomlink.server.protocol.WireCodec.encode(new Message.Ping(99));
        byte[] leave = io.roomlink.server.protocol.WireCodec.encode(Message.Leave.INSTANCE);
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        all.write(join);
        all.write(ping);
        all.write(leave);
        a.sendRaw(all.toByteArray());
        List<Object> got = a.drainUntilClosed(TestClient.WAIT);
        assertEquals(3, got.size(), got.toString());
        assertTrue(got.get(0) instanceof Message.JoinOk, got.toString());
        assertEquals(new Message.Pong(99), got.get(1));
        assertEquals(Message.LeaveOk.INSTANCE, got.get(2));
        Await.until("session gone", Duration.ofSeconds(5), () -> server.sessionCount() == 0);
    }

    @Test
    void mediaBindAndPing() throws Exception {
        RoomServer server = servers.start();
        TestClient a = servers.client(server);
        a.join("app", "room", 1, "", 0xABCDEFL);
        MediaClient m = servers.media(server);
        m.bind(0xABCDEFL, 1);
        m.ping(0xABCDEFL, 2);
        m.ping(0xABCDEFL, -1); // seq is a u32: all bits echoed

        // PING from an address that is not bound: dropped, no PONG.
        MediaClient other = servers.media(server);
        long unboundBefore = server.stats().unboundDatagrams();
        other.send(new MediaPacket(MediaCodec.PING, 0xABCDEFL, 3, 4));
        assertEquals(null, other.receive(Duration.ofMillis(300)));
        Await.until("unbound ping counted", Duration.ofSeconds(5),
                () -> server.stats().unboundDatagrams() > unboundBefore);

        // A later BIND from the new address moves the binding.
        other.bind(0xABCDEFL, 5);
        other.ping(0xABCDEFL, 6);
        m.send(new MediaPacket(MediaCodec.PING, 0xABCDEFL, 7, 8));
        assertEquals(null, m.receive(Duration.ofMillis(300)));

        // Unknown key: dropped.
        m.send(new MediaPacket(MediaCodec.PING, 0x1234L, 9, 10));
        assertEquals(null, m.receive(Duration.ofMillis(200)));
    }

    @Test
    void bindBeforeJoinIsAckedWhenTheJoinArrives() throws Exception {
        RoomServer server = servers.start();
        MediaClient m = servers.media(server);
        long key = 0x5151_5151_5151L;
        long echo = 123_456_789L;
        m.send(new MediaPacket(MediaCodec.BIND, key, 42, echo));
        Await.until("pending bind", Duration.ofSeconds(5), () -> server.stats().pendingBinds() == 1);
        assertEquals(null, m.receive(Duration.ofMillis(100)), "no ack before the JOIN");
        TestClient a = servers.client(server);
        a.join("app", "room", 1, "", key);
        assertEquals(new MediaPacket(MediaCodec.BIND_ACK, key, 42, echo), MediaClient.uncounted(m.receive(TestClient.WAIT)));
        m.ping(key, 43); // the address is bound now
    }

    @Test
    void malformedDatagramsAreDroppedAndCounted() throws Exception {
        RoomServer server = servers.start();
        TestClient a = servers.client(server);
        a.join("app", "room", 1, "", 77);
        MediaClient m = servers.media(server);
        m.bind(77, 1);
        byte[] good = m.seal(new MediaPacket(MediaCodec.PING, 77, 1, 1));
        byte[] badMagic = good.clone();
        badMagic[0] = 0x00;
        byte[] badType = good.clone();
        badType[3] = 9;
        m.sendRaw(badMagic);
        m.sendRaw(badType);
        m.sendRaw(new byte[] {1, 2, 3});
        m.sendRaw(new byte[1200]);
        m.sendRaw(java.util.Arrays.copyOf(good, 49));
        Await.until("5 malformed datagrams counted", Duration.ofSeconds(5),
                () -> server.stats().malformedDatagrams() == 5);
        m.ping(77, 2); // the socket is fine
    }

    @Test
    void resumeKeepsTheSessionAndRestoresTheView() throws Exception {
        MemberPair p = servers.startPair();

        p.cutA();
        TestClient a2 = servers.client(p.server());
        Message.ResumeOk r = a2.resume(p.okA().sessionId(), p.okA().sessionSecret(), 3);
        assertTrue(r.resumed());
        assertEquals(p.okA().channelId(), r.channelId());
        assertEquals(p.okA().sessionId(), r.sessionId());
        assertFalse(java.util.Arrays.equals(p.okA().sessionSecret(), r.sessionSecret()), "the secret rotates");
        assertEquals("127.0.0.1", r.mediaHost());
        assertEquals(p.server().mediaPort(), r.mediaPort());
        // No snapshot after RESUME_OK(resumed=1): the stream's replay after lastReceived=0 says b joined.
        assertEquals(List.of(), a2.snapshot());
        assertEquals(2, a2.expect(Message.PeerJoined.class).uid());
        a2.pingPong(1);
        MediaClient m = servers.media(p.server());
        m.bind(3, 1);
        m.ping(3, 2);
        a2.keepAlive(servers.keepAlives(), TestServers.KEEPALIVE);
        m.keepAlive(servers.keepAlives(), 3, TestServers.KEEPALIVE);
        // peers see nothing, not even after the grace period would have run out
        p.b().expectSilence(TestServers.GRACE.plusMillis(500));
        assertEquals(Set.of(1L, 2L), p.server().members("app", "room"));
        assertEquals(1, p.server().stats().resumes());
    }
}
