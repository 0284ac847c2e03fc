package io.roomlink.internal;

import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The shared threads that run listener callbacks, so that thousands of engines need no thread
 * each. Size: system property {@code roomlink.dispatchThreads}, default 2.
 */
public final class DispatchPool {
    public static final String THREAD_NAME_PREFIX = "roomlink-dispatch-";

    private DispatchPool() {
    }

    public static Executor shared() {
        return Holder.EXECUTOR;
    }

    public static int size() {
        return Holder.EXECUTOR.getMaximumPoolSize();
    }

    private static final class Holder {
        static final ThreadPoolExecutor EXECUTOR = create();

        private static ThreadPoolExecutor create() {
            int threads = Integer.getInteger("roomlink.dispatchThreads", 2);
            if (threads < 1 || threads > 64) {
                throw new IllegalArgumentException(
                        "roomlink.dispatchThreads must be between 1 and 64, was " + threads);
            }
            AtomicInteger next = new AtomicInteger(1);
            ThreadFactory factory = r -> {
                Thread t = new Thread(r, THREAD_NAME_PREFIX + next.getAndIncrement());
                t.setDaemon(true);
                return t;
            };
            ThreadPoolExecutor executor = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS,
                    new LinkedBlockingQueue<>(), factory);
            executor.prestartAllCoreThreads();
            return executor;
        }
    }
}
