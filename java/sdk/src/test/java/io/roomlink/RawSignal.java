package io.roomlink;

import io.roomlink.server.protocol.Message;
import io.roomlink.server.protocol.ProtocolException;
import io.roomlink.server.protocol.WireCodec;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;

/** A bare signaling connection for hostile-client tests: raw bytes out, decoded frames in. */
final class RawSignal implements AutoCloseable {
    private final Socket socket;
    private final OutputStream out;
    private final DataInputStream in;

    RawSignal(int port) throws IOException {
        this(port, null);
    }

    /** From {@code source} (for example 127.0.0.2, another client address on loopback); null: any. */
    RawSignal(int port, String source) throws IOException {
        socket = new Socket();
        if (source != null) {
            socket.bind(new InetSocketAddress(source, 0));
        }
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setTcpNoDelay(true);
        out = socket.getOutputStream();
        in = new DataInputStream(socket.getInputStream());
    }

    void send(Message m) throws IOException {
        out.write(WireCodec.encode(m));
        out.flush();
    }

    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** The next frame, or null at end of stream; waits at most {@code timeoutMs}. */
    Message read(int timeoutMs) throws IOException {
        socket.setSoTimeout(timeoutMs);
        try {
            return WireCodec.readFrame(in);
        } catch (ProtocolException e) {
            throw new IOException("server sent a bad frame: " + e.getMessage(), e);
        }
    }

    /** True once the server has closed the connection (reads and discards what comes before). */
    boolean awaitClosed(int timeoutMs) throws IOException {
        socket.setSoTimeout(timeoutMs);
        InputStream raw = socket.getInputStream();
        byte[] sink = new byte[4096];
        try {
            while (raw.read(sink) >= 0) {
                // drain
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    /** Header of a frame of {@code len} (ver and type included) and type, without its payload. */
    static byte[] header(int len, int type) {
        return ByteBuffer.allocate(6).putInt(len).put((byte) WireCodec.VERSION).put((byte) type).array();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
