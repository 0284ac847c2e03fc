package io.roomlink.testkit;

import io.roomlink.server.protocol.MediaCodec;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A random-BIND flood at a room server's media port: well-formed media BINDs with random
 * mediaKeys, counters and tags, from {@code threads} sender threads as fast as each can send. It
 * is what any host can aim at the port (the source may be spoofed too), the attack the server's
 * O(1) pending-BIND store exists for (docs/PROTOCOL.md, "Media packets"). Close it to stop.
 */
public final class BindFlood implements AutoCloseable {
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong sent = new AtomicLong();
    private final List<Thread> senders = new ArrayList<>();

    private BindFlood() {
    }

    /** Starts {@code threads} senders at {@code host:port}, seeded 0, 1, … for reproducible keys. */
    public static BindFlood start(String host, int port, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        BindFlood f = new BindFlood();
        InetSocketAddress to = new InetSocketAddress(host, port);
        for (int i = 0; i < threads; i++) {
            long seed = i;
            Thread t = new Thread(() -> f.send(to, seed), "bind-flood-" + i);
            t.setDaemon(true);
            t.start();
            f.senders.add(t);
        }
        return f;
    }

    /** Datagrams sent so far. */
    public long sent() {
        return sent.get();
    }

    private void send(InetSocketAddress to, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        try (DatagramChannel ch = DatagramChannel.open()) {
            ch.connect(to);
            ByteBuffer d = ByteBuffer.allocateDirect(MediaCodec.SIZE);
            while (!stop.get()) {
                d.clear();
                d.putShort((short) MediaCodec.MAGIC).put((byte) MediaCodec.VERSION).put((byte) MediaCodec.BIND);
                d.putLong(random.nextLong()).putLong(1 + random.nextInt(1 << 20));
                d.putLong(random.nextLong()).putLong(random.nextLong()).putLong(random.nextLong()).putInt(random.nextInt());
                d.flip();
                try {
                    ch.write(d);
                    sent.incrementAndGet();
                } catch (PortUnreachableException e) {
                    // an ICMP error for an earlier datagram: keep going
                }
            }
        } catch (IOException e) {
            // the socket failed or closed: this sender ends
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop.set(true);
        for (Thread t : senders) {
            t.join();
        }
    }
}
