package io.roomlink.testkit;

import io.roomlink.testkit.FaultProxy.Direction;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;

/**
 * One direction of a proxied TCP connection: the bytes read from one side and not yet written to
 * the other, each chunk stamped with the time it may go out. Release times never decrease, so
 * delay, jitter and "loss" can slow a byte stream down but never reorder or drop any of it.
 */
final class TcpPipe {
    /** Stop reading the source beyond this, as a full TCP window would stop the sender. */
    static final long MAX_HELD_BYTES = 256 * 1024;
    /** A lost segment comes back after the retransmission timeout: Linux's minimum RTO is 200 ms. */
    static final long BASE_RTO_NANOS = Duration.ofMillis(200).toNanos();
    /** Capped well below real TCP's 120 s so a test with heavy loss still finishes. */
    static final long MAX_RTO_NANOS = Duration.ofMillis(3200).toNanos();

    enum Kind { DATA, FIN, RESET }

    static final class Chunk {
        final Kind kind;
        final ByteBuffer data;
        long releaseAt;

        Chunk(Kind kind, ByteBuffer data, long releaseAt) {
            this.kind = kind;
            this.data = data;
            this.releaseAt = releaseAt;
        }
    }

    final Direction direction;
    private final ArrayDeque<Chunk> queue = new ArrayDeque<>();
    private long heldBytes;
    private long lastReleaseAt;
    private int consecutiveLosses;
    /** No more input: the source sent FIN or failed. */
    boolean sourceDone;
    /** The FIN went out to the destination. */
    boolean finished;
    /** The destination's send buffer is full: wait for OP_WRITE. */
    boolean writeBlocked;
    IoLoop.Timer wake;

    TcpPipe(Direction direction, long now) {
        this.direction = direction;
        this.lastReleaseAt = now;
    }

    boolean acceptsInput() {
        return !sourceDone && heldBytes < MAX_HELD_BYTES;
    }

    void offerData(byte[] bytes, long now, PathFaults faults, ProxyState st) {
        long release = now + faults.sampleDelayNanos(st.random);
        if (faults.lose(st.random)) {
            // Retransmission backs off exponentially while losses come in a row.
            release += Math.min(MAX_RTO_NANOS, BASE_RTO_NANOS << Math.min(consecutiveLosses, 16));
            consecutiveLosses++;
            st.counters.signalChunksRetransmitted++;
        } else {
            consecutiveLosses = 0;
        }
        append(new Chunk(Kind.DATA, ByteBuffer.wrap(bytes), release));
        heldBytes += bytes.length;
        st.counters.signalBytesHeld += bytes.length;
    }

    /** FIN or RESET: travels in order behind the data, like the segment that carries it. */
    void offerEnd(Kind kind, long now, PathFaults faults, ProxyState st) {
        sourceDone = true;
        append(new Chunk(kind, null, now + faults.sampleDelayNanos(st.random)));
    }

    private void append(Chunk c) {
        if (c.releaseAt - lastReleaseAt < 0) {
            c.releaseAt = lastReleaseAt;
        }
        lastReleaseAt = c.releaseAt;
        queue.add(c);
    }

    Chunk peek() {
        return queue.peek();
    }

    void remove(Chunk c) {
        queue.poll();
        if (c.kind == Kind.DATA) {
            heldBytes -= c.data.capacity();
        }
    }

    /** restore(): everything waiting for a delay or a retransmission may go now. */
    void releaseAllNow(long now) {
        for (Chunk c : queue) {
            c.releaseAt = now;
        }
        lastReleaseAt = now;
        consecutiveLosses = 0;
    }

    /** Nowhere to deliver what is held: forget it, counting it as discarded rather than held. */
    void discard(Counters counters) {
        for (Chunk c : queue) {
            if (c.kind == Kind.DATA) {
                counters.signalBytesHeld -= c.data.remaining();
                counters.signalBytesDiscarded += c.data.remaining();
            }
        }
        queue.clear();
        heldBytes = 0;
        if (wake != null) {
            wake.cancel();
            wake = null;
        }
    }
}
