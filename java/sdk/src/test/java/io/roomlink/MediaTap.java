package io.roomlink;

import io.roomlink.server.protocol.MediaCodec;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A UDP relay between one engine and the server's media port that keeps a copy of every
 * datagram the engine sends: what an eavesdropper on the media path reads. The engine reaches it
 * through {@code mediaAddressOverride(tap.host(), tap.port())}. Test code only.
 */
final class MediaTap implements AutoCloseable {
    private final DatagramSocket front;
    private final DatagramSocket back;
    private final InetSocketAddress server;
    private final List<byte[]> upstream = new ArrayList<>();
    private volatile SocketAddress client;
    private final java.util.concurrent.atomic.AtomicLong delivered = new java.util.concurrent.atomic.AtomicLong();
    private final Thread up;
    private final Thread down;

    MediaTap(int serverMediaPort) throws SocketException {
        InetAddress lo = InetAddress.getLoopbackAddress();
        front = new DatagramSocket(0, lo);
        back = new DatagramSocket(0, lo);
        server = new InetSocketAddress(lo, serverMediaPort);
        up = new Thread(() -> relay(front, this::upToServer), "media-tap-up");
        down = new Thread(() -> relay(back, this::downToClient), "media-tap-down");
        up.setDaemon(true);
        down.setDaemon(true);
        up.start();
        down.start();
    }

    String host() {
        return "127.0.0.1";
    }

    int port() {
        return front.getLocalPort();
    }

    /** Copies of what the engine sent so far, oldest first. */
    List<byte[]> upstream() {
        synchronized (upstream) {
            return new ArrayList<>(upstream);
        }
    }

    /** How many server datagrams (BIND_ACK, PONG) reached the engine so far. */
    long delivered() {
        return delivered.get();
    }

    /** The newest datagram the engine sent of {@code type}, or {@code null}. */
    byte[] latest(int type) {
        List<byte[]> all = upstream();
        for (int i = all.size() - 1; i >= 0; i--) {
            byte[] d = all.get(i);
            if (d.length == MediaCodec.SIZE && (d[3] & 0xFF) == type) {
                return d;
            }
        }
        return null;
    }

    /** The engine's datagram: kept (up to a bound) and sent on to the server from the back socket. */
    private void upToServer(DatagramPacket p) throws IOException {
        client = p.getSocketAddress();
        synchronized (upstream) {
            if (upstream.size() < 100_000) {
                upstream.add(Arrays.copyOf(p.getData(), p.getLength()));
            }
        }
        back.send(new DatagramPacket(p.getData(), p.getLength(), server));
    }

    /** The server's datagram: to the engine's latest address, once it has sent one. */
    private void downToClient(DatagramPacket p) throws IOException {
        SocketAddress to = client;
        if (to != null) {
            front.send(new DatagramPacket(p.getData(), p.getLength(), to));
            delivered.incrementAndGet();
        }
    }

    private interface Forward {
        void accept(DatagramPacket p) throws IOException;
    }

    /** Receives on {@code from} until it is closed, handing each datagram to {@code forward}. */
    private static void relay(DatagramSocket from, Forward forward) {
        byte[] buf = new byte[MediaCodec.MAX_DATAGRAM];
        try {
            while (true) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                from.receive(p);
                forward.accept(p);
            }
        } catch (IOException e) {
            // closed
        }
    }

    @Override
    public void close() throws InterruptedException {
        front.close();
        back.close();
        up.join(5000);
        down.join(5000);
    }
}
