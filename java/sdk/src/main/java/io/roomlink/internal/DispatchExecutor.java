package io.roomlink.internal;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A fixed pool of daemon threads sharing one lock-free task queue. Submitting takes no lock and
 * makes no system call unless a thread is parked, so the native loop threads that queue
 * callbacks never wait for each other or for a dispatch thread (a ThreadPoolExecutor's queue
 * lock is shared by both sides).
 *
 * <p>No lost wake-ups: a thread going idle first lists itself as parked and then looks at the
 * queue once more; a submitter first queues and then looks for a parked thread. One of the two
 * always sees the other.
 *
 * <p>Idle threads park at once. Polling a little before parking was measured on the 2-core
 * benchmark box and made latency worse: the polling threads took the cores from the loop threads
 * that were producing the burst.
 */
final class DispatchExecutor implements Executor {
    private static final Logger LOG = LoggerFactory.getLogger(DispatchExecutor.class);

    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Thread> parked = new ConcurrentLinkedQueue<>();
    private final int threadCount;
    private final Runnable threadStart;

    DispatchExecutor(String namePrefix, int threads) {
        this(namePrefix, threads, () -> { });
    }

    /** @param threadStart runs first on each pool thread (thread tuning); if it throws, the thread still serves */
    DispatchExecutor(String namePrefix, int threads, Runnable threadStart) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, was " + threads);
        }
        this.threadCount = threads;
        this.threadStart = threadStart;
        for (int i = 1; i <= threads; i++) {
            Thread t = new Thread(this::work, namePrefix + i);
            t.setDaemon(true);
            t.start();
        }
    }

    int threadCount() {
        return threadCount;
    }

    @Override
    public void execute(Runnable task) {
        if (task == null) {
            throw new NullPointerException("task");
        }
        tasks.offer(task);
        Thread idle = parked.poll();
        if (idle != null) {
            LockSupport.unpark(idle);
        }
    }

    private void work() {
        run(threadStart);
        Thread self = Thread.currentThread();
        while (true) {
            Runnable task = tasks.poll();
            if (task == null) {
                task = park(self);
            }
            if (task != null) {
                run(task);
            }
        }
    }

    private Runnable park(Thread self) {
        parked.offer(self);
        Runnable task = tasks.poll();
        if (task != null) {
            // A submitter may have taken us off the list already; the permit it left then only
            // makes a later park() return early, which the loop tolerates.
            parked.remove(self);
            return task;
        }
        LockSupport.park(this);
        parked.remove(self); // after a spurious wake-up we are still listed
        return null;
    }

    private static void run(Runnable task) {
        try {
            task.run();
        } catch (Throwable t) {
            // The tasks are SerialQueue drains, which catch listener errors themselves.
            LOG.error("dispatch thread: task threw", t);
        }
    }
}
