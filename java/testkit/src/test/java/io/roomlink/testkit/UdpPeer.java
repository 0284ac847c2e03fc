package io.roomlink.testkit;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;

/** A blocking UDP socket on loopback: a client or a stand-in server. */
final class UdpPeer implements AutoCloseable {
    final DatagramSocket socket;

    UdpPeer() throws IOException {
        socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        socket.setReceiveBufferSize(1 << 20);
    }

    int port() {
        return socket.getLocalPort();
    }

    InetSocketAddress address() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    void send(byte[] data, SocketAddress to) throws IOException {
        socket.send(new DatagramPacket(data, data.length, to));
    }

    void send(byte[] data, int port) throws IOException {
        send(data, new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    }

    void sendInt(int value, int port) throws IOException {
        send(ByteBuffer.allocate(4).putInt(value).array(), port);
    }

    void sendInt(int value, SocketAddress to) throws IOException {
        send(ByteBuffer.allocate(4).putInt(value).array(), to);
    }

    /** The next datagram, or null if none arrives within {@code timeout}. */
    DatagramPacket receive(Duration timeout) throws IOException {
        socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
        DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
        try {
            socket.receive(p);
            return p;
        } catch (SocketTimeoutException e) {
            return null;
        }
    }

    static int intOf(DatagramPacket p) {
        return ByteBuffer.wrap(p.getData(), p.getOffset(), p.getLength()).getInt();
    }

    static InetSocketAddress loopback(int port) {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    @Override
    public void close() {
        socket.close();
    }
}
