package io.roomlink.server;

import java.time.Duration;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.fail;

/** Waiting on conditions with deadlines (never a bare sleep). */
final class Await {
    private Await() {
    }

    static void until(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() >= deadline) {
                fail("timed out after " + timeout + " waiting for " + what);
            }
            Thread.sleep(5); // poll interval, not synchronisation
        }
    }
}
