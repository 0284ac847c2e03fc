package io.roomlink.internal;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one engine's callbacks one at a time, in order, on a shared executor. A task that throws
 * is logged and the next one still runs. After {@link #close()} returns no task runs, except one
 * that close() was called from. What waits is bounded however slow the listener is: behind
 * a slow listener presence changes are coalesced per uid ({@link PendingCallbacks}).
 */
public final class SerialQueue {
    private static final Logger LOG = LoggerFactory.getLogger(SerialQueue.class);
    /** Tasks run per turn before yielding the pool thread, so one chatty engine cannot starve others. */
    private static final int BATCH = 64;

    private final Executor executor;
    private final String name;
    private final PendingCallbacks tasks = new PendingCallbacks();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final Runnable drain = this::drain;
    private final Object lock = new Object();
    private boolean closed;
    private Thread runner;

    public SerialQueue(Executor executor, String name) {
        this.executor = executor;
        this.name = name;
    }

    public void submit(Runnable task) {
        if (isClosed()) {
            return;
        }
        tasks.add(task);
        schedule();
    }

    /**
     * A presence change of {@code uid}. Behind a slow listener it cancels a still-queued opposite
     * change of the same uid instead of queuing behind it (see {@link PendingCallbacks}).
     */
    public void submitPresence(long uid, boolean joined, Runnable task) {
        if (isClosed()) {
            return;
        }
        tasks.addPresence(uid, joined, task);
        schedule();
    }

    /** Stops the queue: pending tasks are dropped and a running task is waited for. */
    public void close() {
        synchronized (lock) {
            closed = true;
            Thread self = Thread.currentThread();
            boolean interrupted = false;
            while (runner != null && runner != self) {
                try {
                    lock.wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                self.interrupt();
            }
        }
        tasks.clear();
    }

    private boolean isClosed() {
        synchronized (lock) {
            return closed;
        }
    }

    private void schedule() {
        if (scheduled.compareAndSet(false, true)) {
            try {
                executor.execute(drain);
            } catch (RejectedExecutionException e) {
                scheduled.set(false);
                LOG.error("{}: callback executor rejected the callbacks; they are dropped", name, e);
            }
        }
    }

    private void drain() {
        try {
            for (int i = 0; i < BATCH; i++) {
                Runnable task = tasks.poll();
                if (task == null || !enter()) {
                    break;
                }
                try {
                    task.run();
                } catch (Throwable t) {
                    LOG.error("{}: listener threw; the next callback will still be delivered", name, t);
                } finally {
                    exit();
                }
            }
        } finally {
            scheduled.set(false);
            if (!tasks.isEmpty() && !isClosed()) {
                schedule();
            }
        }
    }

    private boolean enter() {
        synchronized (lock) {
            if (closed) {
                return false;
            }
            runner = Thread.currentThread();
            return true;
        }
    }

    private void exit() {
        synchronized (lock) {
            runner = null;
            if (closed) {
                lock.notifyAll();
            }
        }
    }
}
