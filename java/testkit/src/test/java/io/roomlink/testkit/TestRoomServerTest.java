package io.roomlink.testkit;

import static io.roomlink.testkit.Await.WAIT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.roomlink.server.RoomServer;
import io.roomlink.testkit.FaultProxy.Direction;
import io.roomlink.testkit.FaultProxy.Path;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

class TestRoomServerTest {
    private static final String APP = "demo";
    private static final int BIND = 0x01;
    private static final int BIND_ACK = 0x02;

    @Test
    void joinPingAndMediaBindWorkThroughTheProxy() throws IOException {
        try (TestRoomServer rooms = TestRoomServer.builder().plaintext().withFaultProxy().start();
             WireClient client = new WireClient(rooms.clientHost(), rooms.clientSignalPort());
             UdpPeer media = new UdpPeer()) {
            assertTrue(rooms.hasFaultProxy());
            assertEquals(rooms.proxy().signalPort(), rooms.clientSignalPort());
            long mediaKey = ThreadLocalRandom.current().nextLong();

            client.join(APP, "room-1", 42, rooms.token(APP, "room-1", 42), mediaKey);
            WireClient.Frame ok = client.readUntil(WireClient.JOIN_OK, WAIT);
            assertEquals(rooms.proxy().mediaPort(), WireClient.mediaPortOf(ok),
                    "the server must advertise the proxy's media port");
            assertEquals(rooms.clientMediaPort(), WireClient.mediaPortOf(ok));

            client.send(WireClient.PING_NONCE_3);
            WireClient.Frame pong = client.readUntil(WireClient.PONG, WAIT);
            ByteArrayOutputStream raw = new ByteArrayOutputStream();
            raw.write(new byte[] {0, 0, 0, 10, 1, (byte) pong.type()});
            raw.write(pong.payload());
            assertArrayEquals(WireClient.PONG_NONCE_3, raw.toByteArray());

            media.send(WireClient.mediaPacket(BIND, mediaKey, 1, 99), WireClient.mediaPortOf(ok));
            DatagramPacket ack = media.receive(WAIT);
            assertNotNull(ack, "BIND_ACK through the proxy");
            ByteBuffer b = ByteBuffer.wrap(ack.getData(), 0, ack.getLength());
            assertEquals(BIND_ACK, b.get(3));
            assertEquals(mediaKey, b.getLong(4));

            FaultProxy.Stats stats = rooms.proxy().stats();
            assertEquals(1, stats.signalConnectionsAccepted());
            assertEquals(1, stats.mediaDatagramsUpstream());
            assertEquals(1, stats.mediaDatagramsDownstream());
            assertEquals(1, rooms.server().sessionCount());
        }
    }

    @Test
    void joinSentDuringSignalBlackholeIsAnsweredRightAfterRestore() throws IOException {
        try (TestRoomServer rooms = TestRoomServer.builder().plaintext().withFaultProxy().start();
             WireClient warmUp = new WireClient(rooms.clientHost(), rooms.clientSignalPort())) {
            // The first JOIN in a JVM is slow (class loading, JCE): keep that out of the timing.
            warmUp.join(APP, "room-0", 1, rooms.token(APP, "room-0", 1), 1);
            warmUp.readUntil(WireClient.JOIN_OK, WAIT);
            FaultProxy proxy = rooms.proxy();
            long upBefore = proxy.stats().signalBytesUpstream();

            // Connected before the cut (a connect during it would get no SYN-ACK, as on a dead network).
            try (WireClient client = new WireClient(rooms.clientHost(), rooms.clientSignalPort())) {
                Await.until(WAIT, "the proxy to reach the server", () -> rooms.server().connectionCount() == 2);
                proxy.blackhole(Path.SIGNAL, Direction.BOTH);
                byte[] join = WireClient.joinFrame(APP, "room-1", 7, rooms.token(APP, "room-1", 7), 2);
                client.send(join);
                assertThrows(SocketTimeoutException.class, () -> client.read(Duration.ofMillis(300)),
                        "the JOIN is held in the cut and gets no answer");
                assertEquals(1, rooms.server().sessionCount(), "only the warm-up session");

                long start = System.nanoTime();
                proxy.restore();
                Await.until(Duration.ofMillis(250), "the held JOIN to reach the server",
                        () -> proxy.stats().signalBytesUpstream() - upBefore >= join.length);
                client.readUntil(WireClient.JOIN_OK, WAIT);
                long ms = Await.millisSince(start);
                assertTrue(ms < 1000, "JOIN_OK should follow restore() at once, took " + ms + " ms");
            }
        }
    }

