package io.roomlink.bench.harness;

import io.roomlink.ConnectionState;
import io.roomlink.ConnectionStateChangeReason;
import io.roomlink.RoomEngineListener;
import io.roomlink.UserLeaveReason;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A member's listener for the room-message scenarios: every callback but the messages goes to its
 * {@link Probe}; each {@code onMessage} is recorded with the System.nanoTime() at which it ran and
 * the sequence number and send time the bench's payload carries ({@link #payload}).
 */
public final class MessageProbe implements RoomEngineListener {
    /** The bench's payload header: sequence number per sender (u64), System.nanoTime() just before sendMessage (i64). */
    public static final int HEADER = 16;

    /** One message as the receiver got it. */
    public record Got(long nanos, long fromUid, long seq, long sentNanos, int length) {
    }

    public final Probe probe;
    private final List<Got> got = new ArrayList<>();
    private final List<int[]> undelivered = new ArrayList<>();

    public MessageProbe(Probe probe) {
        this.probe = probe;
    }

    /** A payload of {@code size} bytes (at least {@link #HEADER}) carrying {@code seq} and the time now. */
    public static byte[] payload(long seq, int size) {
        byte[] b = new byte[Math.max(HEADER, size)];
        ByteBuffer.wrap(b).putLong(seq).putLong(System.nanoTime());
        return b;
    }

    @Override
    public void onMessage(long fromUid, byte[] data) {
        long now = System.nanoTime();
        long seq = -1;
        long sent = 0;
        if (data != null && data.length >= HEADER) {
            ByteBuffer b = ByteBuffer.wrap(data);
            seq = b.getLong();
            sent = b.getLong();
        }
        synchronized (this) {
            got.add(new Got(now, fromUid, seq, sent, data == null ? -1 : data.length));
            notifyAll();
        }
    }

    @Override
    public synchronized void onMessagesUndelivered(int count, int reason) {
        undelivered.add(new int[] {count, reason});
        notifyAll();
    }

    public synchronized int size() {
        return got.size();
    }

    public synchronized List<Got> since(int index) {
        return new ArrayList<>(got.subList(Math.min(index, got.size()), got.size()));
    }

    /** Every onMessagesUndelivered so far as {count, reason}. */
    public synchronized List<int[]> undelivered() {
        return new ArrayList<>(undelivered);
    }

    /** Waits until at least {@code count} messages have arrived; false at the timeout. */
    public synchronized boolean awaitCount(int count, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (got.size() < count) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            try {
                long ms = left / 1_000_000;
                wait(ms, ms == 0 ? (int) Math.max(1, left % 1_000_000) : 0);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /** Waits until {@code from} has delivered a message with sequence ≥ {@code seq} since {@code index}. */
    public synchronized boolean awaitSeq(int index, long from, long seq, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int scanned = index;
        while (true) {
            for (; scanned < got.size(); scanned++) {
                Got g = got.get(scanned);
                if (g.fromUid() == from && g.seq() >= seq) {
                    return true;
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            try {
                wait(Math.max(1, left / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    /**
     * What a receiver got from one sender, against the sequence numbers {@code first..last} it is
     * owed: lost (owed, never came), duplicated (came more than once), reordered (came after a
     * higher one), unexpected (outside the range).
     */
    public record Tally(long owed, long received, long lost, long duplicated, long reordered, long unexpected) {
        @Override
        public String toString() {
            return "owed " + owed + ", received " + received + ", lost " + lost + ", duplicated " + duplicated
                    + ", reordered " + reordered + (unexpected > 0 ? ", unexpected " + unexpected : "");
        }
    }

    public static Tally tally(List<Got> got, long from, long first, long last) {
        Map<Long, Integer> seen = new HashMap<>();
        long received = 0;
        long reordered = 0;
        long unexpected = 0;
        long highest = Long.MIN_VALUE;
        for (Got g : got) {
            if (g.fromUid() != from) {
                continue;
            }
            if (g.seq() < first || g.seq() > last) {
                unexpected++;
                continue;
            }
            received++;
            seen.merge(g.seq(), 1, Integer::sum);
            if (g.seq() < highest) {
                reordered++;
            }
            highest = Math.max(highest, g.seq());
        }
        long owed = last - first + 1;
        long lost = owed - seen.size();
        long duplicated = received - seen.size();
        return new Tally(owed, received, lost, duplicated, reordered, unexpected);
    }

    // Everything else is the probe's.

    @Override
    public void onConnectionStateChanged(ConnectionState state, ConnectionStateChangeReason reason) {
        probe.onConnectionStateChanged(state, reason);
    }

    @Override
    public void onJoinChannel(int result, long channelId, long elapsedMs, long uid) {
        probe.onJoinChannel(result, channelId, elapsedMs, uid);
    }

    @Override
    public void onRejoinChannel(int result, long channelId) {
        probe.onRejoinChannel(result, channelId);
    }

    @Override
    public void onLeaveChannel(int result) {
        probe.onLeaveChannel(result);
    }

    @Override
    public void onReconnectingStart() {
        probe.onReconnectingStart();
    }

    @Override
    public void onDisconnect(int reason) {
        probe.onDisconnect(reason);
    }

    @Override
    public void onUserJoined(long uid) {
        probe.onUserJoined(uid);
    }

    @Override
    public void onUserLeave(long uid, UserLeaveReason reason) {
        probe.onUserLeave(uid, reason);
    }
}
