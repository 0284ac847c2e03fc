package io.roomlink.testkit;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the kernel drop every new SYN to a listening socket, as a pulled cable would lose it.
 *
 * <p>Not accepting is not enough: the kernel completes the handshake for as many connections as
 * the listen backlog holds, and those clients would see {@code connect()} succeed during a cut.
 * So the proxy connects to its own listener until the accept queue is full; from then on Linux
 * drops each SYN (it counts a ListenOverflow and sends nothing back), and the client's kernel
 * retransmits it on its own schedule (1 s, 3 s, 7 s, ...), exactly as on a dead network. The
 * fillers are told apart from clients by their port when the queue is drained after the cut.
 *
 * <p>On other systems a full queue may answer with a reset instead (Windows does), which models
 * a refusing host, not a silent one.
 */
final class ListenQueueFiller {
    private static final Logger log = LoggerFactory.getLogger(ListenQueueFiller.class);

    /**
     * The proxy's listen backlog. Small, so that a cut costs few descriptors (backlog + 1 fillers);
     * the I/O thread accepts at once, so a burst of this many connects still passes outside a cut.
     */
    static final int BACKLOG = 64;
    /** A connect to a queue with room completes within microseconds on loopback. */
    private static final int FULL_PROBE_TIMEOUT_MS = 50;
    private static final int CONNECT_TIMEOUT_MS = 2_000;
    /** Never more than this many fillers, whatever the kernel claims its limit is. */
    private static final int MAX_FILLERS = 4_097;

    private final InetSocketAddress listener;
    private final List<Socket> fillers = new ArrayList<>();
    private final Set<Integer> fillerPorts = new HashSet<>();

    ListenQueueFiller(InetSocketAddress listener) {
        this.listener = listener;
    }

    boolean filling() {
        return !fillers.isEmpty();
    }

    /**
     * Fills the accept queue; the caller has drained it and stopped accepting. Returns once a
     * further connect gets no answer, so a client connecting after this gets none either.
     */
    void fill() {
        int expected = Math.min(BACKLOG, somaxconn()) + 1; // Linux queues backlog + 1 connections
        while (fillers.size() < MAX_FILLERS) {
            boolean beyondExpected = fillers.size() >= expected;
            Socket s = new Socket();
            try {
                s.connect(listener, beyondExpected ? FULL_PROBE_TIMEOUT_MS : CONNECT_TIMEOUT_MS);
            } catch (SocketTimeoutException full) {
                closeQuietly(s); // its SYN was dropped: the queue is full
                log.debug("listen queue of {} full with {} fillers", listener, fillers.size());
                return;
            } catch (IOException e) {
                closeQuietly(s);
                log.warn("filling the listen queue of {} failed after {} fillers: new connects may complete "
                        + "during the cut", listener, fillers.size(), e);
                return;
            }
            fillers.add(s);
            fillerPorts.add(s.getLocalPort());
        }
        log.warn("listen queue of {} still not full after {} fillers", listener, fillers.size());
    }

    /** Whether a connection just accepted is one of ours (then the caller closes it). */
    boolean isFiller(InetSocketAddress remote) {
        return remote != null && fillerPorts.remove(remote.getPort());
    }

    /**
     * Closes the fillers' client ends. Their queued server ends are still to be accepted and
     * closed by the caller ({@link #isFiller}); until then they keep SYNs out, for one loop turn.
     */
    void release() {
        for (Socket s : fillers) {
            closeQuietly(s);
        }
        fillers.clear();
    }

    private static int somaxconn() {
        try {
            return Integer.parseInt(Files.readString(Paths.get("/proc/sys/net/core/somaxconn")).trim());
        } catch (IOException | RuntimeException e) {
            return Integer.MAX_VALUE; // not Linux: the backlog is what we asked for
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // nothing more to do
        }
    }
}
