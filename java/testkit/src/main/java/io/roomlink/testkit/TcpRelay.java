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

/** The signaling half of the proxy: accepts client connections and keeps a {@link TcpLink} for each. */
final class TcpRelay implements IoLoop.Handler {
    private static final Logger log = LoggerFactory.getLogger(TcpRelay.class);

    private final ProxyState st;
    private static final long ACCEPT_PAUSE_NANOS = 100_000_000;

    private final ServerSocketChannel listener;
    private final SelectionKey acceptKey;
    private final Set<TcpLink> links = new LinkedHashSet<>();
    private InetSocketAddress target;

    TcpRelay(ProxyState st, ServerSocketChannel listener) throws IOException {
        this.st = st;
        this.listener = listener;
        this.acceptKey = st.loop.register(listener, SelectionKey.OP_ACCEPT, this);
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
        for (int i = 0; i < 64; i++) {
            SocketChannel client = listener.accept();
            if (client == null) {
                return;
            }
            TcpLink link = new TcpLink(st, this, client);
            links.add(link);
            link.start(target);
        }
    }

    @Override
    public void failed(Exception e) {
        // accept() fails on fd exhaustion, and the selector would report the same pending
        // connection again at once: pause accepting briefly instead of spinning.
        log.warn("accepting a signal connection failed; pausing accepts for 100 ms", e);
        if (acceptKey.isValid()) {
            acceptKey.interestOps(0);
            st.loop.schedule(System.nanoTime() + ACCEPT_PAUSE_NANOS, () -> {
                if (acceptKey.isValid()) {
                    acceptKey.interestOps(SelectionKey.OP_ACCEPT);
                }
            }, false);
        }
    }

    void removed(TcpLink link) {
        links.remove(link);
    }

    void onFaultsChanged(boolean releaseHeld) {
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

    void close() {
        resetAll();
        try {
            listener.close();
        } catch (IOException e) {
            log.debug("closing signal listener", e);
        }
    }
}
