package io.roomlink.bench.scenario;

import io.roomlink.bench.harness.CheckFailed;
import io.roomlink.bench.report.Samples;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * The floor under callback latency on this machine: one plain Java thread hands timestamps to
 * another through a lock-free queue and park/unpark (what the SDK's dispatch pool does), with no
 * roomlink code, no JNA and no server. Events are spaced like callbacks are, so the receiver
 * parks between them and every hand-off includes a wake-up.
 */
final class HandoffReference {
    private HandoffReference() {
    }

    /** {@code count} hand-offs, {@code gapMicros} apart; latencies in microseconds. */
    static Samples measure(int count, long gapMicros) throws InterruptedException {
        ConcurrentLinkedQueue<Long> queue = new ConcurrentLinkedQueue<>();
        long[] latencies = new long[count];
        Thread receiver = new Thread(() -> {
            int received = 0;
            while (received < count) {
                Long sent = queue.poll();
                if (sent == null) {
                    LockSupport.park();
                    continue;
                }
                latencies[received++] = System.nanoTime() - sent;
            }
        }, "handoff-receiver");
        receiver.setDaemon(true);
        receiver.start();
        for (int i = 0; i < count; i++) {
            queue.offer(System.nanoTime());
            LockSupport.unpark(receiver);
            LockSupport.parkNanos(gapMicros * 1_000);
        }
        receiver.join(60_000);
        CheckFailed.check(!receiver.isAlive(), "the hand-off receiver did not get all " + count + " timestamps");
        Samples s = new Samples();
        for (long l : latencies) {
            s.add(l / 1e3);
        }
        return s;
    }
}
