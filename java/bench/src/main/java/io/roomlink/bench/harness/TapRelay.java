package io.roomlink.bench.harness;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * A TCP relay on loopback that keeps a copy of every byte it forwards, per direction (a sniffer
 * on the path, for the hijack scenario). Each direction's copy is capped at {@link #CAP} bytes.
 * Thread per direction per connection; meant for a handful of connections.
 */
public final class TapRelay implements AutoCloseable {
    public static final int CAP = 1 << 20;

    private final ServerSocket listener;
    private final int targetPort;
    private final List<ByteArrayOutputStream> upstream = new ArrayList<>();
    private final List<ByteArrayOutputStream> downstream = new ArrayList<>();
    private final List<Socket> open = new ArrayList<>();
    private volatile boolean closed;

    public TapRelay(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.listener = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::acceptLoop, "tap-relay-accept");
        t.setDaemon(true);
        t.start();
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** Client-to-server bytes seen so far, one array per connection, in order of arrival. */
    public synchronized List<byte[]> upstream() {
        return upstream.stream().map(ByteArrayOutputStream::toByteArray).toList();
    }

    /** Server-to-client bytes seen so far, one array per connection. */
    public synchronized List<byte[]> downstream() {
        return downstream.stream().map(ByteArrayOutputStream::toByteArray).toList();
    }

    /** Resets every relayed connection (both sides), as a network failure would. */
    public synchronized void resetAll() {
        for (Socket s : open) {
            try {
                s.setSoLinger(true, 0);
                s.close();
            } catch (IOException e) {
                // already gone
            }
        }
        open.clear();
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = listener.accept();
                Socket server = new Socket();
                server.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 5000);
                client.setTcpNoDelay(true);
                server.setTcpNoDelay(true);
                ByteArrayOutputStream up = new ByteArrayOutputStream();
                ByteArrayOutputStream down = new ByteArrayOutputStream();
                synchronized (this) {
                    open.add(client);
                    open.add(server);
                    upstream.add(up);
                    downstream.add(down);
                }
                pump(client, server, up);
                pump(server, client, down);
            } catch (IOException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    private void pump(Socket from, Socket to, ByteArrayOutputStream copy) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16384];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    synchronized (this) {
                        if (copy.size() + n <= CAP) { // per connection and direction
                            copy.write(buf, 0, n);
                        }
                    }
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // connection over
            } finally {
                try {
                    from.close();
                    to.close();
                } catch (IOException e) {
                    // ignore
                }
            }
        }, "tap-relay-pump");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() throws IOException {
        closed = true;
        listener.close();
        resetAll();
    }
}
