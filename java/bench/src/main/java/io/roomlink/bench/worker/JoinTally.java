package io.roomlink.bench.worker;

import java.util.StringJoiner;
import java.util.TreeMap;

/**
 * One batch of joins as the join-throughput workers report it: the joins that succeeded (their
 * latencies, the instant of the last) and the failures, counted by reason.
 */
final class JoinTally {
    int ok;
    int failed;
    long lastDoneNs;
    private final StringJoiner latencies = new StringJoiner(",");
    private final TreeMap<String, Integer> failures = new TreeMap<>();

    void joined(long callNs, long doneNs) {
        ok++;
        lastDoneNs = Math.max(lastDoneNs, doneNs);
        latencies.add(Long.toString((doneNs - callNs) / 1000));
    }

    void failed(String reason) {
        failed++;
        failures.merge(reason, 1, Integer::sum);
    }

    /** {@code reason:count,…}, in the order of the reasons. */
    String why() {
        StringJoiner why = new StringJoiner(",");
        failures.forEach((k, v) -> why.add(k + ":" + v));
        return why.toString();
    }

    /** The successful joins' latencies in µs, comma-separated; empty if none succeeded. */
    String latencyMicros() {
        return ok == 0 ? "" : latencies.toString();
    }
}
