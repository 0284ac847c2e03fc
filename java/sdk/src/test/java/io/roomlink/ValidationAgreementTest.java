package io.roomlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import io.roomlink.internal.NativeApi;
import io.roomlink.internal.NativeRuntime;
import io.roomlink.internal.Utf8;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.LongFunction;
import java.util.function.ObjIntConsumer;
import java.util.function.ObjLongConsumer;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The native core's rules are the source of truth (native/src/options.cpp); the builder checks
 * early. Every edge of every documented range (README, "Configuration") goes through both: the
 * builder, and raw structs straight into rl_engine_create. They must accept and refuse the same
 * values, and each must name the field it refuses.
 */
class ValidationAgreementTest {
    private static final NativeApi.EventCallback IGNORE = (user, type, a, b, x, y, z, monoNs) -> { };
    private static final int PORT = 9; // discard: nothing listens, and nothing here connects

    /** One option: its documented range and how each side sets it. */
    private record Option(String javaName, String cName, long min, long max,
            LongFunction<RoomEngineConfig.Builder> java, ObjLongConsumer<NativeApi.EngineOptions> c) {
    }

    @BeforeAll
    static void loadNativeCore() {
        NativeRuntime.ensureInitialized();
    }

    /** A switch, not a range: the builder takes a boolean, the core 0 or 1 and names anything else. */
    @Test
    void theNetworkWatcherSwitchIsZeroOrOne() {
        for (int value : new int[] {0, 1}) {
            assertEquals(null, cRefusal(o -> o.network_watcher_off = value), "network_watcher_off = " + value);
        }
        for (int value : new int[] {-1, 2}) {
            String refusal = cRefusal(o -> o.network_watcher_off = value);
            assertTrue(refusal != null && refusal.startsWith("network_watcher_off: "), "network_watcher_off = " + value + ": " + refusal);
        }
        for (boolean enabled : new boolean[] {true, false}) {
            RoomEngineConfig config = Fixtures.config(PORT).networkWatcher(enabled).build();
            assertEquals(enabled, config.networkWatcher());
            RoomEngine.create(config, new RecordingListener()).close();
        }
    }

    @Test
    void everyRangeEdgeIsJudgedAlikeByTheBuilderAndTheCore() {
        List<String> disagreements = new ArrayList<>();
        for (Option option : options()) {
            for (long value : new long[] {option.min - 1, option.min, option.max, option.max + 1}) {
                boolean inRange = value >= option.min && value <= option.max;
                String what = option.javaName + "/" + option.cName + " = " + value;
                String javaRefusal = javaRefusal(() -> option.java.apply(value).build());
                String cRefusal = cRefusal(o -> option.c.accept(o, value));
                if ((javaRefusal == null) != inRange || (cRefusal == null) != inRange) {
                    disagreements.add(what + ": in range " + inRange + ", builder: " + javaRefusal + ", core: " + cRefusal);
                    continue;
                }
                if (inRange) {
                    // What the builder lets through, the SDK's own conversion passes to the core.
                    RoomEngine.create(option.java.apply(value).build(), new RecordingListener()).close();
                } else {
                    assertNames(what, javaRefusal, option.javaName, cRefusal, option.cName);
                }
            }
        }
        assertEquals(List.of(), disagreements);
    }

    @Test
    void maxPeersIsJudgedAlikeAndZeroIsTheCoresDefault() {
        for (long value : new long[] {-1, 1, 1_000_000, 1_000_001}) {
            boolean inRange = value >= 1 && value <= 1_000_000;
            String what = "maxPeers/max_peers = " + value;
            String javaRefusal = javaRefusal(() -> Fixtures.config(PORT).maxPeers((int) value).build());
            String cRefusal = cRefusal(o -> o.max_peers = (int) value);
            assertEquals(inRange, javaRefusal == null, what + ": builder says " + javaRefusal);
            assertEquals(inRange, cRefusal == null, what + ": core says " + cRefusal);
            if (!inRange) {
                assertNames(what, javaRefusal, "maxPeers", cRefusal, "max_peers");
            }
        }
        assertEquals(null, cRefusal(o -> o.max_peers = 0), "0 selects the default, as for every field");
        assertEquals(10_000, Fixtures.config(PORT).build().maxPeers());
    }

    @Test
    void messageQueueLimitIsJudgedAlikeAndZeroIsTheCoresDefault() {
        for (long value : new long[] {-1, 16_383, 16_384, 1_073_741_824, 1_073_741_825L}) {
            boolean inRange = value >= 16_384 && value <= 1_073_741_824;
            String what = "messageQueueLimit/message_queue_limit = " + value;
            String javaRefusal = javaRefusal(() -> Fixtures.config(PORT).messageQueueLimit((int) value).build());
            String cRefusal = cRefusal(o -> o.message_queue_limit = (int) value);
            assertEquals(inRange, javaRefusal == null, what + ": builder says " + javaRefusal);
            assertEquals(inRange, cRefusal == null, what + ": core says " + cRefusal);
            if (!inRange) {
                assertNames(what, javaRefusal, "messageQueueLimit", cRefusal, "message_queue_limit");
            }
        }
        assertEquals(null, cRefusal(o -> o.message_queue_limit = 0), "0 selects the default, as for every field");
        assertEquals(1 << 20, Fixtures.config(PORT).build().messageQueueLimit());
    }

