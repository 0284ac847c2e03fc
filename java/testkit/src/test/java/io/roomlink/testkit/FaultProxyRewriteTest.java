package io.roomlink.testkit;

import static io.roomlink.testkit.Await.WAIT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.roomlink.testkit.FaultProxy.Direction;
import io.roomlink.testkit.FaultProxy.Path;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The media address rewriting of a {@link FaultProxy} against a fake server: a plain TCP peer that
 * writes exactly the bytes a test wants, in exactly the chunks it wants.
 */
class FaultProxyRewriteTest {
    /** Not the proxy's host, and of another length: the rewrite must fix the frame length. */
    private static final String SERVER_MEDIA_HOST = "192.0.2.10";
    private static final int SERVER_MEDIA_PORT = 7000;
    private static final byte[] SECRET = "fedcba9876543210".getBytes();

    private FaultProxy proxy;
    private TcpPeer server;

    @BeforeEach
    void setUp() throws IOException {
        server = new TcpPeer();
        proxy = FaultProxy.start(3);
        proxy.forwardSignalTo("127.0.0.1", server.port());
        proxy.forwardMediaTo("127.0.0.1", SERVER_MEDIA_PORT);
    }

    @AfterEach
    void tearDown() throws IOException {
        proxy.close();
        server.close();
    }

    private static byte[] joinOk(String host, int port) {
        return WireClient.joinOkFrame(9, 0xABCDEF0123456789L, SECRET, host, port, 1_700_000_000_123L);
    }

    private static byte[] resumeOk(String host, int port) {
        return WireClient.resumeOkFrame(9, false, 0xABCDEF0123456789L, SECRET, host, port);
    }

    private byte[] joinOkViaProxy() {
        return joinOk(proxy.host(), proxy.mediaPort());
    }

