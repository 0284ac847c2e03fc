package io.roomlink.bench.attack;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.Iterator;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Hostile signaling connections kept up by one thread: {@code count} connections that either sit
 * idle (never sending a byte) or send pre-JOIN PINGs as fast as the server takes them and never
 * read. Each one the server closes is opened again at once (unless told not to), so the pressure
 * stays on. Connections may come from several local addresses (on loopback, any of 127/8), one
 * after another, as a flood from many hosts would.
 */
public final class Flood implements AutoCloseable {
    public enum Mode { IDLE, PING }

    private final InetSocketAddress server;
    private final java.util.List<InetSocketAddress> sources;
    private int nextSource;
    private final int count;
    private final Mode mode;
    private final boolean reopen;
    private final Selector selector;
    private final Thread thread;
    private volatile boolean running = true;
    public final AtomicLong opened = new AtomicLong();
    public final AtomicLong closedByServer = new AtomicLong();
    public final AtomicLong bytesSent = new AtomicLong();
    private final ByteBuffer pings;

    public Flood(int port, int count, Mode mode) throws IOException {
        this(port, count, mode, true);
    }

    /** {@code reopen}: open a new connection for each one the server closes. */
    public Flood(int port, int count, Mode mode, boolean reopen) throws IOException {
        this(port, count, mode, reopen, java.util.List.of());
    }

    /** {@code sources}: local addresses the connections come from in turn; empty: the kernel's choice. */
    public Flood(int port, int count, Mode mode, boolean reopen, java.util.List<String> sources) throws IOException {
        this.reopen = reopen;
        this.sources = sources.stream().map(s -> new InetSocketAddress(s, 0)).toList();
        this.server = new InetSocketAddress("127.0.0.1", port);
        this.count = count;
        this.mode = mode;
        this.selector = Selector.open();
        ByteBuffer b = ByteBuffer.allocate(14 * 4096);
        for (int i = 0; i < 4096; i++) {
            b.putInt(10).put((byte) 1).put((byte) 0x0A).putLong(i); // PING frame: len, ver, type, nonce
        }
        b.flip();
        this.pings = b.asReadOnlyBuffer();
        this.thread = new Thread(this::run, "flood-" + mode);
        this.thread.setDaemon(true);
    }

    public Flood start() {
        thread.start();
        return this;
    }

    private void open() throws IOException {
        SocketChannel ch = SocketChannel.open();
        ch.configureBlocking(false);
        if (!sources.isEmpty()) {
            ch.bind(sources.get(nextSource++ % sources.size()));
        }
        ch.connect(server);
        ch.register(selector, SelectionKey.OP_CONNECT, pings.duplicate());
        opened.incrementAndGet();
    }

    private void run() {
        try {
            for (int i = 0; i < count && running; i++) {
                open();
            }
            ByteBuffer sink = ByteBuffer.allocate(512);
            while (running) {
                selector.select(50);
                Iterator<SelectionKey> it = selector.selectedKeys().iterator();
                while (it.hasNext()) {
                    SelectionKey k = it.next();
                    it.remove();
                    SocketChannel ch = (SocketChannel) k.channel();
                    try {
                        if (k.isConnectable()) {
                            ch.finishConnect();
                            k.interestOps(mode == Mode.IDLE ? SelectionKey.OP_READ : SelectionKey.OP_WRITE);
                        } else if (k.isReadable()) {
                            sink.clear();
                            if (ch.read(sink) < 0) {
                                throw new IOException("closed by the server");
                            }
                        } else if (k.isWritable()) {
                            ByteBuffer buf = (ByteBuffer) k.attachment();
                            if (!buf.hasRemaining()) {
                                buf.rewind();
                            }
                            bytesSent.addAndGet(ch.write(buf));
                        }
                    } catch (IOException e) {
                        k.cancel();
                        ch.close();
                        closedByServer.incrementAndGet();
                        if (running && reopen) {
                            open();
                        }
                    }
                }
            }
        } catch (IOException e) {
            // the selector failed: the flood stops
        } finally {
            for (SelectionKey k : selector.keys()) {
                try {
                    k.channel().close();
                } catch (IOException e) {
                    // closing anyway
                }
            }
            try {
                selector.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }

    /** Stops the flood and closes every connection. */
    @Override
    public void close() throws InterruptedException {
        running = false;
        selector.wakeup();
        thread.join(10_000);
    }
}
