package io.roomlink.testkit;

import io.roomlink.testkit.FaultProxy.Direction;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One proxied TCP connection: the accepted client socket, the socket to the server, and a
 * {@link TcpPipe} each way. All methods run on the I/O thread.
 */
final class TcpLink {
    private static final Logger log = LoggerFactory.getLogger(TcpLink.class);

    private enum State {
        /** Upstream is blackholed: a real SYN would not reach the server, so don't connect yet. */
        WAITING_FOR_UPSTREAM,
        CONNECTING,
        OPEN,
        /**
         * The client closed or reset while upstream was blackholed: its side is closed and nothing
         * is held. The server side stays, unread and unwritten, until upstream is restored, and is
         * then reset, as the server's next packet would be answered by the client's kernel.
         */
        CLIENT_GONE,
        CLOSED
    }

    private final ProxyState st;
    private final TcpRelay relay;
    private final Side clientSide;
    private final Side serverSide;
    private final TcpPipe up;
    private final TcpPipe down;
    /** Follows the server's frames and rewrites the media address in JOIN_OK/RESUME_OK; created in start(). */
    private MediaAddressRewriter rewriter;
    private State state = State.WAITING_FOR_UPSTREAM;
    /** The client's FIN or reset arrived, or its socket was closed: no longer in signalConnectionsOpen. */
    private boolean clientEnded;

    TcpLink(ProxyState st, TcpRelay relay, SocketChannel client) {
        this.st = st;
        this.relay = relay;
        long now = System.nanoTime();
        this.up = new TcpPipe(Direction.UPSTREAM, now);
        this.down = new TcpPipe(Direction.DOWNSTREAM, now);
        this.clientSide = new Side(true);
        this.serverSide = new Side(false);
        clientSide.channel = client;
    }

    void start(InetSocketAddress target) {
        st.counters.signalConnectionsAccepted++;
        st.counters.signalConnectionsOpen++;
        String name;
        try {
            name = "connection from " + clientSide.channel.getRemoteAddress();
        } catch (IOException e) {
            name = "connection";
        }
        // Chosen per connection: TLS bytes (a TLS server) must pass untouched from the first one.
        rewriter = st.rewritingMediaAddress()
                ? new MediaAddressRewriter(st.mediaHost, st.mediaPort, st.counters, name) : null;
        try {
            clientSide.channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            clientSide.key = st.loop.register(clientSide.channel, SelectionKey.OP_READ, clientSide);
        } catch (IOException e) {
            log.debug("cannot set up accepted connection", e);
            abort();
            return;
        }
        if (target == null) {
            log.warn("signal connection accepted but forwardSignalTo() was never called: resetting it");
            abort();
            return;
        }
        if (!st.faults.signal().blackholed(Direction.UPSTREAM)) {
            connectUpstream(target);
        }
    }

    /** The faults changed: maybe connect now, maybe held bytes may flow. */
    void onFaultsChanged(boolean releaseHeld) {
        if (state == State.CLOSED) {
            return;
        }
        if (state == State.CLIENT_GONE) {
            if (!st.faults.signal().blackholed(Direction.UPSTREAM)) {
                abort();
            }
            return;
        }
        if (releaseHeld) {
            long now = System.nanoTime();
            up.releaseAllNow(now);
            down.releaseAllNow(now);
        }
        if (state == State.WAITING_FOR_UPSTREAM && !st.faults.signal().blackholed(Direction.UPSTREAM)) {
            connectUpstream(relay.target());
        }
        flush();
    }

    private void connectUpstream(InetSocketAddress target) {
        if (target == null) {
            abort();
            return;
        }
        try {
            SocketChannel server = SocketChannel.open();
            serverSide.channel = server;
            server.configureBlocking(false);
            server.setOption(StandardSocketOptions.TCP_NODELAY, true);
            boolean connected = server.connect(target);
            serverSide.key = st.loop.register(server, connected ? 0 : SelectionKey.OP_CONNECT, serverSide);
            state = connected ? State.OPEN : State.CONNECTING;
            flush();
        } catch (IOException e) {
            log.debug("connect to {} failed: {}", target, e.toString());
            abort(); // the client sees a reset, as it would from a refused connection
        }
    }

    /** Resets both sides with SO_LINGER 0, so each peer gets an RST rather than a FIN. */
    void abort() {
        if (state != State.CLOSED) {
            end(true);
        }
    }

