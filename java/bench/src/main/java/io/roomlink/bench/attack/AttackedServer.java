package io.roomlink.bench.attack;

import io.roomlink.bench.harness.Bench;
import io.roomlink.bench.harness.CheckFailed;
import io.roomlink.bench.report.ProcStats;
import io.roomlink.testkit.AcceptThread;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The standalone server (io.roomlink.server.RoomServerMain, as shipped) in a child JVM under a
 * given {@code ulimit -n}, for the attack scenarios: its RSS, descriptors and threads are read
 * from /proc, so nothing of the attacking process is counted.
 */
public final class AttackedServer implements AutoCloseable {
    public static final String SECRET = "bench-attack-secret";
    private static final Pattern LISTENING = Pattern.compile("listening signal=(\\d+) media=(\\d+)");

    private final Process process;
    public final int signalPort;
    public final int mediaPort;
    public final int fdLimit;

    private AttackedServer(Process process, int[] ports, int fdLimit) {
        this.process = process;
        this.signalPort = ports[0];
        this.mediaPort = ports[1];
        this.fdLimit = fdLimit;
    }

    public static AttackedServer start(Bench bench, String name, int fdLimit, String... flags) throws Exception {
        Files.createDirectories(bench.logDir);
        List<String> cmd = new ArrayList<>(List.of("bash", "-c", "ulimit -n " + fdLimit + " && exec \"$@\"", "server",
                Bench.javaBin(), "-Xmx512m", "-cp", Bench.classpath(), "io.roomlink.server.RoomServerMain",
                "--bind", "127.0.0.1", "--signal-port", "0", "--media-port", "0", "--token-secret", SECRET));
        cmd.addAll(List.of(flags));
        Path log = bench.logDir.resolve(name + "-server.log");
        Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
        CompletableFuture<int[]> port = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        port.complete(new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))});
                    }
                }
            } catch (IOException e) {
                // gone
            }
            port.completeExceptionally(new CheckFailed("the attacked server exited; see " + log));
        }, "attacked-server-stdout");
        reader.setDaemon(true);
        reader.start();
        try {
            return new AttackedServer(p, port.get(30, TimeUnit.SECONDS), fdLimit);
        } catch (Exception e) {
            p.destroyForcibly();
            throw new CheckFailed("the attacked server did not start: " + e.getMessage() + "; see " + log);
        }
    }

    public long pid() {
        return process.pid();
    }

    public long fds() {
        return ProcStats.openFds(process.pid());
    }

    public long rssKb() {
        return ProcStats.rssKb(process.pid());
    }

    /** Whether its accept thread (roomlink-accept-*; the kernel keeps 15 characters of a name) runs. */
    public boolean acceptThreadAlive() {
        return AcceptThread.alive(process.pid());
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