    @Test
    void timeoutsOfAtLeastOneAndAHalfIntervalsAreJudgedAlike() {
        long[][] edges = {{1000, 1500}, {1000, 1499}, {1001, 1500}, {101, 152}, {101, 151}, {10_000, 15_000},
                {10_000, 14_999}, {66, 100}, {67, 100}};
        for (long[] edge : edges) {
            long interval = edge[0];
            long timeout = edge[1];
            boolean ok = timeout * 2 >= interval * 3;
            String what = "interval " + interval + " ms, timeout " + timeout + " ms";

            String javaSignal = javaRefusal(() -> Fixtures.config(PORT).signalKeepaliveInterval(ms(interval))
                    .signalTimeout(ms(timeout)).build());
            String cSignal = cRefusal(o -> {
                o.signal_keepalive_ms = (int) interval;
                o.signal_timeout_ms = (int) timeout;
            });
            String javaMedia = javaRefusal(() -> Fixtures.config(PORT).mediaKeepaliveInterval(ms(interval))
                    .mediaTimeout(ms(timeout)).build());
            String cMedia = cRefusal(o -> {
                o.media_keepalive_ms = (int) interval;
                o.media_timeout_ms = (int) timeout;
            });
            assertEquals(ok, javaSignal == null, what + ": builder says " + javaSignal);
            assertEquals(ok, cSignal == null, what + ": core says " + cSignal);
            assertEquals(ok, javaMedia == null, what + ": builder says " + javaMedia);
            assertEquals(ok, cMedia == null, what + ": core says " + cMedia);
            if (!ok) {
                assertNames(what, javaSignal, "signalTimeout", cSignal, "signal_timeout_ms");
                assertNames(what, javaMedia, "mediaTimeout", cMedia, "media_timeout_ms");
            }
        }
    }

    @Test
    void joinLimitsAreJudgedAlikeBySdkAndCore() {
        record Join(String token, String channel, long uid, String javaName, String cName) {
        }
        List<Join> joins = List.of(
                new Join("t", "", 1, "channelName", "channel"),
                new Join("t", "c", 1, null, null),
                new Join("t", "c".repeat(64), 1, null, null),
                new Join("t", "c".repeat(65), 1, "channelName", "channel"),
                new Join("t", "房".repeat(21) + "c", 1, null, null), // 64 bytes of UTF-8
                new Join("t", "房".repeat(21) + "cc", 1, "channelName", "channel"),
                new Join("", "c", 1, null, null),
                new Join(null, "c", 1, null, null),
                new Join("t".repeat(1024), "c", 1, null, null),
                new Join("t".repeat(1025), "c", 1, "token", "token"),
                new Join("t", "c", 0, null, null),
                new Join("t", "c", -1, "uid", "uid"));
        RecordingListener listener = new RecordingListener();
        Pointer native_ = createNative();
        try (RoomEngine engine = RoomEngine.create(Fixtures.config(PORT).build(), listener)) {
            for (Join join : joins) {
                String what = "join(" + abbreviate(join.token) + ", " + abbreviate(join.channel) + ", " + join.uid + ")";
                int expected = join.cName == null ? ErrorCode.OK : ErrorCode.INVALID_ARGUMENT;
                assertEquals(expected, engine.joinChannel(join.token, join.channel, join.uid), what + " in the SDK");
                byte[] token = join.token == null ? null : Utf8.cString(join.token);
                int rc = NativeApi.rl_engine_join(native_, token, Utf8.cString(join.channel), join.uid);
                String message = Utf8.fromC(NativeApi.rl_last_error_message());
                assertEquals(expected, rc, what + " in the core: " + message);
                if (expected == ErrorCode.OK) {
                    assertEquals("", message, what);
                    assertEquals(ErrorCode.OK, engine.leaveChannel(), what);
                    assertEquals(ErrorCode.OK, NativeApi.rl_engine_leave(native_), what);
                } else {
                    assertTrue(message.startsWith(join.cName + ": "), what + ": core says " + message);
                }
            }
        } finally {
            NativeApi.rl_engine_destroy(native_);
        }
    }

