package io.roomlink.internal;

import java.util.concurrent.Executor;

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
        return Holder.EXECUTOR.threadCount();
    }

    private static final class Holder {
        static final DispatchExecutor EXECUTOR = new DispatchExecutor(THREAD_NAME_PREFIX, threads());

        private static int threads() {
            int threads = Integer.getInteger("roomlink.dispatchThreads", 2);
            if (threads < 1 || threads > 64) {
                throw new IllegalArgumentException("roomlink.dispatchThreads must be between 1 and 64, was " + threads);
            }
            return threads;
        }
    }
}
