package io.roomlink.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderException;
import io.netty.util.NetUtil;
import io.roomlink.server.protocol.Message;
import io.roomlink.server.protocol.ProtocolException;
import io.roomlink.server.protocol.WireCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Instant;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One signaling (TCP) connection: enforces the per-connection rules of the protocol on its I/O
 * thread and hands everything that touches room state to the {@link RoomRegistry}.
 *
 * <p>Threading: fields marked "I/O" are confined to this channel's event loop; {@link #session} is
 * confined to the room executor. The room executor talks to the connection only through
 * {@link #send}, {@link #sendAndClose}, {@link #closeSilently}, {@link #attach} and {@link #detach},
 * all of which are safe from any thread.
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

    private final RoomRegistry registry;
    private final TokenVerifier verifier;
    private final ServerStats stats;
    private final long handshakeTimeoutNanos;
    private final String advertisedHost;
    private final int advertisedPort;

    // I/O thread
    private Phase phase = Phase.AWAIT_FIRST;
    private Session attached;
    private ScheduledFuture<?> handshakeTimer;

    // set once in channelActive, then read-only
    private volatile Channel channel;
    private volatile String mediaHost;

    // room executor
    Session session;

    SignalHandler(RoomRegistry registry, TokenVerifier verifier, ServerStats stats, long handshakeTimeoutNanos,
                  String advertisedHost, int advertisedPort) {
        this.registry = registry;
        this.verifier = verifier;
        this.stats = stats;
        this.handshakeTimeoutNanos = handshakeTimeoutNanos;
        this.advertisedHost = advertisedHost;
        this.advertisedPort = advertisedPort;
    }

    Channel channel() {
        return channel;
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
        ch.closeFuture().addListener(f -> registry.post(() -> registry.connectionClosed(this)));
        handshakeTimer = ctx.executor().schedule(() -> {
            if (phase == Phase.AWAIT_FIRST && ch.isActive()) {
                log.debug("{}: no JOIN/RESUME within the idle timeout, closing", ch.remoteAddress());
                phase = Phase.CLOSING;
                ch.close();
            }
        }, handshakeTimeoutNanos, TimeUnit.NANOSECONDS);
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
            ctx.writeAndFlush(new Message.Pong(p.nonce()), ctx.voidPromise());
            return;
        }
        if (handshakeTimer != null) {
            handshakeTimer.cancel(false); // from now on the room sweep watches the connection
            handshakeTimer = null;
        }
        if (m instanceof Message.Join j) {
            TokenVerifier.Result r = verifier.verify(j.appKey(), j.channel(), j.uid(), j.token(), Instant.now());
            if (r != TokenVerifier.Result.OK) {
                log.debug("{}: JOIN rejected for uid {} in {}/{}: {}", ctx.channel().remoteAddress(),
                        Long.toUnsignedString(j.uid()), j.appKey(), j.channel(), r.message());
                stats.joinRejects.increment();
                phase = Phase.CLOSING;
                ctx.channel().config().setAutoRead(false);
                ctx.writeAndFlush(new Message.JoinErr(ErrorCodes.INVALID_TOKEN, r.message()))
                        .addListener(ChannelFutureListener.CLOSE);
                return;
            }
            phase = Phase.JOINING;
            registry.post(() -> registry.join(this, j));
        } else if (m instanceof Message.Resume r) {
            phase = Phase.JOINING;
            registry.post(() -> registry.resume(this, r));
        } else {
            protocolError(ctx, "first frame must be JOIN or RESUME, got " + WireCodec.typeName(m.type()));
        }
    }

    private void onFrame(ChannelHandlerContext ctx, Message m) {
        switch (m.type()) {
            case WireCodec.PING -> {
                long nonce = ((Message.Ping) m).nonce();
                if (phase == Phase.ACTIVE) {
                    ctx.writeAndFlush(new Message.Pong(nonce), ctx.voidPromise());
                    if (!ctx.channel().isWritable()) {
                        // The client sends but does not read: stop reading until it catches up.
                        ctx.channel().config().setAutoRead(false);
                    }
                } else {
                    // Keep the PONG behind the snapshot and JOIN_OK/RESUME_OK: the room executor answers it.
                    registry.post(() -> registry.ping(this, nonce));
                }
            }
            case WireCodec.LEAVE -> {
                phase = Phase.CLOSING;
                registry.post(() -> registry.leave(this));
            }
            case WireCodec.JOIN, WireCodec.RESUME ->
                    protocolError(ctx, "unexpected " + WireCodec.typeName(m.type()) + " after the first frame");
            default -> protocolError(ctx, "unexpected " + WireCodec.typeName(m.type()) + " from a client");
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        if (ctx.channel().isWritable() && phase != Phase.CLOSING) {
            ctx.channel().config().setAutoRead(true);
        }
        super.channelWritabilityChanged(ctx);
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

    /** Runs after every write the room executor issued before it: from then on PINGs are answered here. */
    void attach(Session s) {
        Channel ch = channel;
        ch.eventLoop().execute(() -> {
            if (phase == Phase.JOINING) {
                phase = Phase.ACTIVE;
                attached = s;
            }
        });
    }

    /** The connection no longer speaks for its session (it was replaced or the session ended). */
    void detach() {
        Channel ch = channel;
        ch.eventLoop().execute(() -> attached = null);
    }

    void send(Message m) {
        Channel ch = channel;
        if (ch.isActive()) {
            ch.writeAndFlush(m, ch.voidPromise());
        }
    }

    /** Writes a pre-encoded frame (ownership of {@code frame} passes to this method). */
    void send(ByteBuf frame) {
        Channel ch = channel;
        if (ch.isActive()) {
            ch.writeAndFlush(frame, ch.voidPromise());
        } else {
            frame.release();
        }
    }

    /** Writes {@code m}, then closes the connection once it is flushed. */
    void sendAndClose(Message m) {
        Channel ch = channel;
        detach();
        ch.config().setAutoRead(false);
        ch.writeAndFlush(m).addListener(ChannelFutureListener.CLOSE);
    }

    /** Closes the connection without a word (it was replaced by a RESUME, or found dead). */
    void closeSilently() {
        detach();
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
