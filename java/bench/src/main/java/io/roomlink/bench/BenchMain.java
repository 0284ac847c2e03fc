package io.roomlink.bench;

import io.roomlink.bench.harness.Bench;
import io.roomlink.bench.harness.CheckFailed;
import io.roomlink.bench.report.Json;
import io.roomlink.bench.report.Machine;
import io.roomlink.bench.report.Metric;
import io.roomlink.bench.report.Report;
import io.roomlink.bench.scenario.Scenario;
import io.roomlink.bench.scenario.Scenarios;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The roomlink performance suite (docs/PERFORMANCE.md). Prints a table (p50, p95, p99, max, n,
 * value, goal) and writes the same data with the machine's description to
 * {@code <out>/results.json} (and the table to {@code <out>/results.md}).
 *
 * <pre>
 * BenchMain [--quick] [--only=id,id] [--skip=id,id] [--out=DIR]
 * ids: see Scenarios (callback join tls detection recovery ... message-latency message-cut message-fanout message-replay)
 * </pre>
 *
 * Exit status: 0 when every scenario's validity checks passed (goals are reported, not enforced),
 * 1 when a scenario FAILED, 2 on bad arguments.
 */
public final class BenchMain {
    private BenchMain() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the suite; returns the exit status. */
    public static int run(String[] rawArgs) {
        List<String> args = new ArrayList<>();
        for (String a : rawArgs) {
            args.addAll(Arrays.asList(a.trim().split("\\s+"))); // -Dbench.args may carry several in one
        }
        args.removeIf(String::isEmpty);
        boolean quick = false;
        Path out = Path.of("target", "bench");
        Set<String> only = new LinkedHashSet<>(Scenarios.ids());
        Set<String> skip = new LinkedHashSet<>();
        for (String a : args) {
            if (a.equals("--quick") || a.equals("quick")) {
                quick = true;
            } else if (a.startsWith("--only=")) {
                only = new LinkedHashSet<>(Arrays.asList(a.substring(7).split(",")));
            } else if (a.startsWith("--skip=")) {
                skip.addAll(Arrays.asList(a.substring(7).split(",")));
            } else if (a.startsWith("--out=")) {
                out = Path.of(a.substring(6));
            } else {
                System.err.println("unknown argument " + a);
                System.err.println("usage: BenchMain [--quick] [--only=id,...] [--skip=id,...] [--out=DIR]; ids: "
                        + String.join(" ", Scenarios.ids()));
                return 2;
            }
        }
        for (String id : only) {
            if (!Scenarios.ids().contains(id)) {
                System.err.println("unknown scenario " + id + "; ids: " + String.join(" ", Scenarios.ids()));
                return 2;
            }
        }
        Bench bench = new Bench(quick, out.toAbsolutePath());
        Map<String, Object> machine = Machine.describe();
        bench.log("roomlink bench, %s mode, on %s", quick ? "quick" : "full", Machine.oneLine(machine));

        List<Metric> metrics = new ArrayList<>();
        List<Map<String, Object>> scenarioRecords = new ArrayList<>();
        boolean anyFailed = false;
        for (String id : Scenarios.ids()) {
            if (!only.contains(id) || skip.contains(id)) {
                continue;
            }
            Scenario s = Scenarios.create(id);
            bench.log("== %s (%s)", s.title(), s.id());
            long start = System.nanoTime();
            String status = "OK";
            String error = null;
            try {
                s.run(bench);
            } catch (Throwable t) {
                status = "FAILED";
                error = t instanceof CheckFailed ? t.getMessage() : t.toString();
                bench.log("%s FAILED: %s", s.id(), error);
                if (!(t instanceof CheckFailed)) {
                    t.printStackTrace(System.out);
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            if (status.equals("FAILED")) {
                anyFailed = true;
                for (Metric m : s.rows) {
                    m.status = "FAILED";
                }
                Metric placeholder = new Metric(s.id(), s.title(), "");
                placeholder.status = "FAILED";
                placeholder.value = "check failed";
                placeholder.goal = "–";
                placeholder.notes = error;
                s.rows.add(0, placeholder);
            }
            metrics.addAll(s.rows);
            Map<String, Object> rec = new LinkedHashMap<>();
            rec.put("id", s.id());
            rec.put("title", s.title());
            rec.put("status", status);
            rec.put("error", error);
            rec.put("seconds", seconds);
            rec.put("config", s.config);
            scenarioRecords.add(rec);
            bench.log("%s: %s in %.1f s", s.id(), status, seconds);
        }

        double totalSeconds = (System.nanoTime() - bench.startNanos) / 1e9;
        String table = Report.table(metrics);
        String notes = Report.notes(metrics);
        System.out.println();
        System.out.println("roomlink bench (" + (quick ? "quick" : "full") + "), " + Machine.oneLine(machine) + ", "
                + String.format(java.util.Locale.ROOT, "%.0f s", totalSeconds));
        System.out.println();
        System.out.print(table);
        System.out.println();
        System.out.print(notes);

        Map<String, Object> json = new LinkedHashMap<>();
        json.put("suite", "roomlink bench");
        json.put("mode", quick ? "quick" : "full");
        json.put("arguments", String.join(" ", args));
        json.put("seconds", totalSeconds);
        json.put("status", anyFailed ? "FAILED" : "OK");
        json.put("machine", machine);
        json.put("scenarios", scenarioRecords);
        List<Map<String, Object>> rows = new ArrayList<>();
        metrics.forEach(m -> rows.add(m.toJson()));
        json.put("metrics", rows);
        try {
            Files.createDirectories(bench.outDir);
            Files.writeString(bench.outDir.resolve("results.json"), Json.write(json), StandardCharsets.UTF_8);
            Files.writeString(bench.outDir.resolve("results.md"), "roomlink bench (" + (quick ? "quick" : "full") + "), "
                    + Machine.oneLine(machine) + "\n\n" + table + "\n" + notes, StandardCharsets.UTF_8);
            bench.log("wrote %s", bench.outDir.resolve("results.json"));
        } catch (IOException e) {
            System.err.println("cannot write results: " + e);
            return 1;
        }
        if (anyFailed) {
            System.out.println("FAILED: a scenario's checks did not pass (see the table)");
            return 1;
        }
        return 0;
    }
}
