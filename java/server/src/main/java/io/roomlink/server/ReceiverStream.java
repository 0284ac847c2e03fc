package io.roomlink.server;

import io.netty.buffer.ByteBuf;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A session's receiver stream (docs/PROTOCOL.md, "Room messages"): every PEER_JOINED, PEER_LEFT
 * and ROOM_MESSAGE sent after the JOIN_OK/RESUME_OK, numbered implicitly {@code 1, 2, 3, …}, and
 * the replay buffer that keeps each item's encoded frame until a cumulative STREAM_ACK covers it,
 * whether or not a connection is attached. Bounded by {@code capacityBytes} of encoded frames.
 *
 * <p>Frames are shared, never copied: {@link #append} keeps a reference of its own to the one
 * buffer a fan-out encoded, and {@link #replayAfter} hands out retained duplicates. Room executor
 * only.
 */
final class ReceiverStream {
    private final int capacityBytes;
    /** Items {@code acked + 1 .. appended}, oldest first; each holds one reference. */
    private final ArrayDeque<ByteBuf> items = new ArrayDeque<>();
    /** Number of the last item appended (0 = none yet). */
    private long appended;
    /** The highest number the client acknowledged (STREAM_ACK or RESUME.lastReceived). */
    private long acked;
    private long bytes;

    ReceiverStream(int capacityBytes) {
        if (capacityBytes < 1) {
            throw new IllegalArgumentException("capacityBytes must be positive, got " + capacityBytes);
        }
        this.capacityBytes = capacityBytes;
    }

    /**
     * Appends {@code frame} as the next item, keeping a reference of its own (the caller keeps
     * its own).
     *
     * @return false, and nothing appended, if the buffer would hold more than its capacity
     */
    boolean append(ByteBuf frame) {
        int size = frame.readableBytes();
        if (bytes + size > capacityBytes) {
            return false;
        }
        items.addLast(frame.retain());
        bytes += size;
        appended++;
        return true;
    }

    /**
     * A cumulative acknowledgement: drops every item up to {@code seq}; an ack below one already
     * seen changes nothing.
     *
     * @return false if {@code seq} lies beyond the last item appended (a protocol error)
     */
    boolean ack(long seq) {
        if (Long.compareUnsigned(seq, appended) > 0) {
            return false;
        }
        while (Long.compareUnsigned(acked, seq) < 0) {
            ByteBuf b = items.removeFirst();
            bytes -= b.readableBytes();
            b.release();
            acked++;
        }
        return true;
    }

    /** Whether a RESUME may name {@code lastReceived}: between what was acknowledged and what was sent. */
    boolean canResumeAt(long lastReceived) {
        return Long.compareUnsigned(lastReceived, acked) >= 0 && Long.compareUnsigned(lastReceived, appended) <= 0;
    }

    /**
     * Drops what {@code lastReceived} covers and returns retained duplicates of every item after it,
     * in order (the caller writes and so releases them). Call {@link #canResumeAt} first.
     */
    List<ByteBuf> replayAfter(long lastReceived) {
        if (!ack(lastReceived) || Long.compareUnsigned(lastReceived, acked) < 0) {
            throw new IllegalArgumentException("lastReceived " + Long.toUnsignedString(lastReceived)
                    + " outside " + acked + ".." + appended);
        }
        List<ByteBuf> out = new ArrayList<>(items.size());
        for (ByteBuf b : items) {
            out.add(b.retainedDuplicate());
        }
        return out;
    }

    /** Releases every item (the session ended). */
    void clear() {
        for (ByteBuf b : items) {
            b.release();
        }
        items.clear();
        bytes = 0;
        acked = appended;
    }

    long appended() {
        return appended;
    }

    long acked() {
        return acked;
    }

    /** Encoded bytes held, awaiting acknowledgement. */
    long bytes() {
        return bytes;
    }

    int size() {
        return items.size();
    }
}
