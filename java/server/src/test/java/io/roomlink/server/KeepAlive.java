package io.roomlink.server;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** A test client's background keepalive: one send per period until {@link #stop()} or a send fails. */
final class KeepAlive {
    /** Sends keepalive number {@code n} (1, 2, …). */
    interface Send {
        void send(long n) throws IOException;
    }

    private final String what;
    private volatile ScheduledFuture<?> task;

    KeepAlive(String what) {
        this.what = what;
    }

    /** Starts sending (replacing a running keepalive). */
    void start(ScheduledExecutorService scheduler, Duration period, Send send) {
        stop();
        AtomicLong n = new AtomicLong();
        task = scheduler.scheduleAtFixedRate(() -> {
            try {
                send.send(n.incrementAndGet());
            } catch (IOException e) {
                throw new IllegalStateException(what + " stopped: " + e); // ends the periodic task
            }
        }, 0, period.toNanos(), TimeUnit.NANOSECONDS);
    }

    void stop() {
        ScheduledFuture<?> f = task;
        if (f != null) {
            f.cancel(false);
        }
    }
}
