package io.roomlink;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real network, not a proxy: a Linux network namespace for the client, joined to the host (where
 * the server listens) by a veth pair, and client engines run in their own JVM inside it
 * ({@link NetnsClientMain}). Needs root and iproute2 (CI has both); {@link #unavailableReason}
 * says why not otherwise, for the tests' assumptions.
 */
final class ClientNamespace implements AutoCloseable {
    /** Addresses of our own test hosts inside our own namespaces, never routed anywhere else. */
    static final String SERVER_ADDRESS = "10.231.77.1";
    static final String CLIENT_ADDRESS = "10.231.77.2";
    static final String PREFIX = "/24";

    final String namespace;
    final String hostSide;
    final String clientSide;

    private ClientNamespace(String suffix) {
        namespace = "rlns" + suffix;
        hostSide = "rlh" + suffix;
        clientSide = "rlc" + suffix;
    }

    /** Null if namespaces can be made here, else why not. */
    static String unavailableReason() {
        if (!System.getProperty("os.name").toLowerCase().contains("linux")) {
            return "not Linux";
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            return "not running as root";
        }
        if (List.of("/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip").stream()
                .noneMatch(p -> Files.isExecutable(Path.of(p)))) {
            return "the 'ip' command (iproute2) is not installed";
        }
        String probe = "rlprobe" + ProcessHandle.current().pid() % 100_000;
        try {
            if (runQuietly("ip", "netns", "add", probe) != 0) {
                return "'ip netns add' failed: network namespaces are not available here";
            }
            runQuietly("ip", "netns", "del", probe);
        } catch (Exception e) {
            return "'ip netns add' could not run: " + e.getMessage();
        }
        return null;
    }

    /**
     * {@link #create}, or skips the calling test (a JUnit assumption, "skipping {@code tests}: why")
     * where namespaces cannot be made here.
     */
    static ClientNamespace createOrSkip(String tests) throws Exception {
        String why = unavailableReason();
        assumeTrue(why == null, () -> "skipping " + tests + ": " + why);
        return create();
    }

    /** Makes the namespace and the link, both ends up; the names carry this JVM's pid. */
    static ClientNamespace create() throws Exception {
        ClientNamespace net = new ClientNamespace(Long.toString(ProcessHandle.current().pid() % 100_000));
        run("ip", "netns", "add", net.namespace);
        try {
            run("ip", "link", "add", net.hostSide, "type", "veth", "peer", "name", net.clientSide);
            run("ip", "link", "set", net.clientSide, "netns", net.namespace);
            run("ip", "addr", "add", SERVER_ADDRESS + PREFIX, "dev", net.hostSide);
            run("ip", "link", "set", net.hostSide, "up");
            net.inNamespace("ip", "addr", "add", CLIENT_ADDRESS + PREFIX, "dev", net.clientSide);
            net.inNamespace("ip", "link", "set", net.clientSide, "up");
            net.inNamespace("ip", "link", "set", "lo", "up");
        } catch (Exception e) {
            net.close();
            throw e;
        }
        return net;
    }

    void inNamespace(String... command) throws Exception {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(List.of(command));
        run(full.toArray(new String[0]));
    }

    /** Starts a client JVM in the namespace; its callbacks arrive in {@code events}. */
    Client startClient(int serverPort, String token, String channel, long uid, RecordingListener events)
            throws IOException {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace,
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djna.nosys=true", "-cp", System.getProperty("java.class.path"),
                NetnsClientMain.class.getName(), SERVER_ADDRESS, Integer.toString(serverPort),
                token, channel, Long.toString(uid)));
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Thread reader = new Thread(() -> pump(process, events), "netns-client-stdout");
        reader.setDaemon(true);
        reader.start();
        return new Client(process);
    }

    /** The client JVM: it leaves and exits when closed. */
    static final class Client implements AutoCloseable {
        private final Process process;

        private Client(Process process) {
            this.process = process;
        }

        @Override
        public void close() throws Exception {
            process.getOutputStream().close();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    @Override
    public void close() throws Exception {
        runQuietly("ip", "netns", "del", namespace);
        runQuietly("ip", "link", "del", hostSide);
    }

    private static void pump(Process client, RecordingListener events) {
        try (BufferedReader out = new BufferedReader(
                new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("EVENT ")) {
                    events.recordExternal(line.substring(6));
                }
            }
        } catch (IOException ended) {
            // the client exited
        }
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
        }
    }

    private static int runQuietly(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
    }
}
