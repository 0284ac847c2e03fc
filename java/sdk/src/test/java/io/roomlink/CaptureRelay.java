package io.roomlink;

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
 * A TCP relay on {@code listenAddress} that forwards to a server and records every byte each way:
 * what an on-path observer of the signaling connection sees. Test code only.
 */
final class CaptureRelay implements AutoCloseable {
    private final ServerSocket listener;
    private final InetSocketAddress target;
    private final ByteArrayOutputStream upstream = new ByteArrayOutputStream();
    private final ByteArrayOutputStream downstream = new ByteArrayOutputStream();
    private final List<Socket> sockets = new ArrayList<>();
    private final Thread acceptor;

    CaptureRelay(String listenAddress, int targetPort) throws IOException {
        listener = new ServerSocket(0, 50, InetAddress.getByName(listenAddress));
        target = new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort);
        acceptor = new Thread(this::acceptLoop, "capture-relay-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return listener.getLocalPort();
    }

    /** Client-to-server bytes of every connection so far, in arrival order. */
    byte[] upstream() {
        synchronized (upstream) {
            return upstream.toByteArray();
        }
    }

    /** Server-to-client bytes of every connection so far. */
    byte[] downstream() {
        synchronized (downstream) {
            return downstream.toByteArray();
        }
    }

    private void acceptLoop() {
        try {
            while (true) {
                Socket client = listener.accept();
                Socket server = new Socket(target.getAddress(), target.getPort());
                synchronized (sockets) {
                    sockets.add(client);
                    sockets.add(server);
                }
                pump(client.getInputStream(), server.getOutputStream(), upstream, server);
                pump(server.getInputStream(), client.getOutputStream(), downstream, client);
            }
        } catch (IOException closed) {
            // the relay is closed
        }
    }

    private static void pump(InputStream in, OutputStream out, ByteArrayOutputStream record, Socket sink) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[16384];
            try {
                int n;
                while ((n = in.read(buffer)) > 0) {
                    synchronized (record) {
                        record.write(buffer, 0, n);
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
                sink.shutdownOutput();
            } catch (IOException e) {
                try {
                    sink.close();
                } catch (IOException ignored) {
                    // already closed
                }
            }
        }, "capture-relay-pump");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() throws IOException {
        listener.close();
        synchronized (sockets) {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }
}
