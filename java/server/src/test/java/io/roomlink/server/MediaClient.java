package io.roomlink.server;

import io.roomlink.server.protocol.MediaCodec;
import io.roomlink.server.protocol.MediaKeys;
import io.roomlink.server.protocol.MediaPacket;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Blocking UDP media client for tests. {@link #keepAlive} PINGs in the background with sequence
 * numbers tagged {@link #KEEPALIVE_SEQ}; {@link #receive} skips their PONGs.
 */
final class MediaClient implements AutoCloseable {
    /** High byte of the seq of a background keepalive PING. */
    static final int KEEPALIVE_SEQ = 0x4B00_0000;

    private final DatagramSocket socket;
    private final InetSocketAddress server;
    private final KeepAlive keepAlive = new KeepAlive("media keepalive");

    MediaClient(int serverPort) throws IOException {
        socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        server = new InetSocketAddress(InetAddress.getLoopbackAddress(), serverPort);
    }

    /**
     * The mediaSecret tests send with {@code key}: a function of the key, so a test that names a key
     * in its JOIN/RESUME and a MediaClient that binds it agree without passing secrets around.
     * Distinct keys give distinct secrets, which is all the server needs to tell sessions apart.
     */
    static byte[] secret(long key) {
        byte[] s = new byte[MediaKeys.SECRET_LEN];
        for (int i = 0; i < 8; i++) {
            s[i] = (byte) (key >>> (56 - 8 * i));
            s[8 + i] = (byte) ~s[i];
        }
        return s;
    }

    static MediaKeys keys(long key) {
        return MediaKeys.derive(key, secret(key));
    }

    /** Shared by all MediaClients: one key is one client, whichever socket (address) it sends from. */
    private static final java.util.Map<Long, long[]> counters = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * {@code p} without its counter (null stays null), to compare a server answer's fields: the
     * server's counters start at its monotonic clock (docs/PROTOCOL.md, "Nonce"), only their
     * growth is defined. A counter that is not positive is a failure in itself.
     */
    static MediaPacket uncounted(MediaPacket p) {
        if (p == null) {
            return null;
        }
        if (p.counter() <= 0) {
            throw new AssertionError("server answer without a counter: " + p);
        }
        return p.withCounter(0);
    }

    /** The next c2s counter of {@code key} (1, 2, …), as a real client numbers its datagrams. */
    static long nextCounter(long key) {
        long[] c = counters.computeIfAbsent(key, k -> new long[1]);
        synchronized (c) {
            return ++c[0];
        }
    }

    /** Seals {@code p} under its key's c2s key; a counter of 0 is replaced by the next one. */
    byte[] seal(MediaPacket p) {
        MediaPacket q = p.counter() == 0 ? p.withCounter(nextCounter(p.mediaKey())) : p;
        return MediaCodec.seal(q, keys(q.mediaKey()).clientToServer());
    }

    void send(MediaPacket p) throws IOException {
        sendRaw(seal(p));
    }

    void sendRaw(byte[] data) throws IOException {
        socket.send(new DatagramPacket(data, data.length, server));
    }

    /** The next well-formed datagram from the server, or null after {@code timeout}. */
    MediaPacket receive(Duration timeout) throws IOException {
        byte[] buf = new byte[MediaCodec.MAX_DATAGRAM];
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
            socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
            DatagramPacket dp = new DatagramPacket(buf, buf.length);
            try {
                socket.receive(dp);
            } catch (SocketTimeoutException e) {
                return null;
            }
            MediaPacket p = open(dp.getData(), dp.getOffset(), dp.getLength());
            boolean keepAlivePong = p != null && p.type() == MediaCodec.PONG
                    && (p.seq() & 0xFF00_0000) == KEEPALIVE_SEQ;
            if (p != null && !keepAlivePong) {
                return p;
            }
            if (System.nanoTime() >= deadline) {
                return null;
            }
        }
    }

    /** Opens a datagram from the server under the s2c key its clear mediaKey names; null if it fails. */
    static MediaPacket open(byte[] data, int off, int len) {
        if (len != MediaCodec.SIZE) {
            return null;
        }
        long key = io.netty.buffer.Unpooled.wrappedBuffer(data, off, len).getLong(4);
        return MediaCodec.open(data, off, len, keys(key).serverToClient());
    }

    /** Sends {@code p} and expects the echo of type {@code replyType}. */
    MediaPacket exchange(MediaPacket p, int replyType) throws IOException {
        send(p);
        MediaPacket r = receive(TestClient.WAIT);
        assertNotNull(r, "no reply to " + p);
        assertEquals(new MediaPacket(replyType, p.mediaKey(), p.seq(), p.echoNs()), r.withCounter(0));
        return r;
    }

    MediaPacket bind(long key, int seq) throws IOException {
        return exchange(new MediaPacket(MediaCodec.BIND, key, seq, System.nanoTime()), MediaCodec.BIND_ACK);
    }

    MediaPacket ping(long key, int seq) throws IOException {
        return exchange(new MediaPacket(MediaCodec.PING, key, seq, System.nanoTime()), MediaCodec.PONG);
    }

    /** PINGs {@code key} every {@code period} in the background until {@link #stopKeepAlive()} or close. */
    void keepAlive(ScheduledExecutorService scheduler, long key, Duration period) {
        keepAlive.start(scheduler, period, n -> send(new MediaPacket(MediaCodec.PING, key,
                KEEPALIVE_SEQ | (int) (n & 0xFF_FFFF), System.nanoTime())));
    }

    /** The media path goes silent (the binding stays). */
    void stopKeepAlive() {
        keepAlive.stop();
    }

    @Override
    public void close() {
        stopKeepAlive();
        socket.close();
    }
}
