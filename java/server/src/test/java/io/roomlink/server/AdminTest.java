package io.roomlink.server;

import io.roomlink.server.protocol.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** kickUser, closeChannel, duplicate uid, close() and start-up failures. */
class AdminTest {
    private final TestServers servers = new TestServers();

    @AfterEach
    void tearDown() throws Exception {
        servers.close();
    }

    private TestClient[] trio(RoomServer server) throws Exception {
        TestClient[] c = new TestClient[3];
        for (int i = 0; i < 3; i++) {
            c[i] = servers.member(server, "room", i + 1);
            assertEquals(i, c[i].snapshot().size());
            for (int j = 0; j < i; j++) {
                assertEquals(i + 1, c[j].expect(Message.PeerJoined.class).uid());
            }
        }
        return c;
    }

    @Test
    void kickUser() throws Exception {
        RoomServer server = servers.start();
        TestClient[] c = trio(server);
        Message.JoinOk okVictim;
        assertTrue(server.kickUser("app", "room", 2));
        Message.SessionEnd end = c[1].expect(Message.SessionEnd.class);
        assertEquals(ErrorCodes.SERVER_KICKED, end.code());
        c[1].expectClosed();
        for (TestClient peer : new TestClient[] {c[0], c[2]}) {
            Message.PeerLeft left = peer.expect(Message.PeerLeft.class);
            assertEquals(2, left.uid());
            assertEquals(Message.PeerLeft.REASON_KICKED, left.reason());
        }
        assertEquals(Set.of(1L, 3L), server.members("app", "room"));
        assertFalse(server.kickUser("app", "room", 2));
        assertFalse(server.kickUser("app", "nope", 1));
        assertEquals(2, server.sessionCount());

        // The kicked user may join again (with a valid token): it is a fresh login.
        TestClient again = servers.client(server);
        okVictim = again.join("app", "room", 2, "", 9);
        assertTrue(okVictim.channelId() > 0);
        servers.live(server, again, 9);
        assertEquals(2, c[0].expect(Message.PeerJoined.class).uid());
    }

    @Test
    void kickedSessionThatResumesLearnsItWasKicked() throws Exception {
        RoomServer server = servers.start();
        TestClient a = servers.client(server);
        Message.JoinOk ok = a.join("app", "room", 1, "", 1);
        servers.media(server).bind(1, 0); // fully connected: its drop leaves it in grace
        a.abort(); // in grace when the kick happens: it never saw SESSION_END
        Await.until("a in grace", Duration.ofSeconds(5), () -> server.sessionCount() == 1);
        assertTrue(server.kickUser("app", "room", 1));
        TestClient a2 = servers.client(server);
        a2.send(new Message.Resume(ok.sessionId(), ok.sessionSecret(), 2, MediaClient.secret(2)));
        assertEquals(ErrorCodes.SERVER_KICKED, a2.expect(Message.SessionEnd.class).code());
        a2.expectClosed();
        assertEquals(0, server.sessionCount());
    }

    @Test
    void closeChannel() throws Exception {
        RoomServer server = servers.start();
        TestClient[] c = trio(server);
        long oldId = server.channelId("app", "room").orElseThrow();
        TestClient other = servers.member(server, "other-room", 7);

        assertTrue(server.closeChannel("app", "room"));
        for (TestClient member : c) {
            List<Object> got = member.drainUntilClosed(TestClient.WAIT);
            assertEquals(1, got.size(), "only SESSION_END, no PEER_LEFT flood: " + got);
            assertEquals(new Message.SessionEnd(ErrorCodes.CHANNEL_CLOSED, "channel closed by the server"), got.get(0));
        }
        assertTrue(server.channelId("app", "room").isEmpty());
        assertEquals(Set.of(), server.members("app", "room"));
        assertEquals(1, server.sessionCount());
        assertFalse(server.closeChannel("app", "room"));
        other.pingPong(1);

        TestClient fresh = servers.client(server);
        long newId = fresh.join("app", "room", 1, "", 11).channelId();
        assertNotEquals(oldId, newId);
        fresh.expectSilence(Duration.ofMillis(100)); // the old members are gone
    }

    @Test
    void duplicateUidReplacesTheOldSessionWithoutAFlap() throws Exception {
        MemberPair p = servers.startPair();

        TestClient a2 = servers.client(p.server());
        Message.JoinOk okA2 = a2.join("app", "room", 1, "", 3);
        servers.live(p.server(), a2, 3);
        assertEquals(p.okA().channelId(), okA2.channelId());
        assertNotEquals(p.okA().sessionId(), okA2.sessionId());
        assertEquals(List.of(2L), a2.snapshot());
        Message.SessionEnd end = p.a().expect(Message.SessionEnd.class);
        assertEquals(ErrorCodes.SAME_UID_LOGIN, end.code());
        p.a().expectClosed();
        p.b().expectSilence(Duration.ofMillis(300)); // no PEER_LEFT/PEER_JOINED flap
        assertEquals(Set.of(1L, 2L), p.server().members("app", "room"));
        assertEquals(2, p.server().sessionCount());
        a2.pingPong(1);

        // The replaced session cannot be resumed.
        TestClient old = servers.client(p.server());
        old.send(new Message.Resume(p.okA().sessionId(), p.okA().sessionSecret(), 4, MediaClient.secret(4)));
        assertEquals(ErrorCodes.SAME_UID_LOGIN, old.expect(Message.SessionEnd.class).code());
        old.expectClosed();
        p.b().expectSilence(Duration.ofMillis(100));
    }

