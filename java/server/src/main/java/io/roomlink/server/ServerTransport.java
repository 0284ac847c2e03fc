package io.roomlink.server;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.roomlink.server.protocol.MediaCodec;
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

    /** Datagrams read per recvmmsg(2) call on epoll: a flood costs one system call per batch. */
    static final int DATAGRAMS_PER_READ = 32;

    /**
     * On epoll, reads the media socket with recvmmsg(2), up to {@link #DATAGRAMS_PER_READ}
     * datagrams of at most {@link MediaCodec#MAX_DATAGRAM} bytes per call, so that under a flood
     * the loop spends its time on datagrams, not on system calls. NIO reads one per call.
     */
    void batchDatagramReads(io.netty.bootstrap.Bootstrap b) {
        if (datagramChannel == EpollDatagramChannel.class) {
            b.option(io.netty.channel.epoll.EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, MediaCodec.MAX_DATAGRAM)
                    .option(ChannelOption.RCVBUF_ALLOCATOR,
                            new io.netty.channel.FixedRecvByteBufAllocator(MediaCodec.MAX_DATAGRAM * DATAGRAMS_PER_READ));
        }
    }

    static ServerTransport nio() {
        return new ServerTransport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class,
                NioDatagramChannel.class);
    }
}
