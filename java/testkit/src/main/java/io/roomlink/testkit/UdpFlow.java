package io.roomlink.testkit;

import io.roomlink.testkit.FaultProxy.Direction;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client's media flow: its own upstream socket, so the server sees one source address per
 * client, as it would without the proxy. Also keeps the datagrams held back for reordering.
 */
final class UdpFlow implements IoLoop.Handler {
    private static final Logger log = LoggerFactory.getLogger(UdpFlow.class);

    final InetSocketAddress client;
    final DatagramChannel upstream;
    private final UdpRelay relay;
    private final ProxyState st;
    private final Held heldUp = new Held();
    private final Held heldDown = new Held();
    long lastActive;
    boolean closed;

    /** Datagrams held back in one direction until the next one overtakes them. */
    static final class Held {
        final ArrayDeque<byte[]> datagrams = new ArrayDeque<>();
        IoLoop.Timer flushTimer;
    }

    UdpFlow(ProxyState st, UdpRelay relay, InetSocketAddress client, DatagramChannel upstream) throws IOException {
        this.st = st;
        this.relay = relay;
        this.client = client;
        this.upstream = upstream;
        this.lastActive = System.nanoTime();
        st.loop.register(upstream, SelectionKey.OP_READ, this);
    }

    Held held(Direction d) {
        return d == Direction.UPSTREAM ? heldUp : heldDown;
    }

    @Override
    public void ready(SelectionKey key) throws IOException {
        for (int i = 0; i < 256; i++) {
            ByteBuffer buf = st.loop.readBuffer();
            SocketAddress from = upstream.receive(buf);
            if (from == null) {
                return;
            }
            lastActive = System.nanoTime();
            relay.handle(this, Direction.DOWNSTREAM, UdpRelay.copy(buf));
        }
    }

    @Override
    public void failed(Exception e) {
        log.debug("media flow for {} failed: {}", client, e.toString());
    }

    /** Closes the upstream socket; returns how many held datagrams were discarded. */
    int close() {
        closed = true;
        int discarded = 0;
        for (Held h : new Held[] {heldUp, heldDown}) {
            discarded += h.datagrams.size();
            h.datagrams.clear();
            if (h.flushTimer != null) {
                h.flushTimer.cancel();
            }
        }
        try {
            upstream.close();
        } catch (IOException e) {
            log.trace("close", e);
        }
        return discarded;
    }
}