    private void closeGracefully() {
        end(false);
    }

    private void end(boolean reset) {
        state = State.CLOSED;
        if (reset) {
            closeHard(clientSide.channel);
            closeHard(serverSide.channel);
            st.counters.signalConnectionsReset++;
        } else {
            closeQuietly(clientSide.channel);
            closeQuietly(serverSide.channel);
        }
        markClientEnded();
        discardHeld();
        relay.removed(this);
    }

    private void markClientEnded() {
        if (!clientEnded) {
            clientEnded = true;
            st.counters.signalConnectionsOpen--;
        }
    }

    /** {@code pipe}'s source sent its FIN ({@code kind} FIN) or failed (RESET). */
    private void sourceEnded(TcpPipe pipe, TcpPipe.Kind kind, long now, PathFaults faults) {
        if (pipe == down) {
            drainRewriter(now, faults);
        } else {
            markClientEnded();
            if (faults.blackholed(Direction.UPSTREAM)) {
                clientGoneDuringBlackhole(kind);
                return;
            }
        }
        pipe.offerEnd(kind, now, faults, st);
    }

    /**
     * The client closed or reset, and upstream is blackholed. Its kernel stops retransmitting what
     * the blackhole holds and its FIN or RST is lost as well: the held bytes never reach the server,
     * which hears of it only when the network returns. A FIN counts as a close, not a half-close.
     */
    private void clientGoneDuringBlackhole(TcpPipe.Kind kind) {
        log.debug("client {} during an upstream blackhole: its held bytes are discarded",
                kind == TcpPipe.Kind.RESET ? "reset" : "closed");
        if (state == State.WAITING_FOR_UPSTREAM) {
            end(kind == TcpPipe.Kind.RESET); // the server never heard of this connection
            return;
        }
        state = State.CLIENT_GONE;
        closeQuietly(clientSide.channel);
        discardHeld();
    }

    /** Forgets what is held both ways, counting it as discarded. */
    private void discardHeld() {
        up.discard(st.counters);
        down.discard(st.counters);
        if (rewriter != null) {
            int held = rewriter.held();
            st.counters.signalBytesHeld -= held;
            st.counters.signalBytesDiscarded += held;
            rewriter.drain(); // forgotten: the connection is gone
        }
    }

    /**
     * Server-to-client bytes go through the rewriter as they are read, before any fault holds
     * them: a JOIN_OK held by a blackhole or a delay is already rewritten. Bytes the rewriter
     * keeps (a frame not yet complete) count as held.
     */
    private byte[] rewriteDownstream(byte[] bytes) {
        if (rewriter == null) {
            return bytes;
        }
        int before = rewriter.held();
        byte[] out = rewriter.process(bytes, st.rewritingMediaAddress());
        st.counters.signalBytesHeld += rewriter.held() - before;
        return out;
    }

    /** The server's side ended: what the rewriter holds goes out, unchanged, ahead of the FIN or reset. */
    private void drainRewriter(long now, PathFaults faults) {
        if (rewriter == null) {
            return;
        }
        int held = rewriter.held();
        byte[] rest = rewriter.drain();
        st.counters.signalBytesHeld -= held;
        if (rest.length > 0) {
            down.offerData(rest, now, faults, st);
        }
    }

    private void flush() {
        pump(up);
        pump(down);
        updateInterest();
    }

    /** Writes whatever is due in {@code pipe}, in order, unless that direction is blackholed. */
    private void pump(TcpPipe pipe) {
        pipe.writeBlocked = false;
        if (state == State.CLOSED || state == State.CLIENT_GONE || (pipe == up && state != State.OPEN)
                || st.faults.signal().blackholed(pipe.direction)) {
            return; // held, not lost: it goes out after restore()
        }
        SocketChannel dest = (pipe == up ? serverSide : clientSide).channel;
        long now = System.nanoTime();
        TcpPipe.Chunk c;
        while ((c = pipe.peek()) != null) {
            if (c.releaseAt - now > 0) {
                wakeAt(pipe, c.releaseAt);
                return;
            }
            try {
                switch (c.kind) {
                    case DATA -> {
                        int n = dest.write(c.data);
                        st.counters.signalForwarded(pipe.direction, n);
                        if (c.data.hasRemaining()) {
                            pipe.writeBlocked = true;
                            return;
                        }
                        pipe.remove(c);
                    }
                    case FIN -> {
                        pipe.remove(c);
                        dest.shutdownOutput();
                        pipe.finished = true;
                        if (up.finished && down.finished) {
                            closeGracefully();
                            return;
                        }
                    }
                    case RESET -> {
                        abort();
                        return;
                    }
                }
            } catch (IOException e) {
                log.debug("write {} failed: {}", pipe.direction, e.toString());
                abort();
                return;
            }
        }
    }

