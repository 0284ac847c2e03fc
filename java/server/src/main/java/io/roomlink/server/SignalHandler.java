package io.roomlink.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.EventLoop;
import io.netty.channel.SingleThreadEventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderException;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import io.roomlink.server.protocol.FrameDecoder;
import io.roomlink.server.protocol.Message;
import io.roomlink.server.protocol.ProtocolException;
import io.roomlink.server.protocol.WireCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One signaling (TCP) connection: enforces the per-connection rules of the protocol on its I/O
 * thread and hands everything that touches room state to the {@link RoomRegistry} shard of its
 * session: the shard of the JOIN's room, or the one a RESUME's session id names. The first
 * JOIN/RESUME binds the connection to that shard for good, so its frames reach it in order.
 *
 * <p>Threading: fields marked "I/O" are confined to this channel's event loop; {@link #session} is
 * confined to the shard's room executor (and written by {@link Attachment} only). The room
 * executor talks to the connection only through {@link #send}, {@link #sendAndAttach},
 * {@link #sendAndClose} and {@link #closeSilently}, all of which are safe from any thread.
 *
 * <p>Flushes are batched, because on loopback and in VMs the write system call (with the wake-up
 * of the reader it causes) is most of the cost of a small frame: PONGs written on the I/O thread
 * are flushed once per read batch ({@link #channelReadComplete}), and frames from the room
 * executors once per event-loop iteration ({@link #flushSoon}), so a member that gets several
 * presence events at once (a channel filling up) gets them in one write.
 */
final class SignalHandler extends SimpleChannelInboundHandler<Message> {
    private static final Logger log = LoggerFactory.getLogger(SignalHandler.class);

    private enum Phase {
        /** Waiting for the first frame (JOIN or RESUME). */
        AWAIT_FIRST,
        /** JOIN/RESUME handed to the room executor; frames are forwarded there in order. */
        JOINING,
        /** Session attached: PINGs are answered on the I/O thread. */
        ACTIVE,
        /** LEAVE sent, or the connection is being closed: inbound frames are ignored. */
        CLOSING
    }

    private final RoomShards shards;
    private final TokenVerifier verifier;
    private final ServerStats stats;
    /** Largest PONG batch kept before it is handed to the channel (and writability checked). */
    private static final int PONG_BATCH_MAX = 16 * 1024;

    private final SignalLimits limits;
    /** Admission of connections ({@code null} in unit tests): told when this one authenticates. */
    private final ConnectionGate gate;
    private final String advertisedHost;
    private final int advertisedPort;

    // I/O thread
    private Phase phase = Phase.AWAIT_FIRST;
    private Session attached;
    private ScheduledFuture<?> handshakeTimer;
    /** The shard of this connection's session, once its JOIN/RESUME was handed over. */
    private RoomRegistry registry;
    /** A PONG was written in this read batch and awaits the flush at its end. */
    private boolean flushPending;
    /** A flush at the end of this event-loop iteration is already scheduled. */
    private boolean flushScheduled;
    private final Runnable flushNow = this::flushNow;
    /** PINGs answered before JOIN/RESUME. */
    private int preAuthPings;
    /** PONGs of this read batch, encoded into one buffer and written at its end (one buffer, not one per PONG). */
    private ByteBuf pongs;
    /** A MESSAGE was handed to the room executor in this read batch: its end is handed over too (MESSAGE_ACK). */
    private boolean messagesInBatch;
    /** Reading is paused because the client does not read what it is sent. */
    private boolean writePaused;

    // set once in channelActive, then read-only
    private volatile Channel channel;
    private volatile String mediaHost;

    /** Room executor only: the session this connection speaks for; see {@link Attachment}. */
    Session session;

    SignalHandler(RoomShards shards, TokenVerifier verifier, ServerStats stats, long handshakeTimeoutNanos,
                  String advertisedHost, int advertisedPort) {
        this(shards, verifier, stats, SignalLimits.handshakeOnly(handshakeTimeoutNanos), advertisedHost,
                advertisedPort, null);
    }

    SignalHandler(RoomShards shards, TokenVerifier verifier, ServerStats stats, SignalLimits limits,
                  String advertisedHost, int advertisedPort, ConnectionGate gate) {
        this.gate = gate;
        this.shards = shards;
        this.verifier = verifier;
        this.stats = stats;
        this.limits = limits;
        this.advertisedHost = advertisedHost;
        this.advertisedPort = advertisedPort;
    }

    /** Media host told to this client: the configured one, else the address it reached us on. */
    String mediaHost() {
        return mediaHost;
    }

    int mediaPort() {
        return advertisedPort;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        Channel ch = ctx.channel();
        channel = ch;
        mediaHost = advertisedHost != null ? advertisedHost : localHost(ch.localAddress());
        ch.closeFuture().addListener(f -> { // runs on this channel's event loop, like every write of `registry`
            RoomRegistry r = registry;
            if (r != null) {
                r.post(() -> r.connectionClosed(this));
            }
        });
        handshakeTimer = ctx.executor().schedule(() -> {
            if (phase == Phase.AWAIT_FIRST && ch.isActive()) {
                log.debug("{}: no JOIN/RESUME within the handshake timeout, closing", ch.remoteAddress());
                stats.handshakeTimeouts.increment();
                phase = Phase.CLOSING;
                ch.close();
            }
        }, limits.handshakeTimeoutNanos(), TimeUnit.NANOSECONDS);
        super.channelActive(ctx);
    }

    private static String localHost(SocketAddress local) {
        if (local instanceof InetSocketAddress isa && isa.getAddress() != null) {
            return NetUtil.toAddressString(isa.getAddress());
        }
        return "127.0.0.1";
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Message m) {
        Session s = attached;
        if (s != null) {
            s.touchSignal();
        }
        switch (phase) {
            case CLOSING -> {
                // ignore: the connection is going away
            }
            case AWAIT_FIRST -> onFirstFrame(ctx, m);
            case JOINING, ACTIVE -> onFrame(ctx, m);
            default -> throw new IllegalStateException("phase " + phase);
        }
    }

    private void onFirstFrame(ChannelHandlerContext ctx, Message m) {
        if (m instanceof Message.Ping p) {
            // A reachability probe from a reconnecting client: answer it and keep waiting for
            // JOIN/RESUME; the handshake timer still closes a connection that never sends one.
            // A client probes a path with one or two; more is someone making the server talk.
            if (++preAuthPings > limits.maxPreAuthPings()) {
                stats.preAuthViolations.increment();
                protocolError(ctx, "more than " + limits.maxPreAuthPings() + " PINGs before JOIN/RESUME");
                return;
            }
            write(ctx, new Message.Pong(p.nonce()));
            return;
        }
        if (gate != null) {
            gate.authenticated(ctx.channel()); // no longer evicted to make room for newcomers
        }
        if (handshakeTimer != null) {
            handshakeTimer.cancel(false); // from now on the room sweep watches the connection
            handshakeTimer = null;
        }
        writePongs(ctx); // the probe answers go before anything the room executor writes
        if ((m instanceof Message.Join || m instanceof Message.Resume) && !joinRateAllows(ctx)) {
            return;
        }
        if (ctx.pipeline().get("decoder") instanceof FrameDecoder d) {
            d.maxFrame(WireCodec.MAX_FRAME); // authenticated or about to be closed: the first-frame cap is done
        }
        if (m instanceof Message.Join j) {
            TokenVerifier.Result r = verifier.verify(j.appKey(), j.channel(), j.uid(), j.token(), Instant.now());
            if (r != TokenVerifier.Result.OK) {
                log.debug("{}: JOIN rejected for uid {} in {}/{}: {}", ctx.channel().remoteAddress(),
                        Long.toUnsignedString(j.uid()), j.appKey(), j.channel(), r.message());
                stats.joinRejects.increment();
                if (r == TokenVerifier.Result.LIFETIME_TOO_LONG) {
                    stats.tokenLifetimeRejects.increment();
                }
                phase = Phase.CLOSING;
                ctx.channel().config().setAutoRead(false);
                ctx.writeAndFlush(new Message.JoinErr(ErrorCodes.INVALID_TOKEN, r.message()))
                        .addListener(ChannelFutureListener.CLOSE);
                return;
            }
            phase = Phase.JOINING;
            RoomRegistry shard = shards.forRoom(new RoomKey(j.appKey(), j.channel()));
            registry = shard;
            shard.post(() -> shard.join(this, j));
        } else if (m instanceof Message.Resume r) {
            phase = Phase.JOINING;
            RoomRegistry shard = shards.forSession(r.sessionId());
            registry = shard;
            shard.post(() -> shard.resume(this, r));
        } else {
            protocolError(ctx, "first frame must be JOIN or RESUME, got " + WireCodec.typeName(m.type()));
        }
    }

    private void onFrame(ChannelHandlerContext ctx, Message m) {
        switch (m.type()) {
            case WireCodec.PING -> {
                long nonce = ((Message.Ping) m).nonce();
                if (phase == Phase.ACTIVE) {
                    write(ctx, new Message.Pong(nonce));
                } else {
                    // Keep the PONG behind the snapshot and JOIN_OK/RESUME_OK: the room executor answers it.
                    RoomRegistry shard = registry;
                    shard.post(() -> shard.ping(this, nonce));
                }
            }
            case WireCodec.LEAVE -> {
                phase = Phase.CLOSING;
                RoomRegistry shard = registry;
                shard.post(() -> shard.leave(this));
            }
            case WireCodec.RENEW_TOKEN -> {
                String token = ((Message.RenewToken) m).token();
                boolean allowed = tokenCheckAllowed(ctx);
                RoomRegistry shard = registry;
                shard.post(() -> shard.renewToken(this, token, allowed));
            }
            case WireCodec.MESSAGE -> {
                Message.MessageFrame f = (Message.MessageFrame) m;
                messagesInBatch = true;
                RoomRegistry shard = registry;
                shard.post(() -> shard.message(this, f));
            }
            case WireCodec.STREAM_ACK -> {
                long seq = ((Message.StreamAck) m).seq();
                RoomRegistry shard = registry;
                shard.post(() -> shard.streamAck(this, seq));
            }
            case WireCodec.JOIN, WireCodec.RESUME ->
                    protocolError(ctx, "unexpected " + WireCodec.typeName(m.type()) + " after the first frame");
            default -> protocolError(ctx, "unexpected " + WireCodec.typeName(m.type()) + " from a client");
        }
    }

    /** Takes one token check (JOIN, RESUME or RENEW_TOKEN) from the client's address's bucket. */
    private boolean tokenCheckAllowed(ChannelHandlerContext ctx) {
        AddressRateLimiter rate = limits.joinRate();
        return rate == null || !(ctx.channel().remoteAddress() instanceof InetSocketAddress isa)
                || isa.getAddress() == null || rate.tryAcquire(isa.getAddress(), System.nanoTime());
    }

    /** The JOIN/RESUME rate of the client's address; answers JOIN_ERR(31022) and closes when over it. */
    private boolean joinRateAllows(ChannelHandlerContext ctx) {
        if (tokenCheckAllowed(ctx)) {
            return true;
        }
        stats.joinRateRejects.increment();
        stats.joinRejects.increment();
        phase = Phase.CLOSING;
        ctx.channel().config().setAutoRead(false);
        ctx.writeAndFlush(new Message.JoinErr(ErrorCodes.SERVER_LIMIT, "too many join attempts from this address"))
                .addListener(ChannelFutureListener.CLOSE);
        return false;
    }

    /** A PONG from the I/O thread: batched with the others of this read batch, written and flushed at its end. */
    private void write(ChannelHandlerContext ctx, Message.Pong m) {
        if (pongs == null) {
            pongs = ctx.alloc().buffer(256);
        }
        WireCodec.encode(m, pongs);
        flushPending = true;
        if (pongs.readableBytes() >= PONG_BATCH_MAX) {
            // One read batch can hold a megabyte of PINGs: hand the PONGs over in slices, so that
            // a client that does not read is paused after one read, before its backlog nears the cap.
            writePongs(ctx);
        }
    }

    private void writePongs(ChannelHandlerContext ctx) {
        ByteBuf batch = pongs;
        if (batch != null) {
            pongs = null;
            ctx.write(batch, ctx.voidPromise());
            checkBackpressure(ctx.channel());
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        if (messagesInBatch) {
            // Behind every MESSAGE of the batch on the room executor: one MESSAGE_ACK for them all.
            messagesInBatch = false;
            RoomRegistry shard = registry;
            if (shard != null && phase != Phase.CLOSING) {
                shard.post(() -> shard.batchEnd(this));
            }
        }
        if (flushPending) {
            flushPending = false;
            writePongs(ctx);
            ctx.flush();
        }
        super.channelReadComplete(ctx);
    }

    /**
     * After every write: a client that does not read what it is sent stops being read from (so
     * its PINGs cannot make more output) until its backlog drains below the low-water mark; past
     * {@code maxPendingWriteBytes} it is closed. Its peers notice nothing, since every member has
     * its own buffer.
     */
    private void checkBackpressure(Channel ch) {
        if (ch.isWritable() || phase == Phase.CLOSING) {
            return;
        }
        ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
        if (out != null && out.totalPendingWriteBytes() > limits.maxPendingWriteBytes()) {
            log.debug("{}: {} bytes wait for a client that does not read, closing", ch.remoteAddress(),
                    out.totalPendingWriteBytes());
            stats.slowConsumerDisconnects.increment();
            phase = Phase.CLOSING;
            ch.close();
            return;
        }
        if (!writePaused) {
            writePaused = true;
            stats.writePauses.increment();
            ch.config().setAutoRead(false);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        if (ctx.channel().isWritable() && writePaused && phase != Phase.CLOSING) {
            writePaused = false;
            ctx.channel().config().setAutoRead(true);
        }
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        ByteBuf batch = pongs;
        pongs = null;
        if (batch != null) {
            batch.release();
        }
    }

    private void protocolError(ChannelHandlerContext ctx, String reason) {
        stats.protocolErrors.increment();
        log.debug("{}: protocol error: {}", ctx.channel().remoteAddress(), reason);
        phase = Phase.CLOSING;
        attached = null;
        ctx.channel().config().setAutoRead(false);
        ctx.writeAndFlush(new Message.Error(ErrorCodes.PROTOCOL, reason)).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof DecoderException && cause.getCause() instanceof ProtocolException pe) {
            if (phase != Phase.CLOSING) {
                if (ctx.pipeline().get("decoder") instanceof FrameDecoder d && d.overLimit()) {
                    stats.preAuthViolations.increment(); // a first frame longer than any JOIN/RESUME
                }
                protocolError(ctx, pe.reason());
            }
            return;
        }
        if (cause instanceof IOException) {
            log.debug("{}: I/O error: {}", ctx.channel().remoteAddress(), cause.toString());
        } else {
            log.warn("{}: unexpected error on signaling connection, closing it", ctx.channel().remoteAddress(),
                    cause);
        }
        phase = Phase.CLOSING;
        ctx.close();
    }

    // ---------------------------------------------------------------------------------------------
    // Called from the room executor (thread-safe)
    // ---------------------------------------------------------------------------------------------

    /**
     * Writes the pre-encoded snapshot and JOIN_OK/RESUME_OK (ownership of {@code frames} passes to
     * this method), then attaches the session: from then on PINGs are answered on the I/O thread.
     * One task on the connection's loop for both, after every write the room executor issued before.
     */
    void sendAndAttach(ByteBuf frames, Session s) {
        Channel ch = channel;
        onLoop(ch, () -> {
            writeSoon(frames);
            if (phase == Phase.JOINING) {
                phase = Phase.ACTIVE;
                attached = s;
            }
        });
    }

    /**
     * {@link #sendAndAttach(ByteBuf, Session)} for RESUME_OK({@code resumed=1}) and the replay of
     * the receiver stream after it ({@code replay}: retained frames, whose ownership passes too).
     */
    void sendAndAttach(ByteBuf answer, List<ByteBuf> replay, Session s) {
        Channel ch = channel;
        onLoop(ch, () -> {
            writeSoon(answer);
            for (ByteBuf b : replay) {
                writeSoon(b);
            }
            if (phase == Phase.JOINING) {
                phase = Phase.ACTIVE;
                attached = s;
            }
        });
    }

    /** Writes one pre-encoded frame (ownership passes to this method), in order with every other send. */
    void sendFrame(ByteBuf frame) {
        Channel ch = channel;
        try {
            onLoop(ch, () -> writeSoon(frame));
        } catch (RejectedExecutionException e) {
            frame.release(); // the server is shutting down
        }
    }

    /** The connection no longer speaks for its session (it was replaced or the session ended). */
    private void forgetSession() {
        onLoop(channel, () -> attached = null);
    }

    /** Runs {@code task} on the channel's loop: at once when already there (a shard on the same loop). */
    private static void onLoop(Channel ch, Runnable task) {
        if (ch.eventLoop().inEventLoop()) {
            task.run();
        } else {
            ch.eventLoop().execute(task);
        }
    }

    void send(Message m) {
        Channel ch = channel;
        if (ch.isActive()) {
            onLoop(ch, () -> writeSoon(m));
        }
    }

    /**
     * Sends one pre-encoded frame to every connection in {@code targets} (ownership of {@code frame}
     * passes to this method): one task per event loop rather than one per connection, and on the
     * caller's own loop no task at all.
     */
    static void sendToAll(List<SignalHandler> targets, ByteBuf frame) {
        try {
            Map<EventLoop, List<SignalHandler>> byLoop = new IdentityHashMap<>(4);
            for (SignalHandler c : targets) {
                byLoop.computeIfAbsent(c.channel.eventLoop(), l -> new ArrayList<>(targets.size())).add(c);
            }
            byLoop.forEach((loop, conns) -> {
                frame.retain(); // released by the task below
                Runnable writeAll = () -> {
                    try {
                        for (SignalHandler c : conns) {
                            c.writeSoon(frame.retainedDuplicate());
                        }
                    } finally {
                        frame.release();
                    }
                };
                if (loop.inEventLoop()) {
                    writeAll.run();
                } else {
                    try {
                        loop.execute(writeAll);
                    } catch (RejectedExecutionException e) {
                        frame.release(); // the server is shutting down
                    }
                }
            });
        } finally {
            frame.release();
        }
    }

    /** On the I/O thread: writes now, flushes at the end of this event-loop iteration. */
    private void writeSoon(Object msg) {
        Channel ch = channel;
        if (!ch.isActive()) {
            ReferenceCountUtil.release(msg);
            return;
        }
        ch.write(msg, ch.voidPromise());
        checkBackpressure(ch);
        if (flushScheduled) {
            return;
        }
        if (ch.eventLoop() instanceof SingleThreadEventLoop loop) {
            flushScheduled = true;
            loop.executeAfterEventLoopIteration(flushNow);
        } else {
            ch.flush();
        }
    }

    private void flushNow() {
        flushScheduled = false;
        channel.flush();
    }

    /** Writes {@code m}, then closes the connection once it is flushed. */
    void sendAndClose(Message m) {
        Channel ch = channel;
        forgetSession();
        ch.config().setAutoRead(false);
        ch.writeAndFlush(m).addListener(ChannelFutureListener.CLOSE);
    }

    /** Closes the connection without a word (it was replaced by a RESUME, or found dead). */
    void closeSilently() {
        forgetSession();
        channel.close();
    }

    boolean isActive() {
        return channel.isActive();
    }

    boolean isWritable() {
        return channel.isWritable();
    }

    @Override
    public String toString() {
        Channel ch = channel;
        return "SignalConnection[" + (ch == null ? "?" : ch.remoteAddress()) + "]";
    }
}
