package io.roomlink.bench.worker;

import io.roomlink.bench.report.Samples;
import io.roomlink.internal.CallbackTiming;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Collects callback latencies through the SDK's internal {@link CallbackTiming} hook: the core's
 * emit time (CLOCK_MONOTONIC, carried with the event) until the dispatch thread is about to
 * invoke the listener (System.nanoTime(), the same clock on Linux). Lock-free, fixed capacity.
 */
public final class CallbackRecorder implements CallbackTiming.Observer {
    private final long[] nanos;
    private final long[] crossingNanos;
    private final AtomicInteger next = new AtomicInteger();
    private volatile boolean recording = true;

    public CallbackRecorder(int capacity) {
        this.nanos = new long[capacity];
        this.crossingNanos = new long[capacity];
    }

    @Override
    public void beforeListener(int eventType, long monoNs, long queuedNanos, long invokedNanos) {
        if (!recording) {
            return;
        }
        int i = next.getAndIncrement();
        if (i < nanos.length) {
            nanos[i] = invokedNanos - monoNs;
            crossingNanos[i] = queuedNanos - monoNs;
        }
    }

    public void install() {
        CallbackTiming.setObserver(this);
    }

    public void uninstall() {
        CallbackTiming.setObserver(null);
    }

    void reset() {
        recording = false;
        next.set(0);
        recording = true;
    }

    /** The latencies so far, in microseconds. */
    public Samples micros() {
        return micros(nanos);
    }

    /** The first part of each latency, in microseconds: core emit until queued in Java (the JNA crossing). */
    public Samples crossingMicros() {
        return micros(crossingNanos);
    }

    private Samples micros(long[] from) {
        Samples s = new Samples();
        int n = Math.min(next.get(), from.length);
        for (int i = 0; i < n; i++) {
            s.add(from[i] / 1e3);
        }
        return s;
    }

    /** Events seen, including any beyond the capacity. */
    int seen() {
        return next.get();
    }
}
