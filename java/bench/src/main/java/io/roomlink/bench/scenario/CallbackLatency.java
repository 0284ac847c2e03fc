package io.roomlink.bench.scenario;

import io.roomlink.ErrorCode;
import io.roomlink.RoomEngine;
import io.roomlink.bench.harness.Bench;
import io.roomlink.bench.harness.Local;
import io.roomlink.bench.harness.Probe;
import io.roomlink.bench.report.Metric;
import io.roomlink.bench.report.ProcStats;
import io.roomlink.bench.report.Report;
import io.roomlink.bench.report.Samples;
import io.roomlink.bench.worker.CallbackRecorder;
import io.roomlink.internal.DispatchPool;
import io.roomlink.internal.NativeApi;
import io.roomlink.testkit.TestRoomServer;
import java.util.ArrayList;
import java.util.List;

/**
 * Native event until the Java listener is invoked. A channel of members; a visitor joins and
 * leaves it over and over, so that every member gets onUserJoined and onUserLeave (and the
 * visitor its own state and join/leave callbacks). Twice: with one member (what an app sees), and
 * with twenty members in this JVM, where each visit is a burst of simultaneous events. Latency = the core's emit timestamp (mono_ns)
 * until the dispatch thread calls the listener, via the SDK's internal CallbackTiming hook.
 */
final class CallbackLatency extends Scenario {
    private static final long VISITOR = 1_000_000;
    /** JIT compile time per warm-up chunk below which the JVM counts as warm. */
    private static final long JIT_SETTLED_MS = 50;

    CallbackLatency() {
        super("callback", "callback latency");
    }

    @Override
    public void run(Bench bench) throws InterruptedException {
        // Both timestamps must come from one clock, or the numbers mean nothing.
        long before = System.nanoTime();
        long core = NativeApi.rl_monotonic_ns();
        long after = System.nanoTime();
        check(core >= before && core <= after,
                "the core's clock is not System.nanoTime()'s: " + before + " <= " + core + " <= " + after + " fails");
        config.put("dispatch", "shared pool, roomlink.dispatchThreads=" + Integer.getInteger("roomlink.dispatchThreads", 2));
        // An app's engine: its events come one or two at a time.
        measure(bench, "cb1", 1, bench.size(100, 1500), bench.size(20, 500),
                "callback latency (a member and a visitor)");
        // Many engines in one JVM, all told the same thing at once: a burst queued on the dispatch threads.
        measure(bench, "cb20", 20, bench.size(40, 300), bench.size(10, 100),
                "callback latency, fan-out burst (20 engines in this JVM get each event at once)");
        int handoffs = bench.size(2_000, 20_000);
        long[] machine = ProcStats.machineJiffies();
        Samples floor = HandoffReference.measure(handoffs, 500);
        double steal = ProcStats.machineStealPercent(machine, ProcStats.machineJiffies());
        Metric ref = add(Metric.of(id(), "reference: plain Java thread hand-off (lock-free queue + park/unpark), no roomlink code",
                "µs", floor));
        ref.note(handoffs + " hand-offs 500 µs apart between two plain threads: the floor this machine sets under any "
                + "callback latency; hypervisor steal meanwhile " + Report.fmt(steal) + " % of the cores");
        ref.extra("stealPercent", steal);
        bench.log("hand-off reference: p50 %.1f µs, p99 %.1f µs (steal %.1f %%)", ref.p50, ref.p99, steal);
    }

