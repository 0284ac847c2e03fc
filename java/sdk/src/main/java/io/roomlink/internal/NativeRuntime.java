package io.roomlink.internal;

/**
 * Process-wide native setup, done once before the first engine: the log bridge and the size of
 * the shared native loop pool (system property {@code roomlink.loopThreads}, default 2).
 */
public final class NativeRuntime {
    private static boolean initialized;

    private NativeRuntime() {
    }

    public static synchronized void ensureInitialized() {
        if (initialized) {
            return;
        }
        NativeLogBridge.install();
        int threads = Integer.getInteger("roomlink.loopThreads", 2);
        int rc = NativeApi.rl_runtime_set_loop_threads(threads);
        if (rc != 0) {
            throw new IllegalArgumentException("roomlink.loopThreads must be between 1 and 16, was " + threads);
        }
        initialized = true;
    }

    /** Native loop threads running now. */
    public static int loopThreads() {
        return NativeApi.rl_runtime_loop_threads();
    }

    public static String nativeVersion() {
        return NativeApi.rl_version();
    }
}
