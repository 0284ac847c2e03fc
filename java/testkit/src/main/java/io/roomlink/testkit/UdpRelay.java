package io.roomlink.testkit;

import io.roomlink.testkit.FaultProxy.Direction;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The media half of the proxy. Datagrams are independent: each one is dropped, duplicated,
 * delayed or held back on its own, so jitter may reorder them, as on a real network.
 */
final class UdpRelay implements IoLoop.Handler {
    private static final Logger log = LoggerFactory.getLogger(UdpRelay.class);
    static final Duration DEFAULT_FLOW_IDLE = Duration.ofSeconds(60);
    private static final long MAX_REAP_INTERVAL_NANOS = Duration.ofSeconds(5).toNanos();
    /** A datagram held back for reordering goes out after the next one, or after this at the latest. */
    static final long REORDER_MAX_HOLD_NANOS = Duration.ofMillis(250).toNanos();
    /** Like a router queue: beyond this many datagrams in flight, more are dropped. */
    static final int MAX_HELD_DATAGRAMS = 20_000;

    private final ProxyState st;
    private final InetSocketAddress address;
    private DatagramChannel listener;
    private SelectionKey key;
    private final Map<SocketAddress, UdpFlow> flows = new HashMap<>();
    private final long flowIdleNanos;
    private final long reapIntervalNanos;
    private InetSocketAddress target;

    UdpRelay(ProxyState st, DatagramChannel listener, Duration flowIdle) throws IOException {
        this.st = st;
        this.listener = listener;
        this.address = (InetSocketAddress) listener.getLocalAddress();
        this.flowIdleNanos = flowIdle.toNanos();
        this.reapIntervalNanos = Math.max(1_000_000, Math.min(MAX_REAP_INTERVAL_NANOS, flowIdleNanos / 2));
        this.key = st.loop.register(listener, SelectionKey.OP_READ, this);
        scheduleReap();
    }

    void target(InetSocketAddress target) {
        this.target = target;
    }

    static byte[] copy(ByteBuffer buf) {
        buf.flip();
        byte[] data = new byte[buf.remaining()];
        buf.get(data);
        return data;
    }

    @Override
    public void ready(SelectionKey ready) throws IOException {
        for (int i = 0; i < 256 && listener != null; i++) {
            ByteBuffer buf = st.loop.readBuffer();
            SocketAddress from = listener.receive(buf);
            if (from == null) {
                return;
            }
            byte[] data = copy(buf);
            UdpFlow flow = flowFor((InetSocketAddress) from);
            if (flow == null) {
                st.counters.mediaDropped(Direction.UPSTREAM);
                continue;
            }
            flow.lastActive = System.nanoTime();
            handle(flow, Direction.UPSTREAM, data);
        }
    }

    @Override
    public void failed(Exception e) {
        log.warn("receiving on the media port failed", e);
    }

    private UdpFlow flowFor(InetSocketAddress client) {
        UdpFlow flow = flows.get(client);
        if (flow != null) {
            return flow;
        }
        DatagramChannel upstream = null;
        try {
            upstream = DatagramChannel.open();
            upstream.bind(new InetSocketAddress(0));
            flow = new UdpFlow(st, this, client, upstream);
        } catch (IOException e) {
            log.warn("cannot open an upstream media socket for {}", client, e);
            if (upstream != null) {
                try {
                    upstream.close();
                } catch (IOException ignored) {
                    // already failing
                }
            }
            return null;
        }
        flows.put(client, flow);
        st.counters.mediaClients++;
        return flow;
    }

    /** A datagram arrived from one side: decide its fate. */
    void handle(UdpFlow flow, Direction d, byte[] data) {
        Faults faults = st.faults;
        PathFaults f = faults.media();
        if ((d == Direction.UPSTREAM && target == null) || f.blackholed(d) || f.lose(st.random)) {
            st.counters.mediaDropped(d);
            return;
        }
        int copies = 1;
        if (faults.duplicate() > 0 && st.random.nextDouble() < faults.duplicate()) {
            copies = 2;
            st.counters.mediaDatagramsDuplicated++;
        }
        long now = System.nanoTime();
        for (int i = 0; i < copies; i++) {
            long delay = f.sampleDelayNanos(st.random);
            if (delay == 0) {
                release(flow, d, data);
            } else if (st.counters.mediaDatagramsHeld >= MAX_HELD_DATAGRAMS) {
                st.counters.mediaDropped(d);
            } else {
                st.counters.mediaDatagramsHeld++;
                st.loop.schedule(now + delay, () -> {
                    st.counters.mediaDatagramsHeld--;
                    release(flow, d, data);
                }, true);
            }
        }
    }

