package io.roomlink.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class DispatchExecutorTest {
    @Test
    void everyTaskRunsOnAPoolThreadWhenManyThreadsSubmitInBursts() throws Exception {
        DispatchExecutor executor = new DispatchExecutor("test-dispatch-", 2);
        int producers = 4;
        int bursts = 2_000;
        int perBurst = 5;
        int total = producers * bursts * perBurst;
        CountDownLatch done = new CountDownLatch(total);
        Set<String> threads = ConcurrentHashMap.newKeySet();
        List<Thread> started = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            Thread t = new Thread(() -> {
                for (int b = 0; b < bursts; b++) {
                    for (int i = 0; i < perBurst; i++) {
                        executor.execute(() -> {
                            threads.add(Thread.currentThread().getName());
                            done.countDown();
                        });
                    }
                    if (b % 100 == 0) {
                        Thread.yield(); // let the pool drain and park now and then: parking is what can lose a wake-up
                    }
                }
            });
            t.start();
            started.add(t);
        }
        for (Thread t : started) {
            t.join(TimeUnit.SECONDS.toMillis(30));
        }
        assertTrue(done.await(30, TimeUnit.SECONDS), "tasks still not run: " + done.getCount() + " of " + total);
        assertTrue(threads.stream().allMatch(n -> n.startsWith("test-dispatch-")), "ran on " + threads);
    }

    @Test
    void aTaskSubmittedAfterThePoolWentIdleStillRuns() throws Exception {
        DispatchExecutor executor = new DispatchExecutor("test-idle-", 1);
        AtomicInteger ran = new AtomicInteger();
        for (int i = 0; i < 200; i++) {
            CountDownLatch one = new CountDownLatch(1);
            executor.execute(() -> {
                ran.incrementAndGet();
                one.countDown();
            });
            assertTrue(one.await(10, TimeUnit.SECONDS), "task " + i + " never ran");
        }
        assertEquals(200, ran.get());
    }

    @Test
    void aThrowingTaskDoesNotKillItsThread() throws Exception {
        DispatchExecutor executor = new DispatchExecutor("test-throw-", 1);
        executor.execute(() -> {
            throw new IllegalStateException("expected by the test");
        });
        CountDownLatch after = new CountDownLatch(1);
        executor.execute(after::countDown);
        assertTrue(after.await(10, TimeUnit.SECONDS), "the pool's only thread died with the throwing task");
    }

    @Test
    void theStartHookRunsOnEachPoolThreadBeforeItsFirstTaskAndMayThrow() throws Exception {
        Set<String> started = ConcurrentHashMap.newKeySet();
        DispatchExecutor executor = new DispatchExecutor("test-start-", 2, () -> {
            started.add(Thread.currentThread().getName());
            throw new IllegalStateException("expected by the test: a failing hook leaves the thread serving");
        });
        CountDownLatch ran = new CountDownLatch(20);
        Set<String> beforeHook = ConcurrentHashMap.newKeySet();
        for (int i = 0; i < 20; i++) {
            executor.execute(() -> {
                String name = Thread.currentThread().getName();
                if (!started.contains(name)) {
                    beforeHook.add(name);
                }
                ran.countDown();
            });
        }
        assertTrue(ran.await(10, TimeUnit.SECONDS), "tasks did not run after a throwing start hook");
        assertEquals(Set.of(), beforeHook, "threads that ran a task before their start hook");
    }
}
