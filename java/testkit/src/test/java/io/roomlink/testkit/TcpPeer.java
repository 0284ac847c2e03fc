package io.roomlink.testkit;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A plain blocking TCP listener standing in for the server, so a test holds both ends of a
 * proxied connection: the client socket it opened and the server-side socket accepted here.
 */
final class TcpPeer implements AutoCloseable {
    private final ServerSocket listener;
    private final List<Socket> sockets = new ArrayList<>();

    TcpPeer() throws IOException {
        listener = new ServerSocket();
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    int port() {
        return listener.getLocalPort();
    }

    /** The next accepted connection, or null if none arrives within {@code timeout}. */
    Socket accept(Duration timeout) throws IOException {
        listener.setSoTimeout((int) timeout.toMillis());
        try {
            Socket s = listener.accept();
            s.setTcpNoDelay(true);
            sockets.add(s);
            return s;
        } catch (SocketTimeoutException e) {
            return null;
        }
    }

    Socket connect(int port) throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
        s.setTcpNoDelay(true);
        sockets.add(s);
        return s;
    }

    /**
     * A client connected through {@code proxy} (which forwards its signaling here), and the server
     * side of the same connection, accepted within {@code timeout}.
     */
    Socket[] connectThrough(FaultProxy proxy, Duration timeout) throws IOException {
        Socket client = connect(proxy.signalPort());
        Socket serverSide = accept(timeout);
        assertNotNull(serverSide, "the proxy should connect to the server");
        return new Socket[] {client, serverSide};
    }

    /** Reads exactly {@code n} bytes or fails after {@code timeout}. */
    static byte[] readExactly(Socket s, int n, Duration timeout) throws IOException {
        s.setSoTimeout((int) timeout.toMillis());
        byte[] out = new byte[n];
        InputStream in = s.getInputStream();
        long deadline = System.nanoTime() + timeout.toNanos();
        int off = 0;
        while (off < n) {
            if (System.nanoTime() - deadline > 0) {
                throw new SocketTimeoutException("read " + off + " of " + n + " bytes");
            }
            int r = in.read(out, off, n - off);
            if (r < 0) {
                throw new IOException("EOF after " + off + " of " + n + " bytes");
            }
            off += r;
        }
        return out;
    }

    /** True if nothing at all arrives within {@code window}. */
    static boolean silentFor(Socket s, Duration window) throws IOException {
        s.setSoTimeout((int) window.toMillis());
        try {
            return s.getInputStream().read() == -2; // never: any byte or EOF means "not silent"
        } catch (SocketTimeoutException e) {
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        listener.close();
    }
}
