package io.roomlink.bench;

import io.roomlink.ErrorCode;
import io.roomlink.RoomEngine;
import io.roomlink.internal.NativeApi;
import io.roomlink.testkit.TestRoomServer;
import java.util.ArrayList;
import java.util.List;

/**
 * Native event until the Java listener is invoked. A channel of members; a visitor joins and
 * leaves it over and over, so that every member gets onUserJoined and onUserLeave (and the
 * visitor its own state and join/leave callbacks). Latency = the core's emit timestamp (mono_ns)
 * until the dispatch thread calls the listener, via the SDK's internal CallbackTiming hook.
 */
final class CallbackLatency extends Scenario {
    private static final long VISITOR = 1_000_000;
    @Override
    String id() {
        return "callback";
    }

    @Override
    String title() {
        return "callback latency";
    }

    @Override
    void run(Bench bench) {
        int members = bench.size(10, 20);
        int cycles = bench.size(40, 300);
        int warmup = bench.size(10, 50);
        config.put("members", members);
        config.put("visits", cycles);
        config.put("warmupVisits", warmup);
        config.put("dispatch", "shared pool, roomlink.dispatchThreads=" + Integer.getInteger("roomlink.dispatchThreads", 2));

        // Both timestamps must come from one clock, or the numbers mean nothing.
        long before = System.nanoTime();
        long core = NativeApi.rl_monotonic_ns();
        long after = System.nanoTime();
        check(core >= before && core <= after,
                "the core's clock is not System.nanoTime()'s: " + before + " <= " + core + " <= " + after + " fails");

        CallbackRecorder recorder = new CallbackRecorder(1 << 20);
        try (TestRoomServer rooms = TestRoomServer.start()) {
            List<Local.Member> room = new ArrayList<>();
            try {
                for (int i = 0; i < members; i++) {
                    room.add(Local.startJoin(rooms, null, b -> b, "cb", 100 + i));
                }
                room.forEach(Local::awaitJoined);
                for (Local.Member m : room) {
                    m.probe().require(0, e -> m.probe().count(0, x -> x.kind() == Probe.Kind.USER_JOINED) >= members - 1,
                            Local.WAIT, "every other member");
                }
                Probe visitor = new Probe("visitor");
                try (RoomEngine engine = RoomEngine.create(Local.config(rooms.serverSignalPort()).build(), visitor)) {
                    visits(rooms, engine, visitor, 0, warmup);
                    for (Local.Member m : room) { // the warm-up's last events are in before the measured ones start
                        m.probe().require(0, e -> m.probe().count(0, x -> x.kind() == Probe.Kind.USER_LEFT
                                && x.uid() >= VISITOR) >= warmup, Local.WAIT, "the warm-up visits");
                    }
                    int[] base = new int[members];
                    for (int i = 0; i < members; i++) {
                        base[i] = room.get(i).probe().size();
                    }
                    recorder.install();
                    visits(rooms, engine, visitor, warmup, cycles);
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
        Metric m = add(Metric.of(id(), "callback latency (" + members + " members, visitor joins/leaves)", "µs", micros)
                .goal("p99 ≤ 200 µs", x -> x.p99 <= 200));
        m.note("core emit (mono_ns) → dispatch thread about to call the listener; in-process server; "
                + Integer.getInteger("roomlink.dispatchThreads", 2) + " dispatch threads");
        bench.log("callback latency: p50 %.1f µs, p99 %.1f µs over %d callbacks", m.p50, m.p99, m.n);
    }

    /** Each visit with a uid of its own, so that a LEAVE still in flight never meets the next JOIN's uid. */
    private static void visits(TestRoomServer rooms, RoomEngine engine, Probe visitor, int first, int count) {
        for (int i = first; i < first + count; i++) {
            int index = visitor.size();
            long uid = VISITOR + i;
            check(engine.joinChannel(rooms.token(Local.APP_KEY, "cb", uid), "cb", uid) == ErrorCode.OK, "visitor join");
            Probe.Ev joined = visitor.require(index, e -> e.kind() == Probe.Kind.JOIN, Local.WAIT, "visitor joined");
            check(joined.code() == ErrorCode.OK, "visitor join failed: " + ErrorCode.nameOf(joined.code()));
            int left = visitor.size();
            check(engine.leaveChannel() == ErrorCode.OK, "visitor leave");
            visitor.require(left, e -> e.kind() == Probe.Kind.LEAVE, Local.WAIT, "visitor left");
            Local.sleepMillis(5); // let the members' events drain: measure callbacks, not a backlog
        }
    }
}
