package io.roomlink.bench.worker;

import io.roomlink.ConnectionState;
import io.roomlink.ConnectionStateChangeReason;
import io.roomlink.ErrorCode;
import io.roomlink.RoomEngine;
import io.roomlink.RoomEngineConfig;
import io.roomlink.RoomEngineListener;
import io.roomlink.bench.report.ProcStats;
import io.roomlink.bench.report.Samples;
import io.roomlink.internal.DispatchPool;
import io.roomlink.internal.NativeRuntime;
import io.roomlink.server.TokenBuilder;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.LockSupport;

/**
 * A client JVM hosting many engines for the multi-JVM scenarios, driven one command per stdin
 * line; each command gets one {@code @ok key=value ...} (or {@code @err ...}) line on stdout.
 * Timestamps are System.nanoTime() taken in the engines' own callbacks (CLOCK_MONOTONIC, so the
 * harness can compare them with its own and other JVMs').
 *
 * <pre>
 * init [cb]                          load the SDK (and time callbacks with CallbackTiming if "cb")
 * create N FIRST_UID HOST PORT [knob=ms ...]   N engines, uids FIRST_UID.., knobs: joinTimeout,
 *                                    signalKeepalive, signalTimeout, mediaKeepalive, mediaTimeout, reconnectTimeout
 * join PER_CHANNEL PREFIX SECRET TIMEOUT_MS [WINDOW]   join every engine not joined yet (channel PREFIX +
 *                                    uid/PER_CHANNEL) as fast as possible, with at most WINDOW joins in flight if
 *                                    given; answers when all have a result or at the timeout
 * mark                               forget outages and rejoins seen so far
 * status [core]                      engines per state (and per the core's own state with "core"), outages since
 *                                    mark, and how often each (state, reason) of trouble and onDisconnect code came
 * rejoins                            per engine: first RECONNECTING and first (CONNECTED, REJOIN_SUCCEED) since mark
 * sample [gc]                        threads, RSS, heap (after a GC with "gc")
 * cbstats                            callback latency percentiles (µs) since init
 * clock                              System.nanoTime()
 * closeall | exit
 * </pre>
 */
final class ClientWorker {
    private static final int PENDING = Integer.MIN_VALUE;
    private static final String APP_KEY = "bench";
    private static final List<Slot> SLOTS = new ArrayList<>();
    private static CallbackRecorder recorder;
    /** How often each (state, reason) of trouble and each onDisconnect code was seen, since the last "mark". */
    private static final java.util.concurrent.ConcurrentHashMap<String, Integer> REASONS =
            new java.util.concurrent.ConcurrentHashMap<>();
    /** Joins allowed in flight at once during a "join" with a window; null = no limit. */
    private static volatile Semaphore inFlight;

    private ClientWorker() {
    }

    /** One engine's listener: its state and the times of what happened to it, written by its callbacks. */
    static final class Slot implements RoomEngineListener {
        final long uid;
        RoomEngine engine;
        boolean joinIssued;
        volatile ConnectionState state = ConnectionState.DISCONNECTED;
        volatile long joinCallNs;
        volatile long joinDoneNs;
        volatile int joinResult = PENDING;
        volatile long downNs;
        volatile long backNs;
        volatile int outages;
        volatile int failures;

        Slot(long uid) {
            this.uid = uid;
        }

        @Override
        public void onConnectionStateChanged(ConnectionState s, ConnectionStateChangeReason reason) {
            long now = System.nanoTime();
            state = s;
            if (s == ConnectionState.RECONNECTING) {
                outages++;
                if (downNs == 0) {
                    downNs = now;
                }
            } else if (s == ConnectionState.CONNECTED && reason == ConnectionStateChangeReason.REJOIN_SUCCEED) {
                if (backNs == 0) {
                    backNs = now;
                }
            } else if (s == ConnectionState.FAILED) {
                failures++;
            }
            if (s == ConnectionState.FAILED || s == ConnectionState.RECONNECTING || s == ConnectionState.DISCONNECTED) {
                REASONS.merge(s + "/" + reason, 1, Integer::sum);
            }
        }

        @Override
        public void onDisconnect(int reason) {
            REASONS.merge("onDisconnect/" + ErrorCode.nameOf(reason), 1, Integer::sum);
        }

        @Override
        public void onJoinChannel(int result, long channelId, long elapsedMs, long uid) {
            joinDoneNs = System.nanoTime();
            joinResult = result;
            Semaphore window = inFlight;
            if (window != null) {
                window.release();
            }
        }

