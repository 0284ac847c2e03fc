package io.roomlink.testkit;

import static io.roomlink.testkit.Await.WAIT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.roomlink.server.protocol.Message;
import io.roomlink.server.protocol.WireCodec;
import io.roomlink.testkit.FaultProxy.Direction;
import io.roomlink.testkit.FaultProxy.Path;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Several proxies in front of one real server: each is one client's network. */
class TestRoomServerProxiesTest {
    private static final String APP = "demo";
    private static final String ROOM = "room-1";
    private static final int BIND = 0x01;
    private static final int BIND_ACK = 0x02;
    private static final int MEDIA_PING = 0x03;
    private static final int MEDIA_PONG = 0x04;

    private static WireClient.Frame join(TestRoomServer rooms, WireClient client, long uid, long mediaKey)
            throws IOException {
        client.join(APP, ROOM, uid, rooms.token(APP, ROOM, uid), mediaKey);
        return client.readUntil(WireClient.JOIN_OK, WAIT);
    }

    /** Binds {@code media} to {@code mediaKey} at the advertised port and waits for BIND_ACK. */
    private static void bind(UdpPeer media, long mediaKey, int port) throws IOException {
        media.send(WireClient.mediaPacket(BIND, mediaKey, 0, 0), port);
        DatagramPacket ack = media.receive(WAIT);
        assertNotNull(ack, "BIND_ACK via port " + port);
        assertEquals(BIND_ACK, ack.getData()[3]);
        assertEquals(port, ack.getPort(), "the answer comes from where the bind went");
    }

    /** A media PING and its PONG, or null if none comes within {@code wait}. */
    private static DatagramPacket mediaPing(UdpPeer media, long mediaKey, int seq, int port, Duration wait)
            throws IOException {
        media.send(WireClient.mediaPacket(MEDIA_PING, mediaKey, seq, seq * 1000L), port);
        return media.receive(wait);
    }

    @Test
    void eachClientIsToldTheMediaAddressOfItsOwnNetwork() throws Exception {
        try (TestRoomServer rooms = TestRoomServer.builder().plaintext().withFaultProxy(1).start();
             WireClient viaP1 = new WireClient(rooms.clientHost(), rooms.clientSignalPort());
             WireClient direct = new WireClient(rooms.clientHost(), rooms.serverSignalPort());
             UdpPeer mediaP1 = new UdpPeer(); UdpPeer mediaDirect = new UdpPeer(); UdpPeer mediaP2 = new UdpPeer()) {
            FaultProxy p1 = rooms.proxy();
            FaultProxy p2 = rooms.newFaultProxy(2);
            assertEquals(List.of(p1, p2), rooms.proxies());
            assertTrue(p1.mediaPort() != p2.mediaPort() && p2.mediaPort() != rooms.serverMediaPort());

            WireClient.Frame ok1 = join(rooms, viaP1, 1, 11);
            assertEquals(p1.host(), WireClient.mediaHostOf(ok1));
            assertEquals(p1.mediaPort(), WireClient.mediaPortOf(ok1));
            Message decoded = WireCodec.decodeFrame(ok1.raw()); // the server's own codec accepts the rewrite
            assertEquals(p1.mediaPort(), assertInstanceOf(Message.JoinOk.class, decoded).mediaPort());

            WireClient.Frame okDirect = join(rooms, direct, 2, 22);
            assertEquals("127.0.0.1", WireClient.mediaHostOf(okDirect));
            assertEquals(rooms.serverMediaPort(), WireClient.mediaPortOf(okDirect), "the server's real media port");
            assertEquals(rooms.server().mediaPort(), WireClient.mediaPortOf(okDirect));

            try (WireClient viaP2 = new WireClient(p2.host(), p2.signalPort())) {
                WireClient.Frame ok2 = join(rooms, viaP2, 3, 33);
                assertEquals(p2.mediaPort(), WireClient.mediaPortOf(ok2));

                bind(mediaP1, 11, WireClient.mediaPortOf(ok1));
                bind(mediaDirect, 22, WireClient.mediaPortOf(okDirect));
                bind(mediaP2, 33, WireClient.mediaPortOf(ok2));
                assertEquals(3, rooms.server().sessionCount());
            }
            assertEquals(1, p1.stats().signalFramesRewritten());
            assertEquals(1, p2.stats().signalFramesRewritten());
            assertEquals(1, p1.stats().mediaDatagramsDownstream());
            assertEquals(1, p2.stats().mediaDatagramsDownstream());
        }
    }

