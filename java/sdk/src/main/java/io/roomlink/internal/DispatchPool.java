package io.roomlink.internal;

import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shared threads that run listener callbacks, so that thousands of engines need no thread
 * each. Size: system property {@code roomlink.dispatchThreads}, default 2. With
 * {@code roomlink.dispatchSliceMicros} (100..100000; default 0, the kernel's default) each thread
 * asks the kernel for a short scheduling slice: a callback thread sleeps nearly all the time, and
 * with a short slice it runs as soon as an event wakes it instead of after the slice of whatever
 * occupies its CPU (Linux 6.12+; elsewhere nothing changes). Off by default: it cut an app's
 * callback p99 on the 2-core benchmark box, but made 10,000 idle engines and their server cost
 * about a third more CPU there (docs/PERFORMANCE.md, "Callback latency").
 */
public final class DispatchPool {
    public static final String THREAD_NAME_PREFIX = "roomlink-dispatch-";
    private static final Logger LOG = LoggerFactory.getLogger(DispatchPool.class);

    private DispatchPool() {
    }

    /**
     * The pool, started on first use.
     *
     * @throws IllegalArgumentException if a system property above is out of range (checked on every call, so
     *     that a bad value is named where it is used instead of failing the pool's class initialisation)
     */
    public static Executor shared() {
        threads();
        sliceMicros();
        return Holder.EXECUTOR;
    }

    public static int size() {
        return Holder.EXECUTOR.threadCount();
    }

    private static int threads() {
        int threads = Integer.getInteger("roomlink.dispatchThreads", 2);
        if (threads < 1 || threads > 64) {
            throw new IllegalArgumentException("roomlink.dispatchThreads must be between 1 and 64, was " + threads);
        }
        return threads;
    }

    private static long sliceMicros() {
        long micros = Long.getLong("roomlink.dispatchSliceMicros", 0);
        if (micros != 0 && (micros < 100 || micros > 100_000)) {
            throw new IllegalArgumentException(
                    "roomlink.dispatchSliceMicros must be 0 or between 100 and 100000, was " + micros);
        }
        return micros;
    }

    /** The start hook of a pool thread that asks for a slice of {@code micros} (0: nothing to ask). */
    static Runnable latencySlice(long micros) {
        if (micros == 0) {
            return () -> { };
        }
        return () -> {
            int rc = NativeApi.rl_thread_set_latency_slice(micros * 1000);
            if (rc != 0) {
                LOG.warn("{}: the kernel kept its default scheduling slice (error {})", Thread.currentThread().getName(), rc);
            }
        };
    }

    private static final class Holder {
        static final DispatchExecutor EXECUTOR = new DispatchExecutor(THREAD_NAME_PREFIX, threads(),
                latencySlice(sliceMicros()));
    }
}
