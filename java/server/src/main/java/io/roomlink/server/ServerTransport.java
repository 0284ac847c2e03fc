package io.roomlink.server;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;

/**
 * The Netty transport the server runs on. Native epoll where its library loads (Linux x86-64):
 * fewer system calls and no per-read selector bookkeeping or address objects, which is most of the
 * server's CPU per keepalive and per accepted connection. NIO everywhere else, with the same behaviour.
 */
record ServerTransport(String name, IoHandlerFactory ioHandlerFactory, Class<? extends ServerChannel> serverChannel,
                       Class<? extends DatagramChannel> datagramChannel) {

    /** Picks epoll if wanted and available, else NIO. */
    static ServerTransport select(boolean preferNative) {
        return preferNative && Epoll.isAvailable() ? epoll() : nio();
    }

    static ServerTransport select(boolean preferNative, boolean epollAvailable) {
        return preferNative && epollAvailable ? epoll() : nio();
    }

    /** Why epoll is not used on this machine, or {@code null} if it could be. */
    static Throwable epollUnavailabilityCause() {
        return Epoll.unavailabilityCause();
    }

    static ServerTransport epoll() {
        return new ServerTransport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class,
                EpollDatagramChannel.class);
    }

    static ServerTransport nio() {
        return new ServerTransport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class,
                NioDatagramChannel.class);
    }
}
