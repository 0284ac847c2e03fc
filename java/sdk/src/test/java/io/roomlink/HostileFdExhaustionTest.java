package io.roomlink;

import static io.roomlink.Fixtures.WAIT;
import static io.roomlink.Fixtures.config;
import static io.roomlink.Fixtures.token;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.roomlink.testkit.AcceptThread;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * The standalone server with a small open-files limit and no SLF4J binding (as shipped), flooded
 * with idle connections until it has no descriptor left: its accept loop must live through it
 * (it used to die of a NoClassDefFoundError from java.util.logging), the descriptors must come
 * back, and a join must succeed afterwards; two witnesses joined before must see nothing.
 */
@EnabledOnOs(OS.LINUX)
class HostileFdExhaustionTest {
    private static final int FD_LIMIT = 400;
    private static final Pattern LISTENING = Pattern.compile("listening signal=(\\d+) media=(\\d+)");

    @Test
    void theAcceptLoopOutlivesFdExhaustionAndJoinsSucceedAfterwards() throws Exception {
        // --max-connections far above the fd limit: the test is about running out of descriptors
        ServerProcess server = ServerProcess.start("--max-connections", "100000", "--handshake-timeout-ms", "60000",
                "--max-connections-per-ip", "100000");
        List<RoomEngine> engines = new ArrayList<>();
        List<Socket> attack = new ArrayList<>();
        try {
            Witnessed witnesses = Witnessed.join(server.port, engines);
            long baseline = server.fds();

            // Idle connections until the server is out of descriptors (the kernel still completes
            // handshakes into the accept queue, so the client side does not notice).
            for (int i = 0; i < FD_LIMIT + 200; i++) {
                Socket s = new Socket();
                s.connect(new InetSocketAddress("127.0.0.1", server.port), 5000);
                attack.add(s);
            }
            Fixtures.awaitTrue(() -> server.fds() >= FD_LIMIT - 2, WAIT,
                    "the server to run out of descriptors (" + server.fds() + " open)");
            assertTrue(server.acceptThreadAlive(), "the accept thread died:\n" + server.stderr());

            attack.forEach(HostileFdExhaustionTest::closeQuietly);
            attack.clear();
            Fixtures.awaitTrue(() -> server.fds() <= baseline + 2, Duration.ofSeconds(30),
                    "descriptors back to the baseline of " + baseline + " (" + server.fds() + " open)");

            RecordingListener late = new RecordingListener("after");
            engines.add(join(server.port, late, "witnessed", 3));
            late.awaitEvent("onJoinChannel(OK, uid=3)", WAIT);
            assertTrue(server.acceptThreadAlive(), "the accept thread died:\n" + server.stderr());
            String err = server.stderr();
            assertFalse(err.contains("NoClassDefFoundError") || err.contains("Exception in thread"), err);

            witnesses.assertUndisturbed();
        } finally {
            attack.forEach(HostileFdExhaustionTest::closeQuietly);
            engines.forEach(RoomEngine::close);
            server.stop();
        }
    }

    @Test
    void atTheDerivedCapIdleConnectionsMakeRoomForJoins() throws Exception {
        // the default cap: the fd limit minus the reserve, so the server never runs out of descriptors
        ServerProcess server = ServerProcess.start("--handshake-timeout-ms", "60000", "--max-connections-per-ip",
                "100000");
        List<RoomEngine> engines = new ArrayList<>();
        List<Socket> attack = new ArrayList<>();
        try {
            Witnessed witnesses = Witnessed.join(server.port, engines);
            long baseline = server.fds();
            for (int i = 0; i < FD_LIMIT; i++) {
                Socket s = new Socket();
                s.connect(new InetSocketAddress("127.0.0.1", server.port), 5000);
                attack.add(s);
            }
            Fixtures.awaitTrue(() -> server.fds() >= baseline + 100, WAIT,
                    "the idle connections to be accepted (" + server.fds() + " open)");
            // during the attack: the oldest idle connection makes room for the newcomer
            RecordingListener during = new RecordingListener("during");
            engines.add(join(server.port, during, "witnessed", 3));
            during.awaitEvent("onJoinChannel(OK, uid=3)", WAIT);
            assertTrue(server.fds() < FD_LIMIT - 50, "the cap keeps a reserve: " + server.fds() + " open");
            assertTrue(server.acceptThreadAlive(), "the accept thread died:\n" + server.stderr());
            attack.forEach(HostileFdExhaustionTest::closeQuietly);
            attack.clear();
            Fixtures.awaitTrue(() -> server.fds() <= baseline + 3, Duration.ofSeconds(30),
                    "descriptors back to the baseline of " + baseline + " (" + server.fds() + " open)");
            witnesses.assertUndisturbed();
        } finally {
            attack.forEach(HostileFdExhaustionTest::closeQuietly);
            engines.forEach(RoomEngine::close);
            server.stop();
        }
    }

    private static RoomEngine join(int port, RecordingListener l, String channel, long uid) {
        RoomEngine e = RoomEngine.create(config(port).plaintext(true).build(), l); // a loopback server is plaintext
        assertEquals(ErrorCode.OK, e.joinChannel(token(channel, uid), channel, uid));
        return e;
    }