    @Test
    void resumeOkIsRewrittenForTheNetworkItCrosses() throws Exception {
        try (TestRoomServer rooms = TestRoomServer.builder().plaintext().withFaultProxy(1).start();
             WireClient first = new WireClient(rooms.clientHost(), rooms.clientSignalPort())) {
            FaultProxy p1 = rooms.proxy();
            FaultProxy p2 = rooms.newFaultProxy(2);
            WireClient.Frame ok = join(rooms, first, 1, 100);
            long sessionId = WireClient.sessionIdOf(ok);
            byte[] secret = WireClient.secretOf(ok);

            int[][] routes = {
                {p2.signalPort(), p2.mediaPort()},
                {rooms.serverSignalPort(), rooms.serverMediaPort()},
                {p1.signalPort(), p1.mediaPort()},
            };
            long mediaKey = 101;
            for (int[] route : routes) {
                // Each RESUME replaces the session's previous connection, as a client that changed networks.
                try (WireClient again = new WireClient(rooms.clientHost(), route[0])) {
                    again.resume(sessionId, secret, mediaKey);
                    WireClient.Frame resumed = again.readUntil(WireClient.RESUME_OK, WAIT);
                    assertTrue(WireClient.resumedOf(resumed), "the same session goes on");
                    assertEquals(sessionId, WireClient.sessionIdOf(resumed));
                    assertEquals("127.0.0.1", WireClient.mediaHostOf(resumed));
                    assertEquals(route[1], WireClient.mediaPortOf(resumed), "RESUME_OK via signal port " + route[0]);
                    Message decoded = WireCodec.decodeFrame(resumed.raw());
                    assertEquals(route[1], assertInstanceOf(Message.ResumeOk.class, decoded).mediaPort());
                    secret = WireClient.secretOf(resumed);
                    try (UdpPeer media = new UdpPeer()) {
                        bind(media, mediaKey, route[1]);
                    }
                }
                mediaKey++;
            }
            assertEquals(2, p1.stats().signalFramesRewritten(), "JOIN_OK and one RESUME_OK");
            assertEquals(1, p2.stats().signalFramesRewritten());
        }
    }

