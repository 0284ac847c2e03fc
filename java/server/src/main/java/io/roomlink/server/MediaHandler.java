package io.roomlink.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.roomlink.server.protocol.MediaCodec;
import io.roomlink.server.protocol.MediaPacket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The media (UDP) path: BIND/BIND_ACK and PING/PONG on the one datagram channel.
 *
 * <p>Threading: runs on the datagram channel's event loop. The mediaKey → session table
 * ({@link MediaBindings}) is written by the room executors; the pending-bind table is confined to this loop.
 * The room executor announces a newly registered key through {@link #keyRegistered}, which runs
 * after any BIND this loop is processing at that moment, so a BIND that raced its JOIN is
 * always either bound directly or found pending.
 *
 * <p>Only the current key of a session can be bound. A PING counts (PONG, and the session's
 * media side is refreshed) only from the address bound by the last accepted BIND and under that
 * BIND's key: after a RESUME named a new key, the previous binding keeps working until the new
 * key's BIND arrives. Every accepted BIND is reported to the {@link BindListener} (the registry),
 * before its BIND_ACK is written.
 */
final class MediaHandler extends SimpleChannelInboundHandler<DatagramPacket> {
    private static final Logger log = LoggerFactory.getLogger(MediaHandler.class);

    /** How long a BIND for a not-yet-known mediaKey is kept (docs/PROTOCOL.md: up to 2 s). */
    static final long PENDING_NANOS = TimeUnit.SECONDS.toNanos(2);
    /** Upper bound of the pending table, against floods of BINDs with random keys. */
    static final int MAX_PENDING = 65536;

    /** Told about every accepted BIND (called on the media loop, must not block). */
    interface BindListener {
        void bound(Session s, long key);
    }

    private record Pending(InetSocketAddress from, int seq, long echoNs, long receivedNanos) {
    }

    private final MediaBindings bindings;
    private final ServerStats stats;
    /** Media loop only. */
    private final Map<Long, Pending> pending = new HashMap<>();
    private volatile Channel channel;
    private volatile BindListener bindListener = (s, key) -> { };

    MediaHandler(MediaBindings bindings, ServerStats stats) {
        super(DatagramPacket.class, true);
        this.bindings = bindings;
        this.stats = stats;
    }

    void bindListener(BindListener listener) {
        this.bindListener = listener;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        channel = ctx.channel();
        ctx.executor().scheduleAtFixedRate(this::prunePending, 500, 500, TimeUnit.MILLISECONDS);
        super.channelActive(ctx);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
        MediaPacket p = MediaCodec.decode(packet.content());
        if (p == null) {
            stats.malformedDatagrams.increment();
            return;
        }
        InetSocketAddress from = packet.sender();
        switch (p.type()) {
            case MediaCodec.BIND -> onBind(ctx, p, from);
            case MediaCodec.PING -> {
                Session s = bindings.lookup(p.mediaKey());
                if (s != null && from.equals(s.mediaAddress) && s.boundKey == p.mediaKey()) {
                    s.touchMedia();
                    reply(ctx, p.reply(MediaCodec.PONG), from);
                } else {
                    stats.unboundDatagrams.increment(); // the client notices the silence and rebinds
                }
            }
            default -> stats.unboundDatagrams.increment(); // BIND_ACK / PONG are server → client only
        }
    }

    private void onBind(ChannelHandlerContext ctx, MediaPacket p, InetSocketAddress from) {
        Session s = bindings.lookup(p.mediaKey());
        if (s != null) {
            if (s.mediaKey != p.mediaKey()) {
                // The previous key of a session that has resumed with a new one: it may still PING
                // from its old binding, but it cannot be bound again.
                stats.unboundDatagrams.increment();
                return;
            }
            bind(s, p.mediaKey(), from);
            reply(ctx, p.reply(MediaCodec.BIND_ACK), from);
            return;
        }
        // The JOIN/RESUME naming this key may still be on its way over TCP.
        Long key = p.mediaKey();
        if (!pending.containsKey(key) && pending.size() >= MAX_PENDING) {
            prunePending();
            if (pending.size() >= MAX_PENDING) {
                stats.droppedPendingBinds.increment();
                return;
            }
        }
        pending.put(key, new Pending(from, p.seq(), p.echoNs(), System.nanoTime()));
        stats.pendingBinds.increment();
    }

    /** First bind, or the binding moves (NAT rebinding, network switch, new key after a RESUME). */
    private void bind(Session s, long key, InetSocketAddress from) {
        s.mediaAddress = from;
        s.boundKey = key;
        s.touchMedia();
        bindListener.bound(s, key); // before the BIND_ACK goes out
    }

    private static void reply(ChannelHandlerContext ctx, MediaPacket p, InetSocketAddress to) {
        ByteBuf buf = ctx.alloc().buffer(MediaCodec.SIZE);
        MediaCodec.encode(p, buf);
        ctx.write(new DatagramPacket(buf, to), ctx.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush(); // one flush per batch of datagrams read
    }

    /**
     * Called by the room executor after {@code key} was registered for {@code s}: answers a BIND
     * that arrived before the JOIN/RESUME.
     */
    void keyRegistered(long key, Session s) {
        Channel ch = channel;
        if (ch == null || !ch.isOpen()) {
            return;
        }
        try {
            ch.eventLoop().execute(() -> bindPending(ch, key, s));
        } catch (RejectedExecutionException e) {
            log.debug("media loop shut down, pending bind for a new key not checked");
        }
    }

    private void bindPending(Channel ch, long key, Session s) {
        Pending p = pending.remove(key);
        if (p == null || System.nanoTime() - p.receivedNanos() > PENDING_NANOS || bindings.lookup(key) != s
                || s.mediaKey != key) {
            return;
        }
        bind(s, key, p.from());
        ByteBuf buf = ch.alloc().buffer(MediaCodec.SIZE);
        MediaCodec.encode(new MediaPacket(MediaCodec.BIND_ACK, key, p.seq(), p.echoNs()), buf);
        ch.writeAndFlush(new DatagramPacket(buf, p.from()), ch.voidPromise());
    }

    private void prunePending() {
        long now = System.nanoTime();
        for (Iterator<Pending> it = pending.values().iterator(); it.hasNext(); ) {
            if (now - it.next().receivedNanos() > PENDING_NANOS) {
                it.remove();
                stats.droppedPendingBinds.increment();
            }
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Never close the media socket over one bad datagram or an ICMP error.
        log.warn("media channel error (ignored): {}", cause.toString(), cause);
    }
}
