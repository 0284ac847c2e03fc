package io.roomlink;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Sends numbered messages {@code "<from>:<seq>:<to>"} from one engine at a fixed rate, every
 * {@code directedEvery}-th one to a single member (the others in turn), and remembers every one
 * the engine accepted. A send the engine refused is a failure the test asserts is absent.
 */
final class MessageSender implements AutoCloseable {
    private final long uid;
    private final RoomEngine engine;
    private final long[] others;
    private final int directedEvery;
    private final List<long[]> accepted = new ArrayList<>(); // {seq, to (0 = everyone)}
    private final List<String> refused = new ArrayList<>();
    private final ScheduledExecutorService timer;
    private ScheduledFuture<?> task;
    private long next = 1;
    private int turn;

    MessageSender(long uid, RoomEngine engine, int directedEvery, long... others) {
        this.uid = uid;
        this.engine = engine;
        this.others = others;
        this.directedEvery = directedEvery;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sender-" + uid);
            t.setDaemon(true);
            return t;
        });
    }

    long uid() {
        return uid;
    }

    /** Sends {@code count} messages, one every {@code periodMicros}; returns at once. */
    synchronized void start(int count, long periodMicros) {
        long last = next + count - 1;
        task = timer.scheduleAtFixedRate(() -> {
            synchronized (this) {
                if (next > last) {
                    notifyAll();
                    task.cancel(false);
                    return;
                }
                sendOne();
            }
        }, 0, periodMicros, TimeUnit.MICROSECONDS);
    }

    /** Sends one message now, from the calling thread; returns the engine's answer. */
    synchronized int sendOne() {
        long seq = next;
        long to = directedEvery > 0 && seq % directedEvery == 0 ? others[turn++ % others.length] : 0;
        byte[] data = (uid + ":" + seq + ":" + (to == 0 ? "*" : Long.toString(to))).getBytes(StandardCharsets.UTF_8);
        int rc = to == 0 ? engine.sendMessage(data) : engine.sendMessage(to, data);
        if (rc == ErrorCode.OK) {
            accepted.add(new long[] {seq, to});
            next++;
        } else {
            refused.add(uid + ":" + seq + " refused with " + ErrorCode.nameOf(rc));
            if (refused.size() > 100) {
                refused.remove(refused.size() - 1);
            }
        }
        return rc;
    }

    /** Waits until the started batch is sent. */
    synchronized void awaitDone(java.time.Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (task != null && !task.isDone()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("sender " + uid + " did not finish; at " + next);
            }
            try {
                wait(Math.max(1, left / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    /** The numbers of the accepted messages {@code receiver} is owed, in send order. */
    synchronized List<Long> sentTo(long receiver) {
        List<Long> owed = new ArrayList<>();
        for (long[] m : accepted) {
            if (m[1] == 0 || m[1] == receiver) {
                owed.add(m[0]);
            }
        }
        return owed;
    }

    /** The number of the last accepted message {@code receiver} is owed, or 0. */
    synchronized long lastTo(long receiver) {
        List<Long> owed = sentTo(receiver);
        return owed.isEmpty() ? 0 : owed.get(owed.size() - 1);
    }

    synchronized int acceptedCount() {
        return accepted.size();
    }

    synchronized List<String> refused() {
        return new ArrayList<>(refused);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
