package io.roomlink.bench.scenario;

import io.roomlink.bench.harness.Bench;
import io.roomlink.bench.harness.CheckFailed;
import io.roomlink.bench.harness.ClientNetns;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A worker JVM run inside the client namespace (the kernel-drop and link-down workers), and the
 * one reading of what it reports on stdout: a line {@code @err why} fails the scenario, {@code @done}
 * ends the run, and every other {@code @} line (a sample, an undetected cut …) is handed to the
 * scenario split at its spaces. Its stderr goes to {@code <name>-worker.log} in the bench's logs.
 */
final class NamespacedWorker {
    private NamespacedWorker() {
    }

    /**
     * Runs {@code main} with {@code args} to its {@code @done}, reports to {@code onReport}.
     *
     * @return its log, for the scenario's own checks to name
     * @throws CheckFailed if it reported an error or ended before {@code @done}
     */
    static Path run(Bench bench, ClientNetns net, String name, Class<?> main, List<String> args,
            Consumer<String[]> onReport) throws Exception {
        List<String> cmd = new ArrayList<>(net.exec());
        cmd.add(Bench.javaBin());
        cmd.addAll(Bench.childJvmBaseArgs());
        cmd.addAll(List.of("-cp", Bench.classpath(), main.getName()));
        cmd.addAll(args);
        Files.createDirectories(bench.logDir);
        Path log = bench.logDir.resolve(name + "-worker.log");
        Process worker = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
        String error = null;
        boolean done = false;
        try (BufferedReader out = new BufferedReader(
                new InputStreamReader(worker.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null && !done && error == null) {
                if (line.startsWith("@err ")) {
                    error = line.substring(5);
                } else if (line.equals("@done")) {
                    done = true;
                } else if (line.startsWith("@")) {
                    onReport.accept(line.split(" "));
                }
            }
        } finally {
            if (!worker.waitFor(30, TimeUnit.SECONDS)) {
                worker.destroyForcibly();
            }
        }
        CheckFailed.check(error == null, "the " + name + " worker failed: " + error + " (log: " + log + ")");
        CheckFailed.check(done, "the " + name + " worker ended early (log: " + log + ")");
        return log;
    }
}