    private void wakeAt(TcpPipe pipe, long at) {
        if (pipe.wake != null) {
            if (pipe.wake.at == at) {
                return;
            }
            pipe.wake.cancel();
        }
        pipe.wake = st.loop.schedule(at, () -> {
            pipe.wake = null;
            flush();
        }, false);
    }

    private void read(Side src) {
        TcpPipe pipe = src.isClient ? up : down;
        PathFaults faults = st.faults.signal();
        long now = System.nanoTime();
        while (pipe.acceptsInput()) {
            ByteBuffer buf = st.loop.readBuffer();
            int n;
            try {
                n = src.channel.read(buf);
            } catch (IOException e) {
                log.debug("read {} failed: {}", pipe.direction, e.toString());
                sourceEnded(pipe, TcpPipe.Kind.RESET, now, faults);
                break;
            }
            if (n < 0) {
                sourceEnded(pipe, TcpPipe.Kind.FIN, now, faults);
                break;
            }
            if (n == 0) {
                break;
            }
            buf.flip();
            byte[] bytes = new byte[n];
            buf.get(bytes);
            if (pipe == down) {
                bytes = rewriteDownstream(bytes);
            }
            if (bytes.length > 0) {
                pipe.offerData(bytes, now, faults, st);
            }
            if (buf.limit() < buf.capacity()) {
                break; // the socket is drained for now; the selector says when there is more
            }
        }
        pump(pipe);
    }

    private void updateInterest() {
        if (state == State.CLOSED) {
            return;
        }
        setInterest(clientSide.key, (up.acceptsInput() ? SelectionKey.OP_READ : 0)
                | (down.writeBlocked ? SelectionKey.OP_WRITE : 0));
        if (state == State.CONNECTING) {
            setInterest(serverSide.key, SelectionKey.OP_CONNECT);
        } else if (state == State.OPEN) {
            setInterest(serverSide.key, (down.acceptsInput() ? SelectionKey.OP_READ : 0)
                    | (up.writeBlocked ? SelectionKey.OP_WRITE : 0));
        } else if (state == State.CLIENT_GONE) {
            setInterest(serverSide.key, 0); // no ACKs come back: the server's bytes stay with it
        }
    }

    private static void setInterest(SelectionKey key, int ops) {
        if (key != null && key.isValid() && key.interestOps() != ops) {
            key.interestOps(ops);
        }
    }

    private static void closeHard(SocketChannel ch) {
        if (ch == null) {
            return;
        }
        try {
            if (ch.isOpen()) {
                ch.setOption(StandardSocketOptions.SO_LINGER, 0);
            }
        } catch (IOException | RuntimeException e) {
            log.trace("SO_LINGER", e);
        }
        closeQuietly(ch);
    }

    private static void closeQuietly(SocketChannel ch) {
        if (ch == null) {
            return;
        }
        try {
            ch.close();
        } catch (IOException e) {
            log.trace("close", e);
        }
    }

    /** One socket of the link, as the selector sees it. */
    private final class Side implements IoLoop.Handler {
        final boolean isClient;
        SocketChannel channel;
        SelectionKey key;

        Side(boolean isClient) {
            this.isClient = isClient;
        }

        @Override
        public void ready(SelectionKey k) throws IOException {
            if (state == State.CLIENT_GONE) {
                return; // readiness from before the client went; nothing moves until restore()
            }
            if (k.isConnectable()) {
                try {
                    if (!channel.finishConnect()) {
                        return;
                    }
                } catch (IOException e) {
                    log.debug("connect to {} failed: {}", relay.target(), e.toString());
                    abort();
                    return;
                }
                state = State.OPEN;
            }
            if (k.isValid() && k.isWritable()) {
                pump(isClient ? down : up);
            }
            if (k.isValid() && k.isReadable()) {
                read(this);
            }
            flush();
        }

        @Override
        public void failed(Exception e) {
            log.warn("proxied signal connection failed; resetting it", e);
            abort();
        }
    }
}
