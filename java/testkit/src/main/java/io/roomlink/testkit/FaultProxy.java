package io.roomlink.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A loopback proxy for a room server's TCP signaling port and UDP media port that injects network
 * faults on command: a pulled cable (blackhole), connection resets, delay and jitter, loss, and for
 * media duplication and reordering. A proxy is one client's network: point that client at
 * {@link #signalPort()}, break the network from the test thread and watch the client, while clients
 * connected directly to the server (or through proxies of their own) are unaffected.
 *
 * <pre>{@code
 * try (FaultProxy proxy = FaultProxy.start()) {
 *     proxy.forwardSignalTo("127.0.0.1", server.signalPort());
 *     proxy.forwardMediaTo("127.0.0.1", server.mediaPort());
 *     ...
 *     proxy.blackhole(Path.BOTH, Direction.BOTH);   // the client must notice
 *     proxy.restore();                              // and come back at once
 * }
 * }</pre>
 *
 * <p>Like a NAT with an application-level gateway, the proxy rewrites the media address the server
 * advertises: in every {@code JOIN_OK} and {@code RESUME_OK} going to the client it replaces
 * {@code mediaHost}/{@code mediaPort} with {@link #host()}/{@link #mediaPort()} (and fixes the frame
 * length), so a client that signals through the proxy sends its media through the same proxy, and
 * the server advertises its real media address to everyone. It does so once {@link #forwardMediaTo}
 * was called, unless {@link #rewriteMediaAddress(boolean) rewriteMediaAddress(false)}. Frames are
 * followed across TCP chunk boundaries and rewritten as soon as they are complete, before any fault
 * holds them. Every other frame, and every client-to-server byte, passes byte for byte. The proxy is
 * no protocol validator: on server bytes it cannot follow as frames (a bad length or version, a
 * JOIN_OK too short for its fields) it logs a warning and passes the rest of that connection through
 * unchanged.
 *
 * <p>Faults behave like a real network, not like a broken program:
 * <ul>
 *   <li>A blackholed TCP direction forwards nothing but <em>holds</em> the bytes, as a sending TCP
 *       stack would keep retransmitting them; connections stay open and nothing is reset. A client
 *       that connects while the signaling path is blackholed (either direction) gets no answer:
 *       its SYN is lost like any other packet and its kernel retransmits it on its own schedule
 *       (1 s, 3 s, 7 s, ... on Linux), so the connect completes only at the first retransmission
 *       after {@link #restore()}. (The proxy keeps its accept queue full for that; on Linux the
 *       kernel then drops SYNs silently.) A connection whose handshake finished before the cut
 *       stays established and its bytes are held.
 *       A client that closes or resets a connection while upstream is blackholed is gone, like its
 *       kernel's retransmissions: the bytes held for that connection both ways are discarded and the
 *       proxy closes the client side at once, but the FIN or RST is lost in the blackhole too, so the
 *       server side stays open and silent until {@link #restore()}, which resets it. The server
 *       never gets the held bytes. Outside an upstream blackhole a client's FIN or reset follows its
 *       bytes to the server as usual.
 *       A blackholed UDP direction drops datagrams, including those already delayed.</li>
 *   <li>Each client source address gets its own upstream UDP socket, so the server sees distinct
 *       clients. One idle for 60 s is closed; the client's next datagram opens a new one, which
 *       the server sees as a new address, like a NAT rebinding.</li>
 *   <li>TCP never loses or reorders bytes: a "lost" read chunk is held back for a retransmission
 *       timeout (200 ms, doubling while losses come in a row, at most 3.2 s), and everything
 *       behind it waits. Delay and jitter keep each direction's byte order as well.</li>
 *   <li>Each packet's delay is uniform in [delay − jitter, delay + jitter], never below 0.</li>
 *   <li>{@link #refuse()} is the other kind of outage: the server's host is up but nothing
 *       listens (a server restart), so connects are refused at once and datagrams bounce.</li>
 *   <li>{@link #restore()} turns every fault off and lets everything held go out at once.</li>
 * </ul>
 *
 * <p>Every method may be called from any thread. Fault methods take effect before they return:
 * after {@code blackhole(...)} returns, nothing more goes out in that direction. All socket work
 * runs on one I/O thread; random decisions come from one {@link java.util.Random} seeded by
 * {@link #start(long)}, so a failing run can be replayed with the seed it logged.
 */
public final class FaultProxy implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(FaultProxy.class);
    private static final String HOST = "127.0.0.1";

    /** Which of the two paths a fault applies to. */
    public enum Path { SIGNAL, MEDIA, BOTH }

    /** Which way: UPSTREAM is client to server, DOWNSTREAM is server to client. */
    public enum Direction { UPSTREAM, DOWNSTREAM, BOTH }

    /**
     * Counters since start. "Held" values are gauges: what sits in the proxy right now, waiting for
     * a delay, a retransmission time, a reorder or a blackhole to end.
     *
     * @param signalConnectionsAccepted  TCP connections accepted from clients
     * @param signalConnectionsOpen      proxied TCP connections whose client side is open now: the
     *                                   client's FIN or reset has not reached the proxy (so a half-close
     *                                   counts as closed) and the proxy has not closed it. A client that
     *                                   went away during an upstream blackhole no longer counts, though
     *                                   the proxy keeps its server side until {@link #restore()}; 0 means
     *                                   the client has closed every connection
     * @param signalConnectionsReset     proxied TCP connections ended with a reset (by
     *                                   {@link #resetConnections()}, a peer's reset, or a failed connect)
     * @param signalBytesUpstream        bytes written to the server
     * @param signalBytesDownstream      bytes written to clients
     * @param signalBytesHeld            bytes read but not yet written, both directions (including a
     *                                   JOIN_OK or RESUME_OK waiting for its last bytes to be rewritten)
     * @param signalBytesDiscarded       bytes read but never written, as their connection ended first: it
     *                                   was reset, or its client went away during an upstream blackhole
     * @param signalChunksRetransmitted  TCP read chunks that were "lost" and held back for a retransmission time
     * @param signalFramesRewritten      JOIN_OK and RESUME_OK frames whose media address was rewritten
     * @param mediaDatagramsUpstream     datagrams sent to the server
     * @param mediaDatagramsDownstream   datagrams sent to clients
     * @param mediaDroppedUpstream       client datagrams dropped (blackhole, loss, no target, full buffer)
     * @param mediaDroppedDownstream     server datagrams dropped
     * @param mediaDatagramsDuplicated   datagrams sent twice
     * @param mediaDatagramsReordered    datagrams held back behind a later one
     * @param mediaDatagramsHeld         datagrams delayed or held back right now
     * @param mediaClients               client source addresses with their own upstream socket now
     */
    public record Stats(long signalConnectionsAccepted, int signalConnectionsOpen, long signalConnectionsReset,
                        long signalBytesUpstream, long signalBytesDownstream, long signalBytesHeld,
                        long signalBytesDiscarded, long signalChunksRetransmitted, long signalFramesRewritten,
                        long mediaDatagramsUpstream, long mediaDatagramsDownstream,
                        long mediaDroppedUpstream, long mediaDroppedDownstream,
                        long mediaDatagramsDuplicated, long mediaDatagramsReordered, long mediaDatagramsHeld,
                        int mediaClients) {
    }

    private final long seed;
    private final IoLoop loop;
    private final ProxyState state;
    private final TcpRelay tcp;
    private final UdpRelay udp;
    private final int signalPort;
    private final int mediaPort;
    private final Object closeLock = new Object();
    private volatile boolean closed;
    private volatile Stats finalStats;

    private FaultProxy(long seed, IoLoop loop, ServerSocketChannel tcpListener, DatagramChannel udpListener,
                       Duration mediaFlowIdle) throws IOException {
        this.seed = seed;
        this.loop = loop;
        this.signalPort = ((InetSocketAddress) tcpListener.getLocalAddress()).getPort();
        this.mediaPort = ((InetSocketAddress) udpListener.getLocalAddress()).getPort();
        this.state = new ProxyState(loop, seed, HOST, mediaPort);
        this.tcp = new TcpRelay(state, tcpListener);
        this.udp = new UdpRelay(state, udpListener, mediaFlowIdle);
    }

    /** Starts a proxy on 127.0.0.1 with ephemeral TCP and UDP ports and a random seed. */
    public static FaultProxy start() {
        return start(ThreadLocalRandom.current().nextLong());
    }

    /** Starts a proxy whose random decisions (loss, jitter, duplicates, reordering) follow {@code seed}. */
    public static FaultProxy start(long seed) {
        return start(seed, UdpRelay.DEFAULT_FLOW_IDLE);
    }

    /** Open proxies by signal port, for {@link #withSignalPort}. */
    private static final java.util.Map<Integer, FaultProxy> OPEN = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * The open proxy of this JVM that listens on {@code signalPort}, if any. Inside TLS a proxy
     * cannot rewrite the media address the server advertises, so an engine configured with only
     * a signal port is told the proxy's media address by the test's config helper:
     * {@code mediaAddressOverride(proxy.host(), proxy.mediaPort())}.
     */
    public static java.util.Optional<FaultProxy> withSignalPort(int signalPort) {
        return java.util.Optional.ofNullable(OPEN.get(signalPort));
    }

    /** Like {@link #start(long)}, with another idle time after which a client's upstream media socket is closed. */
    static FaultProxy start(long seed, Duration mediaFlowIdle) {
        ServerSocketChannel tcpListener = null;
        DatagramChannel udpListener = null;
        IoLoop loop = null;
        try {
            InetAddress host = InetAddress.getByName(HOST);
            tcpListener = ServerSocketChannel.open();
            tcpListener.bind(new InetSocketAddress(host, 0), ListenQueueFiller.BACKLOG);
            udpListener = DatagramChannel.open();
            udpListener.bind(new InetSocketAddress(host, 0));
            int port = ((InetSocketAddress) tcpListener.getLocalAddress()).getPort();
            loop = new IoLoop("roomlink-fault-proxy-" + port);
            FaultProxy proxy = new FaultProxy(seed, loop, tcpListener, udpListener, mediaFlowIdle);
            loop.start(proxy::shutDownOnLoop);
            OPEN.put(proxy.signalPort, proxy);
            log.info("FaultProxy started: signal {}:{}, media {}:{}, seed {}", HOST, proxy.signalPort, HOST,
                    proxy.mediaPort, seed);
            return proxy;
        } catch (IOException e) {
            closeQuietly(tcpListener);
            closeQuietly(udpListener);
            if (loop != null) {
                loop.close();
            }
            throw new UncheckedIOException("cannot start FaultProxy", e);
        }
    }

    /** The address clients connect to: always {@code 127.0.0.1}. */
    public String host() {
        return HOST;
    }

    /** The proxy's TCP port: clients connect here for signaling. */
    public int signalPort() {
        return signalPort;
    }

    /** The proxy's UDP port: what JOIN_OK and RESUME_OK through this proxy advertise as the media port. */
    public int mediaPort() {
        return mediaPort;
    }

    /** The seed of this proxy's random decisions. */
    public long seed() {
        return seed;
    }

    /** Sets the server's signaling address. Connections accepted from now on go there. */
    public void forwardSignalTo(String host, int port) {
        InetSocketAddress target = resolve(host, port);
        loop.run(() -> tcp.target(target));
    }

    /**
     * Sets the server's media address: its real one, the one it advertises. Datagrams from now on
     * go there, from the same per-client sockets. From now on JOIN_OK and RESUME_OK through this
     * proxy advertise the proxy's media address instead (see {@link #rewriteMediaAddress(boolean)}).
     */
    public void forwardMediaTo(String host, int port) {
        InetSocketAddress target = resolve(host, port);
        loop.run(() -> {
            udp.target(target);
            state.mediaTargetSet = true;
        });
    }

    /**
     * Whether JOIN_OK and RESUME_OK from the server get this proxy's media address (on by default;
     * it takes effect only once {@link #forwardMediaTo} was called). Off, every byte passes
     * unchanged. Only a plaintext server's frames can be rewritten: in front of a TLS server turn
     * it off (TestRoomServer does) and give the client the proxy's media address with
     * {@code RoomEngineConfig.Builder.mediaAddressOverride(host(), mediaPort())}. Applies to
     * frames from now on; a connection accepted while it was off is never rewritten.
     */
    public void rewriteMediaAddress(boolean on) {
        loop.run(() -> state.rewriteMediaAddress = on);
        log.debug("FaultProxy media address rewriting {}", on ? "on" : "off");
    }

    /**
     * Cuts {@code path} in {@code direction}, like a pulled cable, until {@link #restore()}.
     * Adds to any blackhole already in place. TCP bytes are held, UDP datagrams dropped.
     */
    public void blackhole(Path path, Direction direction) {
        Objects.requireNonNull(direction, "direction");
        change(path, f -> f.withBlackhole(direction));
    }

    /**
     * The server's host refuses, as while a server restarts or when a load balancer has no
     * backend: every proxied TCP connection is reset, and until {@link #restore()} nothing
     * listens on {@link #signalPort()} or {@link #mediaPort()}, so the kernel answers a new
     * connect with RST (ECONNREFUSED) and a datagram with ICMP port unreachable (ECONNREFUSED on
     * a connected UDP socket; ICMP is rate-limited by the kernel, so some datagrams just vanish).
     * Compare {@link #blackhole}, where nothing at all comes back.
     */
    public void refuse() {
        loop.run(() -> {
            tcp.refuse();
            udp.refuse();
            loop.flushClosedChannels(); // the resets go out and the ports close before this returns
        });
        log.info("FaultProxy refusing on signal port {} and media port {}", signalPort, mediaPort);
    }

    /** Resets every proxied TCP connection on both sides (RST via SO_LINGER 0). New connections are unaffected. */
    public void resetConnections() {
        int n = loop.call(() -> {
            int count = tcp.resetAll();
            loop.flushClosedChannels(); // the RSTs go out before this method returns
            return count;
        });
        log.info("FaultProxy reset {} signal connection(s)", n);
    }

    /** Delays every packet on {@code path}, both directions, by {@code delay} ± {@code jitter}. Zero turns it off. */
    public void delay(Path path, Duration delay, Duration jitter) {
        long d = nonNegative(delay, "delay").toNanos();
        long j = nonNegative(jitter, "jitter").toNanos();
        change(path, f -> f.withDelay(d, j));
    }

    /** {@link #delay(Path, Duration, Duration)} without jitter. */
    public void delay(Path path, Duration delay) {
        delay(path, delay, Duration.ZERO);
    }

    /**
     * Loses {@code fraction} of the packets on {@code path}, both directions. UDP datagrams are
     * dropped; a lost TCP chunk arrives late instead (see the class comment). 0 turns it off.
     */
    public void loss(Path path, double fraction) {
        double p = fraction(fraction);
        change(path, f -> f.withLoss(p));
    }

    /** Sends {@code fraction} of the media datagrams, both directions, twice. UDP only. */
    public void duplicate(double fraction) {
        double p = fraction(fraction);
        apply(f -> f.withDuplicate(p));
    }

    /**
     * Holds {@code fraction} of the media datagrams, both directions, back until the next datagram
     * of the same client and direction has gone out (at most 250 ms). UDP only.
     */
    public void reorder(double fraction) {
        double p = fraction(fraction);
        apply(f -> f.withReorder(p));
    }

    /**
     * Turns every fault off. Held TCP bytes and delayed or held-back datagrams go out at once; the
     * server side of a connection whose client went away during an upstream blackhole is reset.
     * After {@link #refuse()} the proxy listens on the same ports again.
     *
     * @throws UncheckedIOException if a port closed by {@link #refuse()} was taken meanwhile
     */
    public void restore() {
        loop.run(() -> {
            try {
                tcp.listenAgain();
                udp.listenAgain();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            state.faults = Faults.NONE;
            tcp.onFaultsChanged(true);
            loop.runReleaseTimersNow();
            loop.flushClosedChannels(); // resets of connections whose client went away go out now
        });
        log.info("FaultProxy restored");
    }

    /** A consistent snapshot of the counters; after {@link #close()}, the last one. */
    public Stats stats() {
        if (closed) {
            Stats last = finalStats;
            if (last != null) {
                return last;
            }
        }
        try {
            return loop.call(state.counters::snapshot);
        } catch (IllegalStateException e) {
            Stats last = finalStats;
            if (last != null) {
                return last;
            }
            throw e;
        }
    }

    /** Resets all proxied connections, frees both ports and stops the I/O thread. Idempotent. */
    @Override
    public void close() {
        synchronized (closeLock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        OPEN.remove(signalPort, this);
        loop.close();
        log.info("FaultProxy closed: signal port {}, media port {}", signalPort, mediaPort);
    }

    @Override
    public String toString() {
        return "FaultProxy[signal=" + HOST + ":" + signalPort + ", media=" + HOST + ":" + mediaPort
                + ", seed=" + seed + (closed ? ", closed" : "") + "]";
    }

    private void change(Path path, UnaryOperator<PathFaults> change) {
        Objects.requireNonNull(path, "path");
        apply(f -> f.with(path, change));
    }

    private void apply(UnaryOperator<Faults> change) {
        Faults now = loop.call(() -> {
            state.faults = change.apply(state.faults);
            tcp.onFaultsChanged(false);
            return state.faults;
        });
        log.debug("FaultProxy faults now {}", now);
    }

    /** Runs on the I/O thread as it stops. */
    private void shutDownOnLoop() {
        tcp.close();
        udp.close();
        loop.flushClosedChannels();
        finalStats = state.counters.snapshot();
    }

    private static InetSocketAddress resolve(String host, int port) {
        Objects.requireNonNull(host, "host");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        InetSocketAddress address = new InetSocketAddress(host, port);
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("cannot resolve " + host);
        }
        return address;
    }

    private static Duration nonNegative(Duration d, String name) {
        Objects.requireNonNull(d, name);
        if (d.isNegative()) {
            throw new IllegalArgumentException(name + " must not be negative: " + d);
        }
        return d;
    }

    private static double fraction(double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("fraction must be in [0, 1]: " + p);
        }
        return p;
    }

    private static void closeQuietly(java.io.Closeable c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException ignored) {
                // nothing more to do
            }
        }
    }
}