    @Test
    void cuttingOneClientsNetworkLeavesItsPeersNetworkAlone() throws Exception {
        try (TestRoomServer rooms = TestRoomServer.builder().plaintext().withFaultProxy(1).start();
             WireClient a = new WireClient(rooms.clientHost(), rooms.clientSignalPort());
             UdpPeer mediaA = new UdpPeer(); UdpPeer mediaB = new UdpPeer()) {
            FaultProxy networkOfA = rooms.proxy();
            FaultProxy networkOfB = rooms.newFaultProxy(2);
            try (WireClient b = new WireClient(networkOfB.host(), networkOfB.signalPort())) {
                int portA = WireClient.mediaPortOf(join(rooms, a, 1, 1001));
                int portB = WireClient.mediaPortOf(join(rooms, b, 2, 2002));
                bind(mediaA, 1001, portA);
                bind(mediaB, 2002, portB);
                // Each becomes visible to the other once its media is bound (present = fully connected).
                a.readUntil(WireClient.PEER_JOINED, WAIT);
                b.readUntil(WireClient.PEER_JOINED, WAIT); // signaling is quiet from here on

                networkOfA.blackhole(Path.BOTH, Direction.BOTH); // A's cable is pulled

                for (int seq = 1; seq <= 20; seq++) {
                    DatagramPacket pong = mediaPing(mediaB, 2002, seq, portB, WAIT);
                    assertNotNull(pong, "B's media ping " + seq + " through its own network");
                    ByteBuffer p = ByteBuffer.wrap(pong.getData(), 0, pong.getLength());
                    assertEquals(MEDIA_PONG, p.get(3));
                    assertEquals(seq, WireClient.openReply(pong, 2002).seq());
                }
                b.send(WireClient.PING_NONCE_3);
                WireClient.Frame next = b.read(WAIT);
                assertEquals(WireClient.PONG, next.type(), "B's signaling goes on and B hears nothing else");

                assertNull(mediaPing(mediaA, 1001, 1, portA, Duration.ofMillis(300)), "A's media is cut");
                a.send(WireClient.PING_NONCE_3);
                assertThrows(SocketTimeoutException.class, () -> a.read(Duration.ofMillis(200)), "A's signaling too");
                FaultProxy.Stats statsA = networkOfA.stats();
                FaultProxy.Stats statsB = networkOfB.stats();
                assertEquals(1, statsA.mediaDroppedUpstream());
                assertEquals(0, statsB.mediaDroppedUpstream() + statsB.mediaDroppedDownstream());
                assertEquals(21, statsB.mediaDatagramsDownstream(), "BIND_ACK and 20 PONGs");

                networkOfA.restore();
                assertEquals(WireClient.PONG, a.read(WAIT).type(), "the held PING is answered at once");
                assertNotNull(mediaPing(mediaA, 1001, 2, portA, WAIT), "and A's media flows again");
            }
        }
    }

    @Test
    void newFaultProxyFrontsAServerWithoutADefaultProxyAndIsOwnedByIt() throws Exception {
        TestRoomServer rooms = TestRoomServer.builder().plaintext().start();
        FaultProxy p;
        try {
            p = rooms.newFaultProxy(9);
            assertEquals(9, p.seed());
            assertFalse(rooms.hasFaultProxy(), "no default proxy");
            assertThrows(IllegalStateException.class, rooms::proxy);
            assertEquals(rooms.serverSignalPort(), rooms.clientSignalPort());
            assertEquals(rooms.serverMediaPort(), rooms.clientMediaPort());
            FaultProxy closedByTheTest = rooms.newFaultProxy();
            closedByTheTest.close();
            assertEquals(List.of(p, closedByTheTest), rooms.proxies());

            rooms.restart(); // same server ports: the proxies need no new targets

            try (WireClient client = new WireClient(p.host(), p.signalPort()); UdpPeer media = new UdpPeer()) {
                WireClient.Frame ok = join(rooms, client, 1, 5);
                assertEquals(p.mediaPort(), WireClient.mediaPortOf(ok));
                bind(media, 5, p.mediaPort());
            }
        } finally {
            rooms.close();
        }
        assertThrows(IllegalStateException.class, () -> p.blackhole(Path.BOTH, Direction.BOTH), "closed with the server");
        assertThrows(IllegalStateException.class, rooms::newFaultProxy);
    }

    @Test
    void aSlowLossyNetworkStillGetsItsOwnMediaAddress() throws Exception {
        try (TestRoomServer rooms = TestRoomServer.builder().plaintext().start()) {
            FaultProxy slow = rooms.newFaultProxy(11);
            slow.delay(Path.SIGNAL, Duration.ofMillis(30), Duration.ofMillis(20));
            slow.loss(Path.SIGNAL, 0.3);
            try (WireClient client = new WireClient(slow.host(), slow.signalPort())) {
                client.join(APP, ROOM, 1, rooms.token(APP, ROOM, 1), 8);
                WireClient.Frame ok = client.readUntil(WireClient.JOIN_OK, Duration.ofSeconds(10));
                assertEquals(slow.mediaPort(), WireClient.mediaPortOf(ok));
                assertArrayEquals(ok.raw(), WireCodec.encode(WireCodec.decodeFrame(ok.raw())),
                        "a well-formed frame: the server's codec re-encodes it to the same bytes");
            }
            assertSame(slow, rooms.proxies().get(0));
        }
    }
}
