package io.roomlink.testkit;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The signaling half of the proxy: accepts client connections and keeps a {@link TcpLink} for each.
 * While the signaling path is cut it accepts nothing and keeps its accept queue full, so a new
 * connect gets no answer at all ({@link ListenQueueFiller}).
 */
final class TcpRelay implements IoLoop.Handler {
    private static final Logger log = LoggerFactory.getLogger(TcpRelay.class);

    private final ProxyState st;
    private static final long ACCEPT_PAUSE_NANOS = 100_000_000;

    private final InetSocketAddress address;
    private ServerSocketChannel listener;
    private SelectionKey acceptKey;
    private final Set<TcpLink> links = new LinkedHashSet<>();
    private final ListenQueueFiller filler;
    private InetSocketAddress target;
    private boolean cut;
    /** {@link #refuse()}: nothing listens on the port now. */
    private boolean refusing;

    TcpRelay(ProxyState st, ServerSocketChannel listener) throws IOException {
        this.st = st;
        this.listener = listener;
        this.acceptKey = st.loop.register(listener, SelectionKey.OP_ACCEPT, this);
        this.address = (InetSocketAddress) listener.getLocalAddress();
        this.filler = new ListenQueueFiller(address);
    }

    InetSocketAddress target() {
        return target;
    }

    /** Takes effect for connections accepted from now on; open ones keep their server. */
    void target(InetSocketAddress target) {
        this.target = target;
    }

    @Override
    public void ready(SelectionKey key) throws IOException {
        if (refusing) {
            return;
        }
        if (cut) {
            key.interestOps(0); // re-armed by an accept pause that ended during the cut
            return;
        }
        acceptUpTo(64);
    }

    /** Accepts up to {@code max} queued connections; returns whether the queue is now empty. */
    private boolean acceptUpTo(int max) throws IOException {
        for (int i = 0; i < max; i++) {
            SocketChannel client = listener.accept();
            if (client == null) {
                return true;
            }
            if (filler.isFiller((InetSocketAddress) client.getRemoteAddress())) {
                client.close();
                continue;
            }
            TcpLink link = new TcpLink(st, this, client);
            links.add(link);
            link.start(target);
        }
        return false;
    }

    /**
     * A cut in either direction loses SYNs (or their SYN-ACKs): from now on no new connection
     * completes. Connections whose handshake finished before the cut are accepted first; they
     * are established, and the cut holds their bytes like any other connection's.
     */
    private void beginCut() throws IOException {
        cut = true;
        if (refusing) {
            return; // nothing listens: a SYN is answered with RST by the kernel, cut or not
        }
        while (!acceptUpTo(Integer.MAX_VALUE)) {
            // drained in one go
        }
        acceptKey.interestOps(0);
        filler.fill();
    }

    private void endCut() throws IOException {
        cut = false;
        filler.release();
        if (refusing) {
            return;
        }
        acceptUpTo(Integer.MAX_VALUE); // the fillers' server ends, closed at once
        acceptKey.interestOps(SelectionKey.OP_ACCEPT);
    }

    @Override
    public void failed(Exception e) {
        // accept() fails on fd exhaustion, and the selector would report the same pending
        // connection again at once: pause accepting briefly instead of spinning.
        log.warn("accepting a signal connection failed; pausing accepts for 100 ms", e);
        SelectionKey paused = acceptKey;
        if (paused.isValid()) {
            paused.interestOps(0);
            st.loop.schedule(System.nanoTime() + ACCEPT_PAUSE_NANOS, () -> {
                if (paused.isValid()) {
                    paused.interestOps(SelectionKey.OP_ACCEPT);
                }
            }, false);
        }
    }

    void removed(TcpLink link) {
        links.remove(link);
    }

    void onFaultsChanged(boolean releaseHeld) {
        PathFaults signal = st.faults.signal();
        boolean nowCut = signal.blackholeUpstream() || signal.blackholeDownstream();
        try {
            if (nowCut && !cut) {
                beginCut();
            } else if (!nowCut && cut) {
                endCut();
            }
        } catch (IOException e) {
            log.warn("changing the accept state for a cut failed", e);
        }
        for (TcpLink link : new ArrayList<>(links)) {
            link.onFaultsChanged(releaseHeld);
        }
    }

    int resetAll() {
        int n = links.size();
        for (TcpLink link : new ArrayList<>(links)) {
            link.abort();
        }
        return n;
    }

    /**
     * The server's host with nothing listening, as while a server restarts: every connection is
     * reset and the port is closed, so the kernel answers each new SYN with RST (ECONNREFUSED).
     */
    void refuse() {
        if (refusing) {
            return;
        }
        refusing = true;
        filler.release();
        resetAll();
        acceptKey.cancel();
        try {
            listener.close();
        } catch (IOException e) {
            log.debug("closing signal listener", e);
        }
    }

    /** Listens on the same port again (SO_REUSEADDR: connections reset before leave no TIME_WAIT). */
    void listenAgain() throws IOException {
        if (!refusing) {
            return;
        }
        ServerSocketChannel again = ServerSocketChannel.open();
        try {
            again.setOption(java.net.StandardSocketOptions.SO_REUSEADDR, true);
            again.bind(address, ListenQueueFiller.BACKLOG);
        } catch (IOException e) {
            again.close();
            throw new IOException("cannot listen on " + address + " again after refuse()", e);
        }
        listener = again;
        acceptKey = st.loop.register(again, SelectionKey.OP_ACCEPT, this);
        refusing = false;
        if (cut) {
            acceptKey.interestOps(0);
            filler.fill();
        }
    }

    void close() {
        filler.release();
        resetAll();
        try {
            listener.close();
        } catch (IOException e) {
            log.debug("closing signal listener", e);
        }
    }
}