    /** Two engines joined in "witnessed" (uids 1 and 2) before the attack, and how much each had seen by then. */
    private record Witnessed(RecordingListener a, int seenA, RecordingListener b, int seenB) {
        /** Both joined, each seeing the other; their engines go into {@code engines}, for the caller to close. */
        static Witnessed join(int port, List<RoomEngine> engines) {
            RecordingListener wa = new RecordingListener("witness-A");
            RecordingListener wb = new RecordingListener("witness-B");
            engines.add(HostileFdExhaustionTest.join(port, wa, "witnessed", 1));
            wa.awaitEvent("onJoinChannel(OK, uid=1)", WAIT);
            engines.add(HostileFdExhaustionTest.join(port, wb, "witnessed", 2));
            wb.awaitEvent("onUserJoined(1)", WAIT);
            wa.awaitEvent("onUserJoined(2)", WAIT);
            return new Witnessed(wa, wa.events().size(), wb, wb.events().size());
        }

        void assertUndisturbed() {
            HostileFdExhaustionTest.assertUndisturbed(a, seenA);
            HostileFdExhaustionTest.assertUndisturbed(b, seenB);
        }
    }

    /** What {@link Witnesses#assertUndisturbed} checks, for engines of a server in another process. */
    private static void assertUndisturbed(RecordingListener l, int baseline) {
        List<String> events = l.events();
        List<String> since = events.subList(baseline, events.size()).stream()
                .filter(e -> !e.startsWith("onUserJoined(3)")).toList();
        assertEquals(List.of(), since, "a witness was disturbed; everything it saw: " + events);
        assertEquals(List.of(), l.violations());
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    /** RoomServerMain in a child JVM under {@code ulimit -n FD_LIMIT}, without an SLF4J binding. */
    static final class ServerProcess {
        final Process process;
        /** The signal port, once it listens. */
        volatile int port;
        private final StringBuffer stderr = new StringBuffer();

        private ServerProcess(Process process) {
            this.process = process;
        }

        static ServerProcess start(String... extra) throws Exception {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            String cp = classPath().stream()
                    .filter(e -> !e.contains("slf4j-simple") && !e.contains("logback"))
                    .collect(Collectors.joining(File.pathSeparator));
            assertFalse(cp.contains("surefirebooter"), cp);
            List<String> command = new ArrayList<>(List.of("bash", "-c",
                    "ulimit -n " + FD_LIMIT + " && exec \"$@\"", "server",
                    java, "-Xmx256m", "-cp", cp, "io.roomlink.server.RoomServerMain", "--bind", "127.0.0.1",
                    "--signal-port", "0", "--media-port", "0", "--token-secret", Fixtures.SECRET));
            command.addAll(List.of(extra));
            Process p = new ProcessBuilder(command).start();
            CompletableFuture<Integer> port = new CompletableFuture<>();
            Thread out = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        Matcher m = LISTENING.matcher(line);
                        if (m.find()) {
                            port.complete(Integer.parseInt(m.group(1)));
                        }
                    }
                } catch (IOException e) {
                    // process gone
                }
                port.completeExceptionally(new IllegalStateException("the server exited before listening"));
            }, "fd-server-stdout");
            out.setDaemon(true);
            out.start();
            ServerProcess sp = new ServerProcess(p);
            Thread err = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        sp.stderr.append(line).append('\n');
                    }
                } catch (IOException e) {
                    // process gone
                }
            }, "fd-server-stderr");
            err.setDaemon(true);
            err.start();
            try {
                sp.port = port.get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                p.destroyForcibly();
                throw new AssertionError("server did not start: " + sp.stderr, e);
            }
            return sp;
        }

        /** This JVM's class path, with surefire's manifest-only jar replaced by what its manifest lists. */
        private static List<String> classPath() throws IOException {
            List<String> out = new ArrayList<>();
            for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
                Path p = Path.of(e);
                if (!p.getFileName().toString().startsWith("surefirebooter")) {
                    out.add(e);
                    continue;
                }
                try (JarFile jar = new JarFile(e)) {
                    String listed = jar.getManifest().getMainAttributes().getValue("Class-Path");
                    URI base = p.toAbsolutePath().getParent().toUri();
                    for (String u : listed.split(" ")) {
                        if (!u.isBlank()) {
                            out.add(Path.of(base.resolve(u)).toString());
                        }
                    }
                }
            }
            return out;
        }

        String stderr() {
            return stderr.toString();
        }

        /** Open descriptors of the server process. */
        long fds() {
            try (Stream<Path> s = Files.list(Path.of("/proc", Long.toString(process.pid()), "fd"))) {
                return s.count();
            } catch (IOException e) {
                return -1;
            }
        }

        /** Whether a thread named roomlink-accept-* still runs (the kernel keeps 15 chars of a name). */
        boolean acceptThreadAlive() {
            return AcceptThread.alive(process.pid());
        }

        void stop() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
