package io.roomlink;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.roomlink.server.protocol.Message;
import io.roomlink.server.protocol.WireCodec;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;

/**
 * A hand-made signaling client for hostile tests: it speaks the wire protocol directly (no engine),
 * so it can send what a real client never would, such as a RESUME with a secret that has been
 * replaced. Blocking; one connection per instance.
 */
final class WireAttacker implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;

    private WireAttacker(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
    }

    static WireAttacker connect(int port) throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.setSoTimeout((int) Fixtures.WAIT.toMillis());
        return new WireAttacker(s);
    }

    void send(Message m) throws IOException {
        socket.getOutputStream().write(WireCodec.encode(m));
        socket.getOutputStream().flush();
    }

    /** The next frame, or null once the server closed the connection. */
    Message next() throws Exception {
        return WireCodec.readFrame(in);
    }

    /** Skips PEER_JOINED/PEER_LEFT (the snapshot, presence) and returns the next other frame. */
    <T extends Message> T expect(Class<T> type) throws Exception {
        Message m;
        do {
            m = next();
        } while (m instanceof Message.PeerJoined || m instanceof Message.PeerLeft);
        assertNotNull(m, "connection closed while waiting for " + type.getSimpleName());
        return assertInstanceOf(type, m, "expected " + type.getSimpleName() + " but got " + m);
    }

    /** True if the server closes the connection within {@code timeout} (frames before that are skipped). */
    boolean closedWithin(Duration timeout) throws Exception {
        socket.setSoTimeout((int) timeout.toMillis());
        try {
            while (next() != null) {
                // drain
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