    private static List<Option> options() {
        List<Option> options = new ArrayList<>();
        options.add(new Option("joinTimeout", "join_timeout_ms", 100, 120_000,
                v -> Fixtures.config(PORT).joinTimeout(ms(v)), (o, v) -> o.join_timeout_ms = (int) v));
        options.addAll(intervalAndTimeout("signal", RoomEngineConfig.Builder::signalKeepaliveInterval,
                RoomEngineConfig.Builder::signalTimeout, (o, v) -> o.signal_keepalive_ms = v,
                (o, v) -> o.signal_timeout_ms = v));
        options.addAll(intervalAndTimeout("media", RoomEngineConfig.Builder::mediaKeepaliveInterval,
                RoomEngineConfig.Builder::mediaTimeout, (o, v) -> o.media_keepalive_ms = v,
                (o, v) -> o.media_timeout_ms = v));
        options.add(new Option("reconnectTimeout", "reconnect_timeout_ms", 1_000, 600_000,
                v -> Fixtures.config(PORT).reconnectTimeout(ms(v)), (o, v) -> o.reconnect_timeout_ms = (int) v));
        options.add(new Option("probeInterval", "probe_interval_ms", 20, 5_000,
                v -> Fixtures.config(PORT).probeInterval(ms(v)), (o, v) -> o.probe_interval_ms = (int) v));
        options.add(new Option("initialDelay", "backoff_initial_ms", 10, 60_000,
                v -> Fixtures.config(PORT).backoff(BackoffPolicy.exponential(ms(v), ms(300_000), 2.0, 0.2)),
                (o, v) -> {
                    o.backoff_max_ms = 300_000;
                    o.backoff_initial_ms = (int) v;
                }));
        options.add(new Option("maxDelay", "backoff_max_ms", 10, 300_000,
                v -> Fixtures.config(PORT).backoff(BackoffPolicy.exponential(ms(10), ms(v), 2.0, 0.2)),
                (o, v) -> {
                    o.backoff_initial_ms = 10;
                    o.backoff_max_ms = (int) v;
                }));
        // The cap's lower edge is the initial delay.
        options.add(new Option("maxDelay", "backoff_max_ms", 250, 300_000,
                v -> Fixtures.config(PORT).backoff(BackoffPolicy.exponential(ms(250), ms(v), 2.0, 0.2)),
                (o, v) -> {
                    o.backoff_initial_ms = 250;
                    o.backoff_max_ms = (int) v;
                }));
        options.add(new Option("multiplier", "backoff_multiplier_pct", 100, 1_000,
                v -> Fixtures.config(PORT).backoff(BackoffPolicy.exponential(ms(250), ms(5_000), v / 100.0, 0.2)),
                (o, v) -> o.backoff_multiplier_pct = (int) v));
        options.add(new Option("jitter", "backoff_jitter_pct", 0, 100,
                v -> Fixtures.config(PORT).backoff(BackoffPolicy.exponential(ms(250), ms(5_000), 2.0, v / 100.0)),
                (o, v) -> o.backoff_jitter_pct = (int) v));
        options.add(new Option("appKey", "app_key", 1, 64,
                v -> Fixtures.config(PORT).appKey("k".repeat((int) v)), (o, v) -> o.app_key = Utf8.cMemory("k".repeat((int) v))));
        options.add(new Option("appKey", "app_key", 1, 64,
                v -> Fixtures.config(PORT).appKey(utf8OfLength(v)), (o, v) -> o.app_key = Utf8.cMemory(utf8OfLength(v))));
        options.add(new Option("server host", "server_host", 1, 255,
                v -> Fixtures.config(PORT).server("h".repeat((int) v), PORT),
                (o, v) -> o.server_host = Utf8.cMemory("h".repeat((int) v))));
        options.add(new Option("server port", "server_port", 1, 65_535,
                v -> Fixtures.config(PORT).server("127.0.0.1", (int) v), (o, v) -> o.server_port = (int) v));
        options.add(new Option("mediaAddressOverride port", "media_port_override", 1, 65_535,
                v -> Fixtures.config(PORT).mediaAddressOverride("127.0.0.1", (int) v),
                (o, v) -> {
                    o.media_host_override = Utf8.cMemory("127.0.0.1");
                    o.media_port_override = (int) v;
                }));
        options.add(new Option("mediaAddressOverride host", "media_host_override", 1, 255,
                v -> Fixtures.config(PORT).mediaAddressOverride("h".repeat((int) v), 9),
                (o, v) -> {
                    o.media_host_override = Utf8.cMemory("h".repeat((int) v));
                    o.media_port_override = 9;
                }));
        return options;
    }

