package io.roomlink.server;

import io.roomlink.server.protocol.MediaCodec;
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

    void send(MediaPacket p) throws IOException {
        sendRaw(MediaCodec.encode(p));
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
            MediaPacket p = MediaCodec.decode(dp.getData(), dp.getOffset(), dp.getLength());
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

    /** Sends {@code p} and expects the echo of type {@code replyType}. */
    MediaPacket exchange(MediaPacket p, int replyType) throws IOException {
        send(p);
        MediaPacket r = receive(TestClient.WAIT);
        assertNotNull(r, "no reply to " + p);
        assertEquals(p.reply(replyType), r);
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
