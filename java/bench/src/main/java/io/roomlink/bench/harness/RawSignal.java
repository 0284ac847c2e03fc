package io.roomlink.bench.harness;

import io.roomlink.server.protocol.Message;
import io.roomlink.server.protocol.WireCodec;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;

/** A blocking signaling connection that speaks the wire protocol by hand (an attacker's client). */
public final class RawSignal implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;

    public RawSignal(int port, Duration readTimeout) throws IOException {
        socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
        socket.setSoTimeout((int) readTimeout.toMillis());
        in = new DataInputStream(socket.getInputStream());
    }

    public void send(Message m) throws IOException {
        socket.getOutputStream().write(WireCodec.encode(m));
        socket.getOutputStream().flush();
    }

    /** The first frame that is not presence (PEER_JOINED/LEFT), or null if closed or silent until the timeout. */
    public Message answer() throws IOException {
        try {
            while (true) {
                Message m = WireCodec.readFrame(in);
                if (m == null) {
                    return null;
                }
                if (!(m instanceof Message.PeerJoined) && !(m instanceof Message.PeerLeft)) {
                    return m;
                }
            }
        } catch (EOFException | SocketTimeoutException e) {
            return null;
        } catch (io.roomlink.server.protocol.ProtocolException e) {
            return null;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