    @Test
    void transportOptionsAreJudgedByTheCoreNamingTheField() {
        String pem = cRefusal(o -> o.tls_trusted_pem = Utf8.cMemory("no certificate here"));
        assertTrue(pem != null && pem.startsWith("tls_trusted_pem: "), "core says " + pem);
        String java = javaRefusal(() -> {
            RoomEngine.create(Fixtures.config(PORT).trustedCertificates("no certificate here").build(),
                    new RecordingListener()).close();
            return null;
        });
        assertTrue(java != null && java.startsWith("tls_trusted_pem: "), "SDK says " + java);
        String plaintext = cRefusal(o -> o.plaintext = 2);
        assertTrue(plaintext != null && plaintext.startsWith("plaintext: "), "core says " + plaintext);
        String portWithoutHost = cRefusal(o -> o.media_port_override = 9);
        assertTrue(portWithoutHost != null && portWithoutHost.startsWith("media_port_override: "),
                "core says " + portWithoutHost);
        // plaintext with or without a PEM, and a valid override, are accepted by both.
        assertEquals(null, cRefusal(o -> o.plaintext = 1));
        assertEquals(null, javaRefusal(() -> Fixtures.config(PORT).plaintext(true).build()));
    }

    /** null if the builder accepts, else its message. */
    private static String javaRefusal(Supplier<RoomEngineConfig> build) {
        try {
            build.get();
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    /** null if rl_engine_create accepts the SDK's usual struct after {@code spoil}, else the core's message. */
    private static String cRefusal(Consumer<NativeApi.EngineOptions> spoil) {
        NativeApi.EngineOptions options = baseOptions();
        spoil.accept(options);
        IntByReference error = new IntByReference(-1);
        Pointer handle = NativeApi.rl_engine_create(options, IGNORE, Pointer.NULL, error);
        String message = Utf8.fromC(NativeApi.rl_last_error_message());
        if (handle != null) {
            NativeApi.rl_engine_destroy(handle);
            assertEquals(ErrorCode.OK, error.getValue());
            assertEquals("", message);
            return null;
        }
        assertEquals(ErrorCode.INVALID_ARGUMENT, error.getValue(), message);
        return message;
    }

    private static NativeApi.EngineOptions baseOptions() {
        NativeApi.EngineOptions options = new NativeApi.EngineOptions();
        NativeApi.rl_options_init(options);
        options.app_key = Utf8.cMemory(Fixtures.APP_KEY); // the struct's fields keep the memory alive
        options.server_host = Utf8.cMemory("127.0.0.1");
        options.server_port = PORT;
        options.backoff_jitter_explicit = 1; // as the SDK sends it: 0 % jitter is a value
        return options;
    }

    private static Pointer createNative() {
        IntByReference error = new IntByReference();
        Pointer handle = NativeApi.rl_engine_create(baseOptions(), IGNORE, Pointer.NULL, error);
        assertEquals(ErrorCode.OK, error.getValue());
        return handle;
    }

    private static void assertNames(String what, String javaMessage, String javaName, String cMessage, String cName) {
        if (!javaMessage.contains(javaName)) {
            fail(what + ": the builder's message does not name " + javaName + ": " + javaMessage);
        }
        if (!cMessage.startsWith(cName + ": ")) {
            fail(what + ": the core's message does not name " + cName + ": " + cMessage);
        }
    }

    /** Two-byte characters, plus one ASCII character for an odd length. */
    private static String utf8OfLength(long bytes) {
        return "é".repeat((int) bytes / 2) + "k".repeat((int) bytes % 2);
    }

    /**
     * One path's keepalive interval and timeout ({@code path} is "signal" or "media"), each walked
     * with the other where its own edges can pass: the timeout at its maximum while the interval
     * is walked, the interval at its minimum while the timeout is.
     */
    private static List<Option> intervalAndTimeout(String path,
            BiFunction<RoomEngineConfig.Builder, Duration, RoomEngineConfig.Builder> interval,
            BiFunction<RoomEngineConfig.Builder, Duration, RoomEngineConfig.Builder> timeout,
            ObjIntConsumer<NativeApi.EngineOptions> cInterval, ObjIntConsumer<NativeApi.EngineOptions> cTimeout) {
        return List.of(
                new Option(path + "KeepaliveInterval", path + "_keepalive_ms", 20, 10_000,
                        v -> interval.apply(timeout.apply(Fixtures.config(PORT), ms(60_000)), ms(v)),
                        (o, v) -> {
                            cTimeout.accept(o, 60_000);
                            cInterval.accept(o, (int) v);
                        }),
                new Option(path + "Timeout", path + "_timeout_ms", 100, 60_000,
                        v -> timeout.apply(interval.apply(Fixtures.config(PORT), ms(20)), ms(v)),
                        (o, v) -> {
                            cInterval.accept(o, 20);
                            cTimeout.accept(o, (int) v);
                        }));
    }

    private static Duration ms(long millis) {
        return Duration.ofMillis(millis);
    }

    private static String abbreviate(String s) {
        return s == null ? "null" : s.length() <= 10 ? '"' + s + '"' : '"' + s.substring(0, 10) + "…\"(" + s.length() + ")";
    }
}