    private static byte[] u64Frame(int type, long v) {
        return WireClient.frame(type, ByteBuffer.allocate(8).putLong(v).array());
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    @Test
    void joinOkArrivingOneByteAtATimeIsStillRewritten() throws IOException {
        Socket[] pair = server.connectThrough(proxy, WAIT);
        byte[] ok = joinOk(SERVER_MEDIA_HOST, SERVER_MEDIA_PORT);
        OutputStream out = pair[1].getOutputStream();
        for (int i = 0; i < ok.length; i++) {
            out.write(ok[i]);
            if (i < ok.length - 1) {
                // The proxy read this byte on its own (held: the frame is not complete) before the next is sent.
                int held = i + 1;
                Await.until(WAIT, "byte " + i + " to be read by the proxy", () -> proxy.stats().signalBytesHeld() == held);
            }
        }
        byte[] expected = joinOkViaProxy();
        assertArrayEquals(expected, TcpPeer.readExactly(pair[0], expected.length, WAIT));
        FaultProxy.Stats stats = proxy.stats();
        assertEquals(1, stats.signalFramesRewritten());
        assertEquals(expected.length, stats.signalBytesDownstream());
        assertEquals(0, stats.signalBytesHeld());

        // Several frames in one chunk: only RESUME_OK changes, the others pass byte for byte.
        byte[] mixed = concat(u64Frame(WireClient.PEER_JOINED, 77), resumeOk(SERVER_MEDIA_HOST, SERVER_MEDIA_PORT),
                u64Frame(WireClient.PONG, 3), WireClient.frame(WireClient.LEAVE_OK, new byte[0]));
        byte[] mixedExpected = concat(u64Frame(WireClient.PEER_JOINED, 77), resumeOk(proxy.host(), proxy.mediaPort()),
                u64Frame(WireClient.PONG, 3), WireClient.frame(WireClient.LEAVE_OK, new byte[0]));
        out.write(mixed);
        assertArrayEquals(mixedExpected, TcpPeer.readExactly(pair[0], mixedExpected.length, WAIT));
        assertEquals(2, proxy.stats().signalFramesRewritten());
    }

    @Test
    void clientToServerBytesAreNeverRewritten() throws IOException {
        Socket[] pair = server.connectThrough(proxy, WAIT);
        byte[] lookalike = joinOk(SERVER_MEDIA_HOST, SERVER_MEDIA_PORT);
        pair[0].getOutputStream().write(lookalike);
        assertArrayEquals(lookalike, TcpPeer.readExactly(pair[1], lookalike.length, WAIT));
        assertEquals(0, proxy.stats().signalFramesRewritten());
    }

    @Test
    void frameHeldByABlackholeWasRewrittenBeforeItWasHeld() throws IOException {
        Socket[] pair = server.connectThrough(proxy, WAIT);
        proxy.blackhole(Path.SIGNAL, Direction.DOWNSTREAM);
        byte[] ok = joinOk(SERVER_MEDIA_HOST, SERVER_MEDIA_PORT);
        OutputStream out = pair[1].getOutputStream();
        out.write(ok, 0, 10);
        Await.until(WAIT, "the first part to be read", () -> proxy.stats().signalBytesHeld() == 10);
        out.write(ok, 10, ok.length - 10);
        byte[] expected = joinOkViaProxy();
        Await.until(WAIT, "the rewritten frame to be held",
                () -> proxy.stats().signalBytesHeld() == expected.length && proxy.stats().signalFramesRewritten() == 1);
        assertTrue(TcpPeer.silentFor(pair[0], Duration.ofMillis(100)), "nothing crosses the blackhole");

        proxy.restore();
        assertArrayEquals(expected, TcpPeer.readExactly(pair[0], expected.length, WAIT));
    }

    @Test
    void rewritesUnderDelayJitterAndLossWithTheStreamIntact() throws IOException {
        Socket[] pair = server.connectThrough(proxy, WAIT);
        proxy.delay(Path.SIGNAL, Duration.ofMillis(20), Duration.ofMillis(15));
        proxy.loss(Path.SIGNAL, 0.1);
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        for (int i = 0; i < 10; i++) {
            byte[] ping = u64Frame(WireClient.PONG, i);
            sent.writeBytes(ping);
            sent.writeBytes(joinOk(SERVER_MEDIA_HOST, 1000 + i));
            expected.writeBytes(ping);
            expected.writeBytes(joinOkViaProxy());
        }
        byte[] bytes = sent.toByteArray();
        OutputStream out = pair[1].getOutputStream();
        for (int at = 0; at < bytes.length; at += 7) { // chunks that cut frames anywhere
            out.write(bytes, at, Math.min(7, bytes.length - at));
            out.flush();
        }
        assertArrayEquals(expected.toByteArray(), TcpPeer.readExactly(pair[0], expected.size(), WAIT));
        assertEquals(10, proxy.stats().signalFramesRewritten());
    }

    @Test
    void nothingIsRewrittenWithoutAMediaTargetOrWhenTurnedOff() throws IOException {
        byte[] ok = joinOk(SERVER_MEDIA_HOST, SERVER_MEDIA_PORT);
        try (FaultProxy signalOnly = FaultProxy.start(4)) {
            signalOnly.forwardSignalTo("127.0.0.1", server.port());
            Socket client = server.connect(signalOnly.signalPort());
            Socket serverSide = server.accept(WAIT);
            serverSide.getOutputStream().write(ok);
            assertArrayEquals(ok, TcpPeer.readExactly(client, ok.length, WAIT), "no media target: plain TCP proxy");
        }

        Socket[] pair = server.connectThrough(proxy, WAIT);
        proxy.rewriteMediaAddress(false);
        pair[1].getOutputStream().write(ok);
        assertArrayEquals(ok, TcpPeer.readExactly(pair[0], ok.length, WAIT), "turned off");
        proxy.rewriteMediaAddress(true);
        pair[1].getOutputStream().write(ok);
        byte[] expected = joinOkViaProxy();
        assertArrayEquals(expected, TcpPeer.readExactly(pair[0], expected.length, WAIT),
                "turned on again: the next frame on the same connection is rewritten");
        assertEquals(1, proxy.stats().signalFramesRewritten());
    }

    @Test
    void serverBytesItCannotFollowPassUnchangedForTheRestOfThatConnectionOnly() throws IOException {
        Socket[] broken = server.connectThrough(proxy, WAIT);
        byte[] tooShort = WireClient.frame(WireClient.JOIN_OK, ByteBuffer.allocate(8 + 8 + 16 + 2 + 4)
                .putLong(1).putLong(2).put(SECRET).putShort((short) 500).putInt(0).array());
        byte[] stream = concat(tooShort, joinOk(SERVER_MEDIA_HOST, SERVER_MEDIA_PORT));
        broken[1].getOutputStream().write(stream);
        assertArrayEquals(stream, TcpPeer.readExactly(broken[0], stream.length, WAIT));

        Socket[] garbage = server.connectThrough(proxy, WAIT);
        byte[] text = "HTTP/1.1 200 OK\r\n\r\n".getBytes();
        garbage[1].getOutputStream().write(text);
        assertArrayEquals(text, TcpPeer.readExactly(garbage[0], text.length, WAIT));

        Socket[] fine = server.connectThrough(proxy, WAIT);
        fine[1].getOutputStream().write(joinOk(SERVER_MEDIA_HOST, SERVER_MEDIA_PORT));
        byte[] expected = joinOkViaProxy();
        assertArrayEquals(expected, TcpPeer.readExactly(fine[0], expected.length, WAIT), "other connections still rewrite");
        assertEquals(1, proxy.stats().signalFramesRewritten());
    }

    @Test
    void serverClosingMidFrameDeliversWhatItSentThenEof() throws IOException {
        Socket[] pair = server.connectThrough(proxy, WAIT);
        byte[] ok = joinOk(SERVER_MEDIA_HOST, SERVER_MEDIA_PORT);
        pair[1].getOutputStream().write(ok, 0, 20);
        Await.until(WAIT, "the partial frame to be held", () -> proxy.stats().signalBytesHeld() == 20);
        pair[1].shutdownOutput();
        byte[] part = new byte[20];
        System.arraycopy(ok, 0, part, 0, 20);
        assertArrayEquals(part, TcpPeer.readExactly(pair[0], 20, WAIT));
        pair[0].setSoTimeout((int) WAIT.toMillis());
        assertEquals(-1, pair[0].getInputStream().read(), "then the server's FIN");
        Await.until(WAIT, "nothing held", () -> proxy.stats().signalBytesHeld() == 0);
    }
}
