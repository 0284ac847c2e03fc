package io.roomlink.bench.worker;

import io.roomlink.bench.harness.Bench;
import io.roomlink.bench.harness.CheckFailed;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The harness's end of a child JVM (a {@link ClientWorker} or {@link ServerWorker}): commands go
 * to its stdin one line each, and every command gets one reply line on its stdout starting with
 * {@code @} ({@code @ok key=value ...} or {@code @err message}). Other stdout lines and all of
 * stderr go to a log file. The child runs under {@code ulimit -n} raised as far as allowed.
 */
public final class WorkerProcess implements AutoCloseable {
    private static final String EOF = "\u0000eof";

    final String name;
    private final Process process;
    private final PrintWriter in;
    private final BlockingQueue<String> replies = new LinkedBlockingQueue<>();

    private WorkerProcess(String name, Process process, Path log) throws IOException {
        this.name = name;
        this.process = process;
        this.in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
        PrintWriter logOut = new PrintWriter(Files.newBufferedWriter(log.resolveSibling(log.getFileName() + ".out")), true);
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith("@")) {
                        replies.add(line);
                    } else {
                        logOut.println(line);
                    }
                }
            } catch (IOException e) {
                // the process is gone
            } finally {
                logOut.close();
                replies.add(EOF);
            }
        }, "bench-reader-" + name);
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts {@code mainClass} in a new JVM with this JVM's classpath. */
    static WorkerProcess start(Bench bench, String name, String mainClass, List<String> jvmArgs, List<String> args)
            throws IOException {
        Files.createDirectories(bench.logDir);
        List<String> cmd = new ArrayList<>();
        cmd.add("bash");
        cmd.add("-c");
        // Enough file descriptors for thousands of engines: as high as the hard limit allows (root may raise it).
        cmd.add("ulimit -n 1048576 2>/dev/null || ulimit -n $(ulimit -Hn) 2>/dev/null; exec \"$@\"");
        cmd.add("bash");
        cmd.add(Bench.javaBin());
        cmd.addAll(Bench.childJvmBaseArgs());
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(Bench.classpath());
        cmd.add(mainClass);
        cmd.addAll(args);
        Path log = bench.logDir.resolve(name + ".log");
        Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
        return new WorkerProcess(name, p, log);
    }

    public long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    void send(String command) {
        in.println(command);
        in.flush();
    }

    /** The next reply line, parsed; throws if none comes in time, the child died, or it answered @err. */
    Map<String, String> reply(Duration timeout) {
        String line;
        try {
            line = replies.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CheckFailed(name + ": interrupted");
        }
        if (line == null) {
            throw new CheckFailed(name + ": no answer within " + timeout.toSeconds() + " s");
        }
        if (line.equals(EOF)) {
            replies.add(EOF);
            throw new CheckFailed(name + ": the worker JVM exited (see its log)");
        }
        if (line.startsWith("@err")) {
            throw new CheckFailed(name + ": " + line.substring(4).trim());
        }
        return parse(line);
    }

    public Map<String, String> call(String command, Duration timeout) {
        send(command);
        return reply(timeout);
    }

    static Map<String, String> parse(String line) {
        Map<String, String> m = new LinkedHashMap<>();
        String[] parts = line.split(" ");
        m.put("@", parts[0]);
        for (int i = 1; i < parts.length; i++) {
            int eq = parts[i].indexOf('=');
            if (eq > 0) {
                m.put(parts[i].substring(0, eq), parts[i].substring(eq + 1));
            }
        }
        return m;
    }

    /** SIGKILL: a crash, no goodbye to anyone. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Asks it to exit (stdin closed), then kills it if it lingers. */
    @Override
    public void close() {
        if (!process.isAlive()) {
            return;
        }
        try {
            send("exit");
            in.close();
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    public static long asLong(Map<String, String> reply, String key) {
        String v = reply.get(key);
        if (v == null) {
            throw new CheckFailed("reply without " + key + ": " + reply);
        }
        return Long.parseLong(v);
    }

    public static double asDouble(Map<String, String> reply, String key) {
        String v = reply.get(key);
        return v == null ? Double.NaN : Double.parseDouble(v);
    }
}
