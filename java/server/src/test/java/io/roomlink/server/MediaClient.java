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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** Blocking UDP media client for tests. */
final class MediaClient implements AutoCloseable {
    private final DatagramSocket socket;
    private final InetSocketAddress server;

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
            if (p != null) {
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

    @Override
    public void close() {
        socket.close();
    }
}