    @Test
    void withoutAProxyClientsTalkToTheServerDirectly() throws IOException {
        try (TestRoomServer rooms = TestRoomServer.builder().plaintext().start();
             WireClient client = new WireClient(rooms.clientHost(), rooms.clientSignalPort())) {
            assertFalse(rooms.hasFaultProxy());
            assertThrows(IllegalStateException.class, rooms::proxy);
            assertEquals(rooms.server().signalPort(), rooms.clientSignalPort());
            assertEquals(rooms.server().mediaPort(), rooms.clientMediaPort());
            assertEquals(TestRoomServer.DEFAULT_TOKEN_SECRET, rooms.tokenSecret());

            client.join(APP, "room-1", 1, rooms.token(APP, "room-1", 1), 5);
            assertEquals(rooms.server().mediaPort(),
                    WireClient.mediaPortOf(client.readUntil(WireClient.JOIN_OK, WAIT)));
        }
    }

    @Test
    void tokensAreCheckedAgainstTheSecret() throws IOException {
        try (TestRoomServer rooms = TestRoomServer.builder().plaintext().tokenSecret("another-secret").start();
             WireClient good = new WireClient(rooms.clientHost(), rooms.clientSignalPort());
             WireClient bad = new WireClient(rooms.clientHost(), rooms.clientSignalPort())) {
            good.join(APP, "room-1", 1, rooms.token(APP, "room-1", 1), 1);
            good.readUntil(WireClient.JOIN_OK, WAIT);
            bad.join(APP, "room-1", 2, rooms.token(APP, "room-1", 3), 2); // token for another uid
            assertEquals(31001, WireClient.codeOf(bad.readUntil(WireClient.JOIN_ERR, WAIT)));
        }
    }

    @Test
    void restartKeepsThePortsAndTheProxyForwardsToTheNewServer() throws IOException {
        try (TestRoomServer rooms = TestRoomServer.builder().plaintext().withFaultProxy()
                .sessionGrace(Duration.ofSeconds(2)).idleTimeout(Duration.ofSeconds(5)).start()) {
            int signal = rooms.serverSignalPort();
            int media = rooms.serverMediaPort();
            int proxySignal = rooms.clientSignalPort();
            RoomServer first = rooms.server();

            try (WireClient old = new WireClient(rooms.clientHost(), rooms.clientSignalPort())) {
                old.join(APP, "room-1", 1, rooms.token(APP, "room-1", 1), 1);
                old.readUntil(WireClient.JOIN_OK, WAIT);

                rooms.restart();

                assertEquals(31009, WireClient.codeOf(old.readUntil(WireClient.SESSION_END, WAIT)),
                        "the old server says goodbye through the proxy");
            }
            assertTrue(first != rooms.server(), "a new server instance");
            assertEquals(signal, rooms.server().signalPort());
            assertEquals(media, rooms.server().mediaPort());
            assertEquals(proxySignal, rooms.clientSignalPort());

            try (WireClient client = new WireClient(rooms.clientHost(), rooms.clientSignalPort());
                 UdpPeer udp = new UdpPeer()) {
                client.join(APP, "room-1", 1, rooms.token(APP, "room-1", 1), 77);
                WireClient.Frame ok = client.readUntil(WireClient.JOIN_OK, WAIT);
                assertEquals(rooms.proxy().mediaPort(), WireClient.mediaPortOf(ok));
                udp.send(WireClient.mediaPacket(BIND, 77, 0, 0), rooms.clientMediaPort());
                assertNotNull(udp.receive(WAIT), "media reaches the new server through the proxy");
            }
        }
    }

    @Test
    void stoppedServerRefusesUntilRestart() throws IOException {
        try (TestRoomServer rooms = TestRoomServer.builder().plaintext().start()) {
            int port = rooms.clientSignalPort();
            rooms.stopServer();
            assertThrows(IllegalStateException.class, rooms::server);
            assertThrows(IOException.class, () -> new WireClient(rooms.clientHost(), port).close());
            rooms.restart();
            try (WireClient client = new WireClient(rooms.clientHost(), port)) {
                client.join(APP, "room-1", 1, rooms.token(APP, "room-1", 1), 1);
                client.readUntil(WireClient.JOIN_OK, WAIT);
            }
        }
    }

    @Test
    void closeStopsServerAndProxy() {
        TestRoomServer rooms = TestRoomServer.builder().plaintext().withFaultProxy().start();
        FaultProxy proxy = rooms.proxy();
        rooms.close();
        rooms.close();
        assertThrows(IllegalStateException.class, rooms::server);
        assertThrows(IllegalStateException.class, rooms::restart);
        assertThrows(IllegalStateException.class, () -> proxy.blackhole(Path.BOTH, Direction.BOTH));
    }
}
