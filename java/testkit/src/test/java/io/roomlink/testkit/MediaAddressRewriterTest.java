package io.roomlink.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The rewriter on its own, fed byte streams in every kind of chunking: no sockets. */
class MediaAddressRewriterTest {
    private static final String PROXY_HOST = "127.0.0.1";
    private static final int PROXY_PORT = 40000;
    private static final byte[] SECRET = "0123456789abcdef".getBytes();

    private final Counters counters = new Counters();
    private final MediaAddressRewriter rewriter = new MediaAddressRewriter(PROXY_HOST, PROXY_PORT, counters, "test");

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static byte[] joinOk(String host, int port) {
        return WireClient.joinOkFrame(7, 0x1122334455667788L, SECRET, host, port, 1_700_000_000_000L);
    }

    private static byte[] resumeOk(String host, int port) {
        return WireClient.resumeOkFrame(7, true, 0x1122334455667788L, SECRET, host, port);
    }

    private static byte[] u64Frame(int type, long v) {
        return WireClient.frame(type, ByteBuffer.allocate(8).putLong(v).array());
    }

    /** Feeds {@code in} in the given chunk sizes (cycled) and returns everything given back, drain included. */
    private byte[] feed(byte[] in, int[] chunks, boolean active) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int at = 0;
        for (int k = 0; at < in.length; k++) {
            int n = Math.min(chunks[k % chunks.length], in.length - at);
            out.writeBytes(rewriter.process(Arrays.copyOfRange(in, at, at + n), active));
            at += n;
        }
        out.writeBytes(rewriter.drain());
        assertEquals(0, rewriter.held());
        return out.toByteArray();
    }

    @Test
    void rewritesJoinOkAndResumeOkInAnyChunkingAndPassesEverythingElse() {
        String longHost = "h".repeat(255);
        byte[] unknownType = WireClient.frame(0x7F, new byte[] {1, 2, 3});
        byte[] leaveOk = WireClient.frame(WireClient.LEAVE_OK, new byte[0]);
        byte[] in = concat(u64Frame(WireClient.PEER_JOINED, 5), joinOk("10.1.2.3", 4000),
                u64Frame(WireClient.PONG, 3), resumeOk("media.example.net", 5), leaveOk, unknownType,
                joinOk(longHost, 65535), resumeOk("x", 1));
        byte[] expected = concat(u64Frame(WireClient.PEER_JOINED, 5), joinOk(PROXY_HOST, PROXY_PORT),
                u64Frame(WireClient.PONG, 3), resumeOk(PROXY_HOST, PROXY_PORT), leaveOk, unknownType,
                joinOk(PROXY_HOST, PROXY_PORT), resumeOk(PROXY_HOST, PROXY_PORT));

        assertArrayEquals(expected, feed(in, new int[] {in.length}, true), "one chunk");
        assertArrayEquals(expected, feed(in, new int[] {1}, true), "one byte at a time");
        Random random = new Random(1);
        for (int run = 0; run < 300; run++) {
            int[] chunks = random.ints(1 + random.nextInt(8), 1, 40).toArray();
            assertArrayEquals(expected, feed(in, chunks, true), "chunks " + Arrays.toString(chunks));
        }
        assertEquals(302 * 4, counters.signalFramesRewritten);
        assertFalse(rewriter.gaveUp());
    }

    @Test
    void holdsOnlyWhatItMustAndReleasesAFrameTheMomentItIsComplete() {
        byte[] ping = u64Frame(WireClient.PONG, 9);
        assertArrayEquals(new byte[0], rewriter.process(Arrays.copyOf(ping, 5), true), "a header waits for its type");
        assertEquals(5, rewriter.held());
        assertArrayEquals(ping, rewriter.process(Arrays.copyOfRange(ping, 5, ping.length), true));
        assertEquals(0, rewriter.held());

        byte[] ok = joinOk("10.0.0.1", 1234);
        byte[] rewritten = joinOk(PROXY_HOST, PROXY_PORT);
        for (int i = 0; i < ok.length - 1; i++) {
            assertEquals(0, rewriter.process(new byte[] {ok[i]}, true).length, "byte " + i + " is held");
            assertEquals(i + 1, rewriter.held());
        }
        assertArrayEquals(rewritten, rewriter.process(new byte[] {ok[ok.length - 1]}, true));
        assertEquals(0, rewriter.held());
        assertEquals(rewritten.length - ok.length, PROXY_HOST.length() - "10.0.0.1".length(), "the length prefix grew");
    }

    @Test
    void inactiveItHoldsAndChangesNothingAndPicksUpAtTheNextFrame() {
        byte[] ok = joinOk("10.0.0.1", 1234);
        for (byte b : ok) {
            assertArrayEquals(new byte[] {b}, rewriter.process(new byte[] {b}, false), "nothing is held while inactive");
        }
        assertEquals(0, counters.signalFramesRewritten);
        // Switched on: the next frame is rewritten.
        assertArrayEquals(joinOk(PROXY_HOST, PROXY_PORT), rewriter.process(ok, true));
        // Switched on half way through a header that already went out: that frame passes, the next is rewritten.
        assertArrayEquals(Arrays.copyOf(ok, 3), rewriter.process(Arrays.copyOf(ok, 3), false));
        assertArrayEquals(concat(Arrays.copyOfRange(ok, 3, ok.length), joinOk(PROXY_HOST, PROXY_PORT)),
                rewriter.process(concat(Arrays.copyOfRange(ok, 3, ok.length), ok), true));
        // A header held while active goes out when rewriting is switched off.
        assertEquals(0, rewriter.process(Arrays.copyOf(ok, 4), true).length);
        assertArrayEquals(ok, rewriter.process(Arrays.copyOfRange(ok, 4, ok.length), false));
        assertEquals(2, counters.signalFramesRewritten);
    }

    @Test
    void givesUpOnBytesItCannotFollowAndPassesTheRestThrough() {
        // A JOIN_OK whose host length runs past its payload: passed as it is, and so is all that follows.
        byte[] broken = WireClient.frame(WireClient.JOIN_OK, ByteBuffer.allocate(8 + 8 + 16 + 2 + 4)
                .putLong(1).putLong(2).put(SECRET).putShort((short) 500).putInt(0).array());
        byte[] valid = joinOk("10.0.0.1", 1234);
        byte[] in = concat(broken, valid, "anything".getBytes());
        assertArrayEquals(in, feed(in, new int[] {3}, true));
        assertTrue(rewriter.gaveUp());
        assertEquals(0, counters.signalFramesRewritten);
    }

    @Test
    void rejectsALengthOrVersionAsSoonAsItsBytesArrive() {
        MediaAddressRewriter r = new MediaAddressRewriter(PROXY_HOST, PROXY_PORT, counters, "t");
        assertArrayEquals(new byte[] {3}, r.process(new byte[] {3}, true), "no frame is 50 MB long: not held");
        assertTrue(r.gaveUp());

        r = new MediaAddressRewriter(PROXY_HOST, PROXY_PORT, counters, "t");
        assertArrayEquals(new byte[] {0, 1, 0, 1}, r.process(new byte[] {0, 1, 0, 1}, true), "65537 > MAX_FRAME");
        assertTrue(r.gaveUp());

        r = new MediaAddressRewriter(PROXY_HOST, PROXY_PORT, counters, "t");
        assertArrayEquals(new byte[] {0, 0, 0, 1}, r.process(new byte[] {0, 0, 0, 1}, true), "1 < MIN_FRAME");
        assertTrue(r.gaveUp());

        r = new MediaAddressRewriter(PROXY_HOST, PROXY_PORT, counters, "t");
        byte[] v2 = joinOk("10.0.0.1", 1234);
        v2[4] = 2;
        assertArrayEquals(v2, r.process(v2, true), "a version-2 frame is not ours to rewrite");
        assertTrue(r.gaveUp());
        assertEquals(0, counters.signalFramesRewritten);
    }

    @Test
    void drainGivesBackAPartialFrameUnchanged() {
        byte[] ok = joinOk("10.0.0.1", 1234);
        byte[] half = Arrays.copyOf(ok, ok.length / 2);
        assertEquals(0, rewriter.process(half, true).length);
        assertEquals(half.length, rewriter.held());
        assertArrayEquals(half, rewriter.drain());
        assertEquals(0, rewriter.held());
    }
}