    @Test
    void duplicateUidReplacesASessionInGrace() throws Exception {
        MemberPair p = servers.startPair();
        p.cutA();
        TestClient a2 = servers.client(p.server());
        a2.join("app", "room", 1, "", 3);
        assertEquals(List.of(2L), a2.snapshot());
        servers.live(p.server(), a2, 3);
        // neither a flap now nor a TIMEOUT for the replaced session later
        p.b().expectSilence(TestServers.GRACE.plusMillis(500));
        assertEquals(Set.of(1L, 2L), p.server().members("app", "room"));
    }

    @Test
    void closeSendsSessionEndAndReleasesThePorts() throws Exception {
        MemberPair p = servers.startPair();
        TestClient idle = servers.client(p.server()); // connected, not joined yet
        idle.send(new Message.Ping(5)); // a probe's answer proves the server has accepted it
        assertEquals(new Message.Pong(5), idle.expect(Message.Pong.class));
        int signalPort = p.server().signalPort();
        int mediaPort = p.server().mediaPort();

        long t0 = System.nanoTime();
        p.server().close();
        long closeMs = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(closeMs < 3000, "close took " + closeMs + " ms");
        for (TestClient c : new TestClient[] {p.a(), p.b(), idle}) {
            List<Object> got = c.drainUntilClosed(TestClient.WAIT);
            assertEquals(List.of(new Message.SessionEnd(ErrorCodes.SERVER_SHUTDOWN, "server shutting down")), got);
        }
        InetAddress lo = InetAddress.getByName("127.0.0.1");
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(lo, signalPort));
        }
        try (DatagramSocket d = new DatagramSocket(new InetSocketAddress(lo, mediaPort))) {
            assertEquals(mediaPort, d.getLocalPort());
        }
        p.server().close(); // idempotent
        assertFalse(p.server().kickUser("app", "room", 1));
        assertEquals(0, p.server().sessionCount());
    }

    @Test
    void startFailsClearlyWhenAPortIsTaken() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> servers.start(
                    servers.builder().signalPort(taken.getLocalPort())));
            assertTrue(e.getMessage().contains("signal") && e.getMessage().contains(
                    String.valueOf(taken.getLocalPort())), e.getMessage());
        }
        try (DatagramSocket taken = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> servers.start(
                    servers.builder().mediaPort(taken.getLocalPort())));
            assertTrue(e.getMessage().contains("media"), e.getMessage());
        }
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> servers.start(servers.builder().bindAddress("no-such-host.invalid")));
        assertTrue(e.getMessage().contains("no-such-host.invalid"), e.getMessage());
    }

    @Test
    void builderValidatesArguments() {
        RoomServer.Builder b = RoomServer.builder();
        assertThrows(IllegalArgumentException.class, () -> b.signalPort(-1));
        assertThrows(IllegalArgumentException.class, () -> b.mediaPort(65536));
        assertThrows(IllegalArgumentException.class, () -> b.tokenSecret(""));
        assertThrows(IllegalArgumentException.class, () -> b.sessionGrace(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> b.idleTimeout(Duration.ofMillis(-1)));
        assertThrows(IllegalArgumentException.class, () -> b.advertisedMediaAddress("", 1));
        assertThrows(IllegalArgumentException.class, () -> b.expiredSessionRetention(Duration.ofSeconds(-1)));
        assertThrows(IllegalArgumentException.class, () -> b.bindAddress(" "));
    }

    @Test
    void advertisedMediaAddressIsToldToClients() throws Exception {
        RoomServer server = servers.start(servers.builder().advertisedMediaAddress("media.example.net", 4444));
        TestClient a = servers.client(server);
        Message.JoinOk ok = a.join("app", "room", 1, "", 1);
        assertEquals("media.example.net", ok.mediaHost());
        assertEquals(4444, ok.mediaPort());

        RoomServer wildcard = servers.start(servers.builder().bindAddress("0.0.0.0"));
        TestClient w = servers.client(wildcard);
        Message.JoinOk okW = w.join("app", "room", 1, "", 1);
        assertEquals("127.0.0.1", okW.mediaHost()); // the address the client reached
        assertEquals(wildcard.mediaPort(), okW.mediaPort());
    }

    @Test
    void manyServersStartAndStopQuickly() {
        long t0 = System.nanoTime();
        for (int i = 0; i < 5; i++) {
            RoomServer s = RoomServer.builder().plaintext().bindAddress("127.0.0.1").start();
            s.close();
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 10_000, "5 start/stop cycles took " + ms + " ms");
    }
}
