package io.roomlink.testkit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread that owns a selector, a timer queue and a task queue. Every piece of proxy state is
 * touched only on this thread, so none of it needs locks; other threads hand work over with
 * {@link #call}. Timers are folded into the select timeout, which gives millisecond precision
 * without a second thread.
 */
final class IoLoop implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(IoLoop.class);
    private static final long CALL_TIMEOUT_SECONDS = 10;

    /** Something registered with the selector. */
    interface Handler {
        void ready(SelectionKey key) throws IOException;

        /** The handler threw; it must clean itself up and must not throw again. */
        void failed(Exception e);
    }

    /** A scheduled action. {@code release} marks data held for a delay: restore() runs those at once. */
    static final class Timer implements Comparable<Timer> {
        final long at;
        private final long seq;
        private final Runnable action;
        private final boolean release;
        private boolean cancelled;

        private Timer(long at, long seq, Runnable action, boolean release) {
            this.at = at;
            this.seq = seq;
            this.action = action;
            this.release = release;
        }

        void cancel() {
            cancelled = true;
        }

        @Override
        public int compareTo(Timer o) {
            int c = Long.compare(at - o.at, 0); // nanoTime values compare by difference
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    private final Selector selector;
    private final Thread thread;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final PriorityQueue<Timer> timers = new PriorityQueue<>();
    /** Shared scratch buffer for reads; safe because only the loop thread reads. */
    private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(64 * 1024);
    private long timerSeq;
    private volatile boolean stopping;
    private Runnable onStop = () -> { };

    IoLoop(String name) throws IOException {
        selector = Selector.open();
        thread = new Thread(this::run, name);
        thread.setDaemon(true);
    }

    void start(Runnable onStop) {
        this.onStop = onStop;
        thread.start();
    }

    boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    ByteBuffer readBuffer() {
        return readBuffer.clear();
    }

    SelectionKey register(SelectableChannel channel, int ops, Handler handler) throws IOException {
        channel.configureBlocking(false);
        return channel.register(selector, ops, handler);
    }

    Timer schedule(long atNanos, Runnable action, boolean release) {
        Timer t = new Timer(atNanos, timerSeq++, action, release);
        timers.add(t);
        return t;
    }

    /** Runs every pending release timer now, in due order (restore(): held data flows on). */
    void runReleaseTimersNow() {
        List<Timer> due = new ArrayList<>();
        for (Iterator<Timer> it = timers.iterator(); it.hasNext(); ) {
            Timer t = it.next();
            if (t.release || t.cancelled) {
                it.remove();
                if (!t.cancelled) {
                    due.add(t);
                }
            }
        }
        due.sort(null);
        for (Timer t : due) {
            runSafely(t.action);
        }
    }

    /**
     * Lets the selector drop cancelled keys now, which is when the JDK really closes their sockets
     * (and so when an SO_LINGER=0 close sends its RST).
     */
    void flushClosedChannels() {
        try {
            selector.selectNow();
        } catch (IOException | ClosedSelectorException e) {
            log.debug("selectNow failed", e);
        }
    }

    /** Runs {@code work} on the loop thread and waits for its result. */
    <T> T call(Callable<T> work) {
        if (inLoop()) {
            try {
                return work.call();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        if (stopping) {
            throw new IllegalStateException("FaultProxy is closed");
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        tasks.add(() -> {
            try {
                result.complete(work.call());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        selector.wakeup();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CALL_TIMEOUT_SECONDS);
            while (true) {
                try {
                    return result.get(50, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    // A task queued just as the loop exited would otherwise wait out the whole timeout.
                    if (!thread.isAlive() && !result.isDone()) {
                        throw new IllegalStateException("FaultProxy is closed");
                    }
                    if (System.nanoTime() - deadline > 0) {
                        throw e;
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the proxy thread", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(cause);
        } catch (TimeoutException e) {
            throw new IllegalStateException("proxy thread did not answer within " + CALL_TIMEOUT_SECONDS + " s", e);
        }
    }

    void run(Runnable task) {
        call(() -> {
            task.run();
            return null;
        });
    }

    private void run() {
        while (!stopping) {
            try {
                runTasks();
                runDueTimers();
                select();
                handleSelectedKeys();
            } catch (ClosedSelectorException e) {
                break;
            } catch (Throwable t) {
                // The loop must survive anything a handler does: a dead proxy thread would look
                // like a network outage that never ends.
                log.error("fault proxy loop error", t);
            }
        }
        try {
            runTasks();
        } catch (Throwable t) {
            log.debug("task failed during shutdown", t);
        }
        runSafely(onStop);
        try {
            selector.close();
        } catch (IOException e) {
            log.debug("closing selector", e);
        }
        Runnable leftover;
        while ((leftover = tasks.poll()) != null) {
            runSafely(leftover);
        }
    }

    private void select() throws IOException {
        if (!tasks.isEmpty()) {
            selector.selectNow();
            return;
        }
        Timer next = peekLiveTimer();
        if (next == null) {
            selector.select();
            return;
        }
        long waitNanos = next.at - System.nanoTime();
        if (waitNanos <= 0) {
            selector.selectNow();
        } else {
            // Round up: waking a little late is harmless, waking early just spins once more.
            selector.select(Math.max(1, (waitNanos + 999_999) / 1_000_000));
        }
    }

    private void handleSelectedKeys() {
        Iterator<SelectionKey> it = selector.selectedKeys().iterator();
        while (it.hasNext()) {
            SelectionKey key = it.next();
            it.remove();
            Handler handler = (Handler) key.attachment();
            try {
                if (key.isValid()) {
                    handler.ready(key);
                }
            } catch (Exception e) {
                try {
                    handler.failed(e);
                } catch (Throwable t) {
                    log.error("handler cleanup failed", t);
                }
            }
        }
    }

    private void runTasks() {
        Runnable task;
        while ((task = tasks.poll()) != null) {
            runSafely(task);
        }
    }

    private void runDueTimers() {
        long now = System.nanoTime();
        Timer t;
        while ((t = peekLiveTimer()) != null && t.at - now <= 0) {
            timers.poll();
            runSafely(t.action);
        }
    }

    private Timer peekLiveTimer() {
        Timer t;
        while ((t = timers.peek()) != null && t.cancelled) {
            timers.poll();
        }
        return t;
    }

    private static void runSafely(Runnable r) {
        try {
            r.run();
        } catch (Throwable t) {
            log.error("fault proxy task failed", t);
        }
    }

    /** Stops the loop; {@code onStop} closes the channels on the loop thread. Waits for the thread. */
    @Override
    public void close() {
        stopping = true;
        selector.wakeup();
        if (!thread.isAlive()) {
            try {
                selector.close(); // never started, or already gone: nothing else holds it
            } catch (IOException e) {
                log.debug("closing selector", e);
            }
            return;
        }
        if (!inLoop()) {
            try {
                thread.join(TimeUnit.SECONDS.toMillis(CALL_TIMEOUT_SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
