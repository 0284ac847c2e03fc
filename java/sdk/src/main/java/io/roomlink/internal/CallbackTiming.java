package io.roomlink.internal;

/**
 * Internal latency probe for benchmarks (java/bench): when an {@link Observer} is installed, every
 * callback's dispatch task first reports when the core emitted the event and when the listener is
 * about to run. Not public API; unused by default. With no observer (the default) the only cost is
 * one volatile read per native event, when it is queued.
 *
 * <p>All times are CLOCK_MONOTONIC nanoseconds: {@code monoNs} from the core's event
 * ({@code rl_event_fn}'s {@code mono_ns}), the others from {@link System#nanoTime()},
 * which reads the same clock on Linux.
 */
public final class CallbackTiming {
    /**
     * Receives one call per callback, on the dispatch thread, just before the listener runs. Must be
     * cheap. {@code queuedNanos} is when the native loop thread, back in Java, queued the callback:
     * it splits the latency into the JNA crossing and the hand-off to a dispatch thread.
     */
    @FunctionalInterface
    public interface Observer {
        void beforeListener(int eventType, long monoNs, long queuedNanos, long invokedNanos);
    }

    private static volatile Observer observer;

    private CallbackTiming() {
    }

    /** Installs {@code o} (null removes it). Affects events queued from now on. */
    public static void setObserver(Observer o) {
        observer = o;
    }

    /**
     * {@code callback} as is when no observer is installed, else wrapped to report its timing first.
     * Called by {@code RoomEngine} on the native loop thread when it queues a callback.
     */
    public static Runnable timed(int eventType, long monoNs, Runnable callback) {
        Observer o = observer;
        if (o == null) {
            return callback;
        }
        long queuedNanos = System.nanoTime();
        return () -> {
            o.beforeListener(eventType, monoNs, queuedNanos, System.nanoTime());
            callback.run();
        };
    }
}