    /** The datagram's delay is over: maybe hold it back behind the next one, else send it. */
    private void release(UdpFlow flow, Direction d, byte[] data) {
        if (flow.closed) {
            st.counters.mediaDropped(d);
            return;
        }
        double reorder = st.faults.reorder();
        if (reorder > 0 && st.random.nextDouble() < reorder) {
            UdpFlow.Held held = flow.held(d);
            held.datagrams.add(data);
            st.counters.mediaDatagramsHeld++;
            st.counters.mediaDatagramsReordered++;
            if (held.flushTimer == null) {
                held.flushTimer = st.loop.schedule(System.nanoTime() + REORDER_MAX_HOLD_NANOS,
                        () -> flushHeld(flow, d), true);
            }
            return;
        }
        send(flow, d, data);
        flushHeld(flow, d);
    }

    private void flushHeld(UdpFlow flow, Direction d) {
        UdpFlow.Held held = flow.held(d);
        if (held.flushTimer != null) {
            held.flushTimer.cancel();
            held.flushTimer = null;
        }
        byte[] data;
        while ((data = held.datagrams.poll()) != null) {
            st.counters.mediaDatagramsHeld--;
            send(flow, d, data);
        }
    }

    private void send(UdpFlow flow, Direction d, byte[] data) {
        // Checked again here: a cable pulled while a datagram was delayed loses it too.
        if (flow.closed || st.faults.media().blackholed(d) || (d == Direction.DOWNSTREAM && listener == null)) {
            st.counters.mediaDropped(d);
            return;
        }
        try {
            ByteBuffer buf = ByteBuffer.wrap(data);
            int n = d == Direction.UPSTREAM ? flow.upstream.send(buf, target) : listener.send(buf, flow.client);
            if (n == 0) {
                st.counters.mediaDropped(d); // socket buffer full: UDP drops
            } else {
                st.counters.mediaForwarded(d);
            }
        } catch (IOException | RuntimeException e) {
            log.debug("media send {} failed: {}", d, e.toString());
            st.counters.mediaDropped(d);
        }
    }

    private void scheduleReap() {
        st.loop.schedule(System.nanoTime() + reapIntervalNanos, () -> {
            reapIdle(System.nanoTime());
            scheduleReap();
        }, false);
    }

    private void reapIdle(long now) {
        for (UdpFlow flow : new ArrayList<>(flows.values())) {
            if (now - flow.lastActive > flowIdleNanos) {
                log.debug("closing idle media flow for {}", flow.client);
                remove(flow);
            }
        }
    }

    private void remove(UdpFlow flow) {
        flows.remove(flow.client);
        st.counters.mediaDatagramsHeld -= flow.close();
        st.counters.mediaClients--;
    }

    /**
     * Closes the media port, as on a server's host while the server restarts: the kernel answers
     * each datagram to it with ICMP port unreachable (ECONNREFUSED on a connected client socket).
     * Flows stay, so a client keeps its upstream address once the port is open again.
     */
    void refuse() {
        if (listener == null) {
            return;
        }
        key.cancel();
        try {
            listener.close();
        } catch (IOException e) {
            log.debug("closing media listener", e);
        }
        listener = null;
    }

    void listenAgain() throws IOException {
        if (listener != null) {
            return;
        }
        DatagramChannel again = DatagramChannel.open();
        try {
            again.setOption(java.net.StandardSocketOptions.SO_REUSEADDR, true);
            again.bind(address);
        } catch (IOException e) {
            again.close();
            throw new IOException("cannot open media port " + address + " again after refuse()", e);
        }
        listener = again;
        key = st.loop.register(again, SelectionKey.OP_READ, this);
    }

    void close() {
        for (UdpFlow flow : new ArrayList<>(flows.values())) {
            remove(flow);
        }
        try {
            if (listener != null) {
                listener.close();
            }
        } catch (IOException e) {
            log.debug("closing media listener", e);
        }
    }
}