        void mark() {
            downNs = 0;
            backNs = 0;
            outages = 0;
            failures = 0;
        }
    }

    public static void main(String[] args) throws IOException {
        CommandLoop.serve(ClientWorker::handle);
        System.exit(0); // engines are not closed: the process ends, as an app that is killed would
    }

    private static String handle(String[] a) {
        return switch (a[0]) {
            case "init" -> init(a.length > 1 && a[1].equals("cb"));
            case "create" -> create(a);
            case "join" -> join(Integer.parseInt(a[1]), a[2], a[3], Long.parseLong(a[4]),
                    a.length > 5 ? Integer.parseInt(a[5]) : 0);
            case "mark" -> {
                SLOTS.forEach(Slot::mark);
                REASONS.clear();
                yield "engines=" + SLOTS.size();
            }
            case "status" -> status(a.length > 1 && a[1].equals("core"));
            case "rejoins" -> rejoins();
            case "sample" -> sample(a.length > 1 && a[1].equals("gc"));
            case "cbstats" -> cbstats();
            case "clock" -> "ns=" + System.nanoTime();
            case "closeall" -> {
                SLOTS.forEach(s -> s.engine.close());
                int n = SLOTS.size();
                SLOTS.clear();
                yield "closed=" + n;
            }
            default -> throw new IllegalArgumentException("unknown command " + a[0]);
        };
    }

    private static String init(boolean timeCallbacks) {
        NativeRuntime.ensureInitialized();
        DispatchPool.shared();
        if (timeCallbacks) {
            recorder = new CallbackRecorder(1 << 21);
            recorder.install();
        }
        // One engine created and closed: the library, its loop threads and the dispatch pool are up.
        RoomEngine.create(RoomEngineConfig.builder().appKey(APP_KEY).server("127.0.0.1", 9).build(),
                new RoomEngineListener() { }).close();
        return "loopThreads=" + NativeRuntime.loopThreads() + " dispatchThreads=" + DispatchPool.size();
    }

    private static String create(String[] a) {
        int n = Integer.parseInt(a[1]);
        long firstUid = Long.parseLong(a[2]);
        // The worker server is plaintext (its wire clients speak the bare protocol; see ServerWorker).
        RoomEngineConfig.Builder b = RoomEngineConfig.builder().appKey(APP_KEY).server(a[3], Integer.parseInt(a[4]))
                .plaintext(true);
        for (int i = 5; i < a.length; i++) {
            String[] kv = a[i].split("=");
            Duration d = Duration.ofMillis(Long.parseLong(kv[1]));
            switch (kv[0]) {
                case "joinTimeout" -> b.joinTimeout(d);
                case "signalKeepalive" -> b.signalKeepaliveInterval(d);
                case "signalTimeout" -> b.signalTimeout(d);
                case "mediaKeepalive" -> b.mediaKeepaliveInterval(d);
                case "mediaTimeout" -> b.mediaTimeout(d);
                case "reconnectTimeout" -> b.reconnectTimeout(d);
                default -> throw new IllegalArgumentException("unknown knob " + kv[0]);
            }
        }
        RoomEngineConfig config = b.build();
        for (int i = 0; i < n; i++) {
            Slot s = new Slot(firstUid + i);
            s.engine = RoomEngine.create(config, s);
            SLOTS.add(s);
        }
        return "engines=" + SLOTS.size();
    }

