package io.roomlink.bench.scenario;

import io.roomlink.bench.harness.Bench;
import java.util.function.IntConsumer;
import java.util.function.LongSupplier;

/**
 * Warm-up rounds until a JVM's JIT compilers have (nearly) stopped. On 2 cores a compiler thread
 * busy during a measured round holds one core for milliseconds at a time, which an app or a server
 * node in its steady state never sees; a fixed number of rounds was not enough (C2 was still
 * compiling after three rounds of 10,000 joins).
 */
final class JitWarmUp {
    private JitWarmUp() {
    }

    /**
     * Runs {@code round} (with its index) until one cost the JIT compilers less than {@code settledMillis},
     * but at least {@code minRounds} and at most {@code maxRounds} times. Returns the rounds run.
     *
     * @param jitMillis the compilers' total time so far in the JVM that matters (CompilationMXBean)
     */
    static int run(Bench bench, String what, int minRounds, int maxRounds, long settledMillis, LongSupplier jitMillis,
                   IntConsumer round) {
        long jit = jitMillis.getAsLong();
        for (int i = 0; ; i++) {
            round.accept(i);
            long now = jitMillis.getAsLong();
            bench.log("%s warm-up round %d: JIT compilers busy %d ms", what, i + 1, now - jit);
            boolean settled = now - jit < settledMillis;
            jit = now;
            if (i + 1 >= maxRounds || (i + 1 >= minRounds && settled)) {
                return i + 1;
            }
        }
    }

    /** This JVM's JIT compilers' total time so far. */
    static long localJitMillis() {
        return java.lang.management.ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
    }
}
