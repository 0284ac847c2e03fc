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
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The media (UDP) path: BIND/BIND_ACK and PING/PONG on the one datagram channel.
 *
 * <p>Threading: runs on the datagram channel's event loop. The mediaKey → session table
 * ({@link MediaBindings}) is written by the room executors; the {@link PendingBinds}, the replay
 * windows and send counters ({@link MediaKeyState}) are confined to this loop.
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

    /** Told about every accepted BIND (called on the media loop, must not block). */
    interface BindListener {
        void bound(Session s, long key);
    }

    private final MediaBindings bindings;
    private final ServerStats stats;
    /** Media loop only. */
    private final PendingBinds pending;
    private volatile Channel channel;
    private volatile BindListener bindListener = (s, key) -> { };

    /** The two bounds are {@link ServerLimits#maxPendingBinds()} and its per-source share. */
    MediaHandler(MediaBindings bindings, ServerStats stats, int maxPendingBinds, int maxPendingBindsPerSource) {
        super(DatagramPacket.class, true);
        this.bindings = bindings;
        this.stats = stats;
        this.pending = new PendingBinds(maxPendingBinds, maxPendingBindsPerSource, PENDING_NANOS, stats);
    }

    void bindListener(BindListener listener) {
        this.bindListener = listener;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        channel = ctx.channel();
        ctx.executor().scheduleAtFixedRate(() -> pending.expire(System.nanoTime()), 500, 500, TimeUnit.MILLISECONDS);
        super.channelActive(ctx);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    /**
     * Checks in the order of docs/PROTOCOL.md, each O(1): shape, one key lookup, one tag check
     * under that key, the replay window; only then does the datagram act. Nothing here throws on
     * hostile input.
     */
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
        ByteBuf in = packet.content();
        if (!MediaCodec.wellFormed(in)) {
            stats.malformedDatagrams.increment();
            return;
        }
        int type = MediaCodec.type(in);
        if (type != MediaCodec.BIND && type != MediaCodec.PING) {
            stats.unboundDatagrams.increment(); // BIND_ACK / PONG are server → client only
            return;
        }
        long key = MediaCodec.mediaKey(in);
        InetSocketAddress from = packet.sender();
        MediaKeyState e = bindings.lookup(key);
        if (e == null) {
            if (type == MediaCodec.BIND) {
                // The JOIN/RESUME naming this key may still be on its way over TCP.
                byte[] raw = new byte[MediaCodec.SIZE];
                in.getBytes(in.readerIndex(), raw);
                pending.offer(key, raw, from, System.nanoTime());
            } else {
                stats.unboundDatagrams.increment();
            }
            return;
        }
        MediaPacket p = authentic(e, MediaCodec.open(in, e.keys.clientToServer()));
        if (p != null) {
            act(ctx.channel(), e, p, from, false);
        }
    }

    /**
     * {@code opened} (the datagram opened under {@code e}'s client key, or null if its tag failed)
     * if it is also fresh; the replay window moves only then. Counts what it refuses.
     */
    private MediaPacket authentic(MediaKeyState e, MediaPacket opened) {
        if (opened == null) {
            stats.unauthenticatedDatagrams.increment();
            return null;
        }
        if (!e.replay.fresh(opened.counter())) {
            stats.replayedDatagrams.increment();
            return null;
        }
        e.replay.accept(opened.counter());
        return opened;
    }

    private void act(Channel ch, MediaKeyState e, MediaPacket p, InetSocketAddress from, boolean flush) {
        Session s = e.session;
        if (p.type() == MediaCodec.BIND) {
            if (s.mediaKey != e.key) {
                // The previous key of a session that has resumed with a new one: it may still PING
                // from its old binding, but it cannot be bound again.
                stats.unboundDatagrams.increment();
                return;
            }
            bind(s, e.key, from);
            reply(ch, e, p.reply(MediaCodec.BIND_ACK, e.nextCounter()), from, flush);
        } else if (from.equals(s.mediaAddress) && s.boundKey == e.key) {
            s.touchMedia();
            reply(ch, e, p.reply(MediaCodec.PONG, e.nextCounter()), from, flush);
        } else {
            stats.unboundDatagrams.increment(); // the client notices the silence and rebinds
        }
    }

    /** First bind, or the binding moves (NAT rebinding, network switch, new key after a RESUME). */
    private void bind(Session s, long key, InetSocketAddress from) {
        s.mediaAddress = from;
        s.boundKey = key;
        s.touchMedia();
        bindListener.bound(s, key); // before the BIND_ACK goes out
    }

    private static void reply(Channel ch, MediaKeyState e, MediaPacket p, InetSocketAddress to, boolean flush) {
        ByteBuf buf = ch.alloc().buffer(MediaCodec.SIZE);
        MediaCodec.seal(p, e.keys.serverToClient(), buf);
        if (flush) {
            ch.writeAndFlush(new DatagramPacket(buf, to), ch.voidPromise());
        } else {
            ch.write(new DatagramPacket(buf, to), ch.voidPromise());
        }
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
        PendingBinds.Pending p = pending.take(key, System.nanoTime());
        if (p == null) {
            return;
        }
        MediaKeyState e = bindings.lookup(key);
        if (e == null || e.session != s || s.mediaKey != key) {
            stats.droppedPendingBinds.increment();
            return;
        }
        MediaPacket m = authentic(e, MediaCodec.open(p.datagram(), 0, p.datagram().length, e.keys.clientToServer()));
        if (m != null) {
            act(ch, e, m, p.from(), true);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Never close the media socket over one bad datagram or an ICMP error.
        log.warn("media channel error (ignored): {}", cause.toString(), cause);
    }
}