    private static String join(int perChannel, String prefix, String secret, long timeoutMs, int window) {
        List<Slot> batch = new ArrayList<>();
        List<String> tokens = new ArrayList<>();
        List<String> channels = new ArrayList<>();
        Instant expiry = Instant.now().plusSeconds(3600);
        for (Slot s : SLOTS) {
            if (!s.joinIssued) {
                String channel = prefix + (s.uid / perChannel);
                batch.add(s);
                channels.add(channel);
                tokens.add(TokenBuilder.build(secret, APP_KEY, channel, s.uid, expiry)); // the app backend's work: not timed
            }
        }
        Semaphore limit = window > 0 ? new Semaphore(window) : null;
        inFlight = limit;
        long first = System.nanoTime();
        long deadline = first + timeoutMs * 1_000_000L;
        int rejected = 0;
        for (int i = 0; i < batch.size(); i++) {
            Slot s = batch.get(i);
            if (limit != null) {
                try {
                    if (!limit.tryAcquire(Math.max(0, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS)) {
                        break; // out of time: the rest are never issued (counted as pending)
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            s.joinIssued = true;
            s.joinCallNs = System.nanoTime();
            if (s.engine.joinChannel(tokens.get(i), channels.get(i), s.uid) != ErrorCode.OK) {
                rejected++;
                s.joinResult = ErrorCode.INVALID_ARGUMENT;
                if (limit != null) {
                    limit.release();
                }
            }
        }
        long lastCall = System.nanoTime();
        int pending;
        do {
            pending = 0;
            for (Slot s : batch) {
                if (s.joinResult == PENDING) {
                    pending++;
                }
            }
            if (pending > 0) {
                LockSupport.parkNanos(5_000_000);
            }
        } while (pending > 0 && System.nanoTime() < deadline);
        inFlight = null;
        JoinTally tally = new JoinTally();
        for (Slot s : batch) {
            int r = s.joinResult;
            if (r == PENDING) {
                continue;
            }
            if (r == ErrorCode.OK) {
                tally.joined(s.joinCallNs, s.joinDoneNs);
            } else {
                tally.failed(ErrorCode.nameOf(r));
            }
        }
        return "ok=" + tally.ok + " failed=" + tally.failed + " pending=" + pending + " rejected=" + rejected
                + " why=" + tally.why() + " firstCallNs=" + first
                + " lastCallNs=" + lastCall + " lastDoneNs=" + tally.lastDoneNs + " latUs=" + tally.latencyMicros();
    }

    private static String status(boolean core) {
        int[] byState = new int[6];
        int[] byCore = new int[6];
        int down = 0;
        int back = 0;
        long outages = 0;
        long failures = 0;
        for (Slot s : SLOTS) {
            byState[s.state.code()]++;
            if (core) {
                byCore[s.engine.getConnectionState().code()]++;
            }
            if (s.downNs != 0) {
                down++;
            }
            if (s.backNs != 0) {
                back++;
            }
            outages += s.outages;
            failures += s.failures;
        }
        String r = "engines=" + SLOTS.size() + " connected=" + byState[3] + " connecting=" + byState[2] + " reconnecting="
                + byState[4] + " failed=" + byState[5] + " disconnected=" + byState[1] + " wentDown=" + down
                + " cameBack=" + back + " outages=" + outages + " failures=" + failures;
        StringJoiner why = new StringJoiner(",");
        new TreeMap<>(REASONS).forEach((k, v) -> why.add(k + ":" + v));
        r += " reasons=" + why;
        if (core) {
            r += " coreConnected=" + byCore[3] + " coreReconnecting=" + byCore[4] + " coreFailed=" + byCore[5];
        }
        return r;
    }

    private static String rejoins() {
        StringJoiner down = new StringJoiner(",");
        StringJoiner back = new StringJoiner(",");
        for (Slot s : SLOTS) {
            down.add(Long.toString(s.downNs));
            back.add(Long.toString(s.backNs));
        }
        return "engines=" + SLOTS.size() + " downNs=" + down + " backNs=" + back;
    }

    private static String sample(boolean gc) {
        if (gc) {
            System.gc();
        }
        long pid = ProcessHandle.current().pid();
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        MemoryUsage nonHeap = ManagementFactory.getMemoryMXBean().getNonHeapMemoryUsage();
        return "engines=" + SLOTS.size() + " threads=" + ProcStats.threads(pid)
                + " loopThreads=" + ProcStats.threadsNamed(pid, "roomlink-loop")
                + " dispatchThreads=" + ProcStats.threadsNamed(pid, "roomlink-dispat")
                + " rssKb=" + ProcStats.rssKb(pid) + " heapUsed=" + heap.getUsed() + " heapCommitted=" + heap.getCommitted()
                + " nonHeapCommitted=" + nonHeap.getCommitted() + " fds=" + ProcStats.openFds(pid);
    }

    private static String cbstats() {
        if (recorder == null) {
            return "n=0";
        }
        Samples s = recorder.micros();
        double[] sorted = s.sorted();
        return "n=" + s.size() + " p50=" + Samples.percentile(sorted, 50) + " p95=" + Samples.percentile(sorted, 95)
                + " p99=" + Samples.percentile(sorted, 99) + " max=" + (sorted.length == 0 ? "NaN" : sorted[sorted.length - 1]);
    }
}