    private void measure(Bench bench, String channel, int members, int cycles, int warmupChunk, String title) {
        config.put(channel + ".members", members);
        config.put(channel + ".visits", cycles);
        CallbackRecorder recorder = new CallbackRecorder(1 << 20);
        long[] machine = null;
        long jit = 0;
        int warmed = 0;
        try (TestRoomServer rooms = TestRoomServer.start()) {
            List<Local.Member> room = new ArrayList<>();
            try {
                for (int i = 0; i < members; i++) {
                    room.add(Local.startJoin(rooms, null, b -> b, channel, 100 + i));
                }
                room.forEach(Local::awaitJoined);
                for (Local.Member m : room) {
                    m.probe().require(0, e -> m.probe().count(0, x -> x.kind() == Probe.Kind.USER_JOINED) >= members - 1,
                            Local.WAIT, "every other member");
                }
                Probe visitor = new Probe("visitor");
                try (RoomEngine engine = RoomEngine.create(Local.config(rooms.serverSignalPort()).build(), visitor)) {
                    warmed = warmUp(bench, rooms, channel, engine, visitor, warmupChunk);
                    config.put(channel + ".warmupVisits", warmed);
                    int warmVisits = warmed;
                    for (Local.Member m : room) { // the warm-up's last events are in before the measured ones start
                        m.probe().require(0, e -> m.probe().count(0, x -> x.kind() == Probe.Kind.USER_LEFT
                                && x.uid() >= VISITOR) >= warmVisits, Local.WAIT, "the warm-up visits");
                    }
                    int[] base = new int[members];
                    for (int i = 0; i < members; i++) {
                        base[i] = room.get(i).probe().size();
                    }
                    recorder.install();
                    machine = ProcStats.machineJiffies();
                    long jitBefore = JitWarmUp.localJitMillis();
                    visits(rooms, channel, engine, visitor, warmed, cycles);
                    for (int i = 0; i < members; i++) {
                        Probe p = room.get(i).probe();
                        int from = base[i];
                        p.require(from, e -> p.count(from, x -> x.kind() == Probe.Kind.USER_LEFT && x.uid() >= VISITOR) >= cycles,
                                Local.WAIT, cycles + " visits seen");
                        long joins = p.count(from, x -> x.kind() == Probe.Kind.USER_JOINED && x.uid() >= VISITOR);
                        check(joins == cycles, p.name + ": saw " + joins + " visitors join, expected " + cycles
                                + "; first events: " + p.since(from).subList(0, Math.min(6, p.size() - from)));
                    }
                    recorder.uninstall();
                    jit = JitWarmUp.localJitMillis() - jitBefore;
                }
            } finally {
                recorder.uninstall();
                room.forEach(Local.Member::close);
            }
        }
        Samples micros = recorder.micros();
        int expected = 2 * members * cycles;
        check(micros.size() >= expected, "recorded " + micros.size() + " callbacks, expected at least " + expected);
        check(micros.min() >= 0, "a negative latency: the clocks differ");
        double steal = ProcStats.machineStealPercent(machine, ProcStats.machineJiffies());
        double[] crossing = recorder.crossingMicros().sorted();
        Metric m = add(Metric.of(id(), title, "µs", micros).goal("p99 ≤ 200 µs", x -> x.p99 <= 200));
        m.note("core emit (mono_ns) → dispatch thread about to call the listener; in-process server; "
                + DispatchPool.size() + " dispatch threads; " + members + " member(s), " + cycles + " visits after "
                + warmed + " warm-up visits; of which core emit → queued in Java (the JNA crossing, on the loop thread): p50 "
                + Report.fmt(Samples.percentile(crossing, 50)) + " µs, p99 " + Report.fmt(Samples.percentile(crossing, 99))
                + " µs; hypervisor steal during the measured visits " + Report.fmt(steal) + " % of the cores; JIT "
                + "compilers busy " + jit + " ms meanwhile");
        m.extra("stealPercent", steal).extra("crossingP50Micros", Samples.percentile(crossing, 50)).extra("crossingP99Micros", Samples.percentile(crossing, 99));
        bench.log("%s: p50 %.1f µs, p99 %.1f µs over %d callbacks (JNA crossing p99 %.1f µs, JIT %d ms)", title, m.p50,
                m.p99, m.n, Samples.percentile(crossing, 99), jit);
    }

    /** Warm-up visits, {@code chunk} at a time, until this JVM's JIT compilers are done. Returns the visits made. */
    private static int warmUp(Bench bench, TestRoomServer rooms, String channel, RoomEngine engine, Probe visitor,
                              int chunk) {
        int rounds = JitWarmUp.run(bench, channel, 1, bench.size(1, 8), JIT_SETTLED_MS, JitWarmUp::localJitMillis,
                i -> visits(rooms, channel, engine, visitor, i * chunk, chunk));
        return rounds * chunk;
    }

    /** Each visit with a uid of its own, so that a LEAVE still in flight never meets the next JOIN's uid. */
    private static void visits(TestRoomServer rooms, String channel, RoomEngine engine, Probe visitor, int first, int count) {
        for (int i = first; i < first + count; i++) {
            int index = visitor.size();
            long uid = VISITOR + i;
            check(engine.joinChannel(rooms.token(Local.APP_KEY, channel, uid), channel, uid) == ErrorCode.OK, "visitor join");
            Probe.Ev joined = visitor.require(index, e -> e.kind() == Probe.Kind.JOIN, Local.WAIT, "visitor joined");
            check(joined.code() == ErrorCode.OK, "visitor join failed: " + ErrorCode.nameOf(joined.code()));
            int left = visitor.size();
            check(engine.leaveChannel() == ErrorCode.OK, "visitor leave");
            visitor.require(left, e -> e.kind() == Probe.Kind.LEAVE, Local.WAIT, "visitor left");
            Local.sleepMillis(5); // let the members' events drain: measure callbacks, not a backlog
        }
    }
}
