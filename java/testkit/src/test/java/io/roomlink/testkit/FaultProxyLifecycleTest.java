package io.roomlink.testkit;

import static io.roomlink.testkit.Await.WAIT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.roomlink.testkit.FaultProxy.Direction;
import io.roomlink.testkit.FaultProxy.Path;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class FaultProxyLifecycleTest {

    @Test
    void restoreClearsEveryFaultAndReleasesWhatWasHeld() throws IOException {
        try (FaultProxy proxy = FaultProxy.start(1); TcpPeer tcp = new TcpPeer(); UdpPeer server = new UdpPeer();
             UdpPeer client = new UdpPeer()) {
            proxy.forwardSignalTo("127.0.0.1", tcp.port());
            proxy.forwardMediaTo("127.0.0.1", server.port());
            Socket c = tcp.connect(proxy.signalPort());
            Socket s = tcp.accept(WAIT);

            proxy.delay(Path.BOTH, Duration.ofSeconds(5), Duration.ZERO);
            c.getOutputStream().write(1);
            client.sendInt(1, proxy.mediaPort());
            Await.until(WAIT, "both to be held", () -> {
                FaultProxy.Stats st = proxy.stats();
                return st.signalBytesHeld() == 1 && st.mediaDatagramsHeld() == 1;
            });
            proxy.blackhole(Path.SIGNAL, Direction.BOTH);
            proxy.loss(Path.BOTH, 1.0);
            proxy.duplicate(1.0);
            proxy.reorder(1.0);

            long start = System.nanoTime();
            proxy.restore();
            assertEquals(1, TcpPeer.readExactly(s, 1, WAIT)[0]);
            DatagramPacket held = server.receive(WAIT);
            assertNotNull(held);
            long ms = Await.millisSince(start);
            assertTrue(ms < 250, "a 5 s delay must end with restore(); took " + ms + " ms");

            // Nothing is left: no loss, no duplicates, no reordering, no delay.
            SocketAddress seen = held.getSocketAddress();
            for (int i = 0; i < 20; i++) {
                client.sendInt(100 + i, proxy.mediaPort());
            }
            for (int i = 0; i < 20; i++) {
                DatagramPacket p = server.receive(WAIT);
                assertNotNull(p);
                assertEquals(100 + i, UdpPeer.intOf(p));
            }
            assertEquals(null, server.receive(Duration.ofMillis(100)));
            server.sendInt(7, seen);
            assertEquals(7, UdpPeer.intOf(client.receive(WAIT)));
            start = System.nanoTime();
            c.getOutputStream().write(2);
            assertEquals(2, TcpPeer.readExactly(s, 1, WAIT)[0]);
            s.getOutputStream().write(3);
            assertEquals(3, TcpPeer.readExactly(c, 1, WAIT)[0]);
            assertTrue(Await.millisSince(start) < 100);
        }
    }

    @Test
    void closeFreesBothPortsStopsTheThreadAndResetsConnections() throws IOException {
        FaultProxy proxy = FaultProxy.start();
        int signal = proxy.signalPort();
        int media = proxy.mediaPort();
        try (TcpPeer tcp = new TcpPeer()) {
            proxy.forwardSignalTo("127.0.0.1", tcp.port());
            Socket c = tcp.connect(signal);
            Socket s = tcp.accept(WAIT);
            assertNotNull(s);
            Await.until(WAIT, "the connection to be proxied", () -> proxy.stats().signalConnectionsOpen() == 1);

            proxy.close();
            proxy.close(); // idempotent

            for (Socket end : new Socket[] {c, s}) {
                end.setSoTimeout((int) WAIT.toMillis());
                assertThrows(IOException.class, () -> end.getInputStream().read(), "closing the proxy resets");
            }
        }
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (ServerSocket ss = new ServerSocket()) {
            ss.bind(new InetSocketAddress(loopback, signal));
        }
        try (DatagramSocket ds = new DatagramSocket(new InetSocketAddress(loopback, media))) {
            assertEquals(media, ds.getLocalPort());
        }
        assertTrue(Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().equals("roomlink-fault-proxy-" + signal)), "the I/O thread must stop");

        assertEquals(1, proxy.stats().signalConnectionsAccepted(), "stats still readable after close");
        assertThrows(IllegalStateException.class, () -> proxy.blackhole(Path.BOTH, Direction.BOTH));
    }

    @Test
    void connectionWithoutATargetOrWithADeadServerIsReset() throws IOException {
        try (FaultProxy proxy = FaultProxy.start(); TcpPeer tcp = new TcpPeer()) {
            Socket noTarget = tcp.connect(proxy.signalPort());
            noTarget.setSoTimeout((int) WAIT.toMillis());
            assertThrows(IOException.class, () -> noTarget.getInputStream().read());

            int deadPort;
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                deadPort = s.getLocalPort();
            }
            proxy.forwardSignalTo("127.0.0.1", deadPort);
            Socket refused = tcp.connect(proxy.signalPort());
            refused.setSoTimeout((int) WAIT.toMillis());
            assertThrows(IOException.class, () -> refused.getInputStream().read(),
                    "a refused upstream connect reaches the client as a reset");
            Await.until(WAIT, "both links to be gone", () -> proxy.stats().signalConnectionsOpen() == 0);
        }
    }

    @Test
    void rejectsBadArguments() {
        try (FaultProxy proxy = FaultProxy.start()) {
            assertThrows(IllegalArgumentException.class, () -> proxy.loss(Path.MEDIA, 1.5));
            assertThrows(IllegalArgumentException.class, () -> proxy.loss(Path.MEDIA, Double.NaN));
            assertThrows(IllegalArgumentException.class, () -> proxy.duplicate(-0.1));
            assertThrows(IllegalArgumentException.class, () -> proxy.reorder(2));
            assertThrows(IllegalArgumentException.class,
                    () -> proxy.delay(Path.SIGNAL, Duration.ofMillis(-1), Duration.ZERO));
            assertThrows(IllegalArgumentException.class, () -> proxy.forwardSignalTo("127.0.0.1", 0));
            assertThrows(NullPointerException.class, () -> proxy.blackhole(null, Direction.BOTH));
            assertThrows(NullPointerException.class, () -> proxy.blackhole(Path.BOTH, null));
        }
    }

    @Test
    void sameSeedGivesTheSameDecisions() throws IOException {
        assertEquals(lossPattern(99), lossPattern(99));
    }

    private static String lossPattern(long seed) throws IOException {
        try (FaultProxy proxy = FaultProxy.start(seed); UdpPeer server = new UdpPeer(); UdpPeer c = new UdpPeer()) {
            proxy.forwardMediaTo("127.0.0.1", server.port());
            proxy.loss(Path.MEDIA, 0.5);
            StringBuilder pattern = new StringBuilder();
            for (int i = 0; i < 40; i++) {
                c.sendInt(i, proxy.mediaPort());
                long processed = i + 1;
                Await.until(WAIT, "datagram " + i, () -> {
                    FaultProxy.Stats s = proxy.stats();
                    return s.mediaDatagramsUpstream() + s.mediaDroppedUpstream() == processed;
                });
                pattern.append(server.receive(Duration.ofMillis(5)) != null ? '1' : '0');
            }
            return pattern.toString();
        }
    }

    @Test
    void carriesFiftyClientsOnBothPathsAtOnce() throws Exception {
        int clients = 50;
        try (FaultProxy proxy = FaultProxy.start(); TcpPeer tcp = new TcpPeer(); UdpPeer server = new UdpPeer()) {
            proxy.forwardSignalTo("127.0.0.1", tcp.port());
            proxy.forwardMediaTo("127.0.0.1", server.port());
            proxy.delay(Path.BOTH, Duration.ofMillis(5), Duration.ofMillis(2));
            Socket[] c = new Socket[clients];
            Socket[] s = new Socket[clients];
            UdpPeer[] u = new UdpPeer[clients];
            try {
                for (int i = 0; i < clients; i++) {
                    c[i] = tcp.connect(proxy.signalPort());
                    s[i] = tcp.accept(WAIT);
                    u[i] = new UdpPeer();
                }
                long start = System.nanoTime();
                // Ten rounds of one signal ping and one media ping per client, all clients at once.
                for (int round = 0; round < 10; round++) {
                    for (int i = 0; i < clients; i++) {
                        c[i].getOutputStream().write(round);
                        u[i].sendInt(i, proxy.mediaPort());
                    }
                    for (int i = 0; i < clients; i++) {
                        assertArrayEquals(new byte[] {(byte) round}, TcpPeer.readExactly(s[i], 1, WAIT));
                        DatagramPacket p = server.receive(WAIT);
                        assertNotNull(p);
                        server.send(new byte[] {1, 2, 3, 4}, p.getSocketAddress());
                    }
                    for (int i = 0; i < clients; i++) {
                        assertNotNull(u[i].receive(WAIT), "media reply to client " + i);
                    }
                }
                long ms = Await.millisSince(start);
                assertTrue(ms < 3000, "500 signal and 1000 media pings through the proxy took " + ms + " ms");
                assertEquals(clients, proxy.stats().mediaClients());
                assertEquals(clients, proxy.stats().signalConnectionsOpen());
            } finally {
                for (UdpPeer p : u) {
                    if (p != null) {
                        p.close();
                    }
                }
            }
        }
    }
}
