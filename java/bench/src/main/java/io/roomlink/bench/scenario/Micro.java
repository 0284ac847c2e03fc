package io.roomlink.bench.scenario;

import io.netty.buffer.Unpooled;
import io.roomlink.ConnectionState;
import io.roomlink.RoomEngine;
import io.roomlink.RoomEngineConfig;
import io.roomlink.RoomEngineListener;
import io.roomlink.bench.harness.Bench;
import io.roomlink.bench.jmh.CodecBench;
import io.roomlink.bench.jmh.EngineStateBench;
import io.roomlink.bench.report.Metric;
import io.roomlink.bench.report.Report;
import io.roomlink.server.protocol.MediaCodec;
import io.roomlink.server.protocol.WireCodec;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.util.Statistics;

/**
 * Micro-measurements with JMH, run programmatically: getConnectionState() through JNA, and the
 * codec on a JOIN frame and a media ping. Average time (ns/op) is the headline; the sample-time
 * mode gives the percentiles (single calls timed with System.nanoTime(), so tens of ns are at
 * the timer's resolution).
 */
final class Micro extends Scenario {
    Micro() {
        super("jmh", "API call overhead and codec (JMH)");
    }

    @Override
    public void run(Bench bench) throws Exception {
        // What the benchmarks time must work: a live engine answers, the codec round-trips.
        try (RoomEngine e = RoomEngine.create(RoomEngineConfig.builder().appKey("bench").server("127.0.0.1", 9).build(),
                new RoomEngineListener() { })) {
            check(e.getConnectionState() == ConnectionState.DISCONNECTED, "a new engine is not DISCONNECTED");
        }
        check(CodecBench.JOIN.equals(WireCodec.decodeFrame(WireCodec.encode(CodecBench.JOIN))), "JOIN does not round-trip");
        check(CodecBench.PING.equals(MediaCodec.open(Unpooled.wrappedBuffer(
                        MediaCodec.seal(CodecBench.PING, CodecBench.KEYS.clientToServer())), CodecBench.KEYS.clientToServer())),
                "media PING does not round-trip");

        int forks = bench.quick ? 0 : 1;
        int warmups = bench.size(1, 3);
        int iterations = bench.size(2, 5);
        TimeValue time = bench.quick ? TimeValue.milliseconds(200) : TimeValue.seconds(1);
        config.put("forks", forks);
        config.put("warmup", warmups + " x " + time);
        config.put("measurement", iterations + " x " + time);
        java.nio.file.Files.createDirectories(bench.logDir);
        Options options = new OptionsBuilder()
                .include("^" + EngineStateBench.class.getName().replace(".", "\\.") + "\\.")
                .include("^" + CodecBench.class.getName().replace(".", "\\.") + "\\.")
                .forks(forks)
                .warmupIterations(warmups).warmupTime(time)
                .measurementIterations(iterations).measurementTime(time)
                .threads(1)
                .jvmArgsAppend("-Djna.nosys=true", "-Xmx256m")
                .output(bench.logDir.resolve("jmh.txt").toString())
                .shouldFailOnError(true)
                .build();
        Collection<RunResult> results = new Runner(options).run();
        nativeAeadCost(bench);

        Map<String, Result<?>> average = new LinkedHashMap<>();
        Map<String, Result<?>> sampled = new LinkedHashMap<>();
        for (RunResult r : results) {
            String name = r.getParams().getBenchmark();
            name = name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1);
            switch (r.getParams().getMode()) {
                case AverageTime -> average.put(name, r.getPrimaryResult());
                case SampleTime -> sampled.put(name, r.getPrimaryResult());
                default -> { }
            }
        }
        List<String[]> expected = List.of(
                new String[] {"EngineStateBench.getConnectionState", "API call overhead: getConnectionState() through JNA"},
                new String[] {"CodecBench.encodeJoin", "codec: encode a JOIN frame"},
                new String[] {"CodecBench.decodeJoin", "codec: decode a JOIN frame"},
                new String[] {"CodecBench.sealPing", "AEAD cost, server side: seal a media ping (AES-128-GCM)"},
                new String[] {"CodecBench.openPing", "AEAD cost, server side: open a media ping (AES-128-GCM)"},
                new String[] {"CodecBench.decodeMediaPing", "codec: check a media datagram's shape"});
        for (String[] e : expected) {
            Result<?> avg = average.get(e[0]);
            Result<?> sample = sampled.get(e[0]);
            check(avg != null && sample != null, "JMH gave no result for " + e[0]);
            check(avg.getScore() > 0 && !Double.isNaN(avg.getScore()), "JMH score of " + e[0] + " is " + avg.getScore());
            Statistics st = sample.getStatistics();
            Metric m = new Metric(id(), e[1], "ns");
            m.n = (int) Math.min(Integer.MAX_VALUE, st.getN());
            m.p50 = st.getPercentile(50);
            m.p95 = st.getPercentile(95);
            m.p99 = st.getPercentile(99);
            m.max = st.getMax();
            double err = avg.getScoreError();
            m.value = Report.fmt(avg.getScore()) + (Double.isNaN(err) ? "" : " ± " + Report.fmt(err)) + " ns/op";
            m.goalText("report ns/op");
            m.note("JMH average time " + m.value + "; percentiles from sample-time mode (timer-resolution bound)");
            m.extra("avgNsPerOp", avg.getScore()).extra("avgError", avg.getScoreError());
            add(m);
            bench.log("JMH %s: %s", e[0], m.value);
        }
    }

    /**
     * The native side of the AEAD cost: the C++ test binary that times MediaCipher (built with the
     * SDK's native code, RelWithDebInfo) seals and opens a million datagrams and prints the figures.
     */
    private void nativeAeadCost(Bench bench) throws Exception {
        java.nio.file.Path binary = java.nio.file.Path.of("..", "sdk", "target", "native-build", "media_cipher_test");
        check(java.nio.file.Files.isExecutable(binary), binary + " is not built (run the bench through Maven)");
        ProcessBuilder pb = new ProcessBuilder(binary.toString()).redirectErrorStream(true);
        pb.environment().put("ROOMLINK_CIPHER_BENCH", bench.quick ? "200000" : "2000000");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        check(p.waitFor() == 0, "media_cipher_test failed: " + out);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("seal_ns=([0-9.]+) open_ns=([0-9.]+) n=(\\d+)").matcher(out);
        check(m.find(), "media_cipher_test printed no figures: " + out);
        for (String[] row : new String[][] {{"seal", m.group(1)}, {"open", m.group(2)}}) {
            double ns = Double.parseDouble(row[1]);
            add(Metric.value(id(), "AEAD cost, native: " + row[0] + " a media ping (AES-128-GCM, OpenSSL 3)", "ns",
                            Report.fmt(ns) + " ns/op", Integer.parseInt(m.group(3)))
                    .goalText("report µs per datagram")
                    .note("mean over " + m.group(3) + " datagrams, one thread (native/test/media_cipher_test.cpp)")
                    .extra("avgNsPerOp", ns));
            bench.log("native AEAD %s: %.1f ns", row[0], ns);
        }
    }
}
