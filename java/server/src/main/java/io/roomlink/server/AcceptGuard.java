package io.roomlink.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

import java.util.concurrent.TimeUnit;

/**
 * Keeps the accept loop alive when accepting fails, typically with EMFILE/ENFILE (out of file
 * descriptors): the oldest unauthenticated connection is closed to free a descriptor (see
 * {@link ConnectionGate}), and the server channel stops accepting for a short delay that doubles while the
 * failures go on ({@link #MIN_PAUSE_MILLIS} up to {@link #MAX_PAUSE_MILLIS}) and starts again at
 * the shortest after an accept succeeds. The failure is counted and goes no further down the
 * pipeline, where Netty would log it for every attempt (and a logger that touches files can
 * itself fail at EMFILE). One instance per server channel, used on its event loop only.
 */
final class AcceptGuard extends ChannelInboundHandlerAdapter {
    static final long MIN_PAUSE_MILLIS = 10;
    static final long MAX_PAUSE_MILLIS = 1000;

    private final ServerStats stats;
    private final ConnectionGate gate;
    private long pauseMillis = MIN_PAUSE_MILLIS;
    private boolean paused;

    AcceptGuard(ServerStats stats, ConnectionGate gate) {
        this.stats = stats;
        this.gate = gate;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object child) throws Exception {
        pauseMillis = MIN_PAUSE_MILLIS; // accepting works again
        ctx.fireChannelRead(child);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        stats.acceptErrors.increment();
        if (gate != null) {
            gate.evictOldestUnauthenticated(); // out of descriptors: free one for a client that will use it
        }
        if (paused) {
            return;
        }
        paused = true;
        ctx.channel().config().setAutoRead(false);
        long delay = pauseMillis;
        pauseMillis = Math.min(MAX_PAUSE_MILLIS, pauseMillis * 2);
        try {
            ctx.executor().schedule(() -> {
                paused = false;
                if (ctx.channel().isOpen()) {
                    ctx.channel().config().setAutoRead(true);
                }
            }, delay, TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            paused = false; // the loop is shutting down: nothing left to accept
        }
    }

    /** For tests: the pause the next failure would cause. */
    long nextPauseMillis() {
        return pauseMillis;
    }
}
