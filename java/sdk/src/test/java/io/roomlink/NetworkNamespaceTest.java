package io.roomlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.roomlink.server.RoomServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A real network, not a proxy: the client runs in its own Linux network namespace joined to the
 * server by a veth link, and the test takes the client's link down and up again. Needs root
 * (CI has it); skips with a message only where network namespaces cannot be made.
 */
class NetworkNamespaceTest {
    private final String suffix = Long.toString(ProcessHandle.current().pid() % 100_000);
    private final String namespace = "rlns" + suffix;
    private final String hostSide = "rlh" + suffix;
    private final String clientSide = "rlc" + suffix;
    /** Addresses of our own test hosts inside our own namespaces, never routed anywhere else. */
    private final String serverAddress = "10.231.77.1";
    private final String clientAddress = "10.231.77.2";
    private boolean created;

    @BeforeEach
    void makeNetwork() throws Exception {
        String why = unavailableReason();
        assumeTrue(why == null, () -> "skipping the network-namespace test: " + why);
        run("ip", "netns", "add", namespace);
        created = true;
        run("ip", "link", "add", hostSide, "type", "veth", "peer", "name", clientSide);
        run("ip", "link", "set", clientSide, "netns", namespace);
        run("ip", "addr", "add", serverAddress + "/30", "dev", hostSide);
        run("ip", "link", "set", hostSide, "up");
        inNamespace("ip", "addr", "add", clientAddress + "/30", "dev", clientSide);
        inNamespace("ip", "link", "set", clientSide, "up");
        inNamespace("ip", "link", "set", "lo", "up");
    }

    @AfterEach
    void removeNetwork() throws Exception {
        if (created) {
            runQuietly("ip", "netns", "del", namespace);
            runQuietly("ip", "link", "del", hostSide);
        }
    }

    @Test
    void linkDownThenUpReconnectsAndRejoins() throws Exception {
        // Plaintext: the self-signed certificate names only loopback, and the client is another JVM.
        try (RoomServer server = RoomServer.builder().bindAddress(serverAddress).signalPort(0).mediaPort(0)
                .tokenSecret(Fixtures.SECRET).plaintext().start()) {
            List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace,
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Djna.nosys=true", "-cp", System.getProperty("java.class.path"),
                    NetnsClientMain.class.getName(), serverAddress, Integer.toString(server.signalPort()),
                    Fixtures.token("netns", 9), "netns", "9"));
            Process client = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            RecordingListener events = new RecordingListener("netns-client");
            Thread reader = new Thread(() -> pump(client, events), "netns-client-stdout");
            reader.setDaemon(true);
            reader.start();
            try {
                events.awaitEvent("onJoinChannel(OK, uid=9)", Duration.ofSeconds(30));
                events.clear();

                inNamespace("ip", "link", "set", clientSide, "down");
                List<String> down = events.awaitEvent("onReconnectingStart()", Duration.ofSeconds(15));
                assertEquals(2, down.size(), "RECONNECTING and onReconnectingStart: " + down);
                inNamespace("ip", "link", "set", clientSide, "up");

                List<String> seen = events.awaitEvent("onRejoinChannel(OK)", Duration.ofSeconds(20));
                assertEquals(List.of(down.get(0), "onReconnectingStart()",
                        "state(CONNECTED, REJOIN_SUCCEED)", "onRejoinChannel(OK)"), seen);
                assertEquals(true, down.get(0).startsWith("state(RECONNECTING, "), down.get(0));
                assertEquals(java.util.Set.of(9L), server.members(Fixtures.APP_KEY, "netns"));
            } finally {
                client.getOutputStream().close();
                if (!client.waitFor(10, TimeUnit.SECONDS)) {
                    client.destroyForcibly();
                }
            }
        }
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

    private String unavailableReason() {
        if (!System.getProperty("os.name").toLowerCase().contains("linux")) {
            return "not Linux";
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            return "not running as root";
        }
        if (!Files.isExecutable(Path.of("/usr/sbin/ip")) && !Files.isExecutable(Path.of("/sbin/ip"))
                && !Files.isExecutable(Path.of("/usr/bin/ip")) && !Files.isExecutable(Path.of("/bin/ip"))) {
            return "the 'ip' command (iproute2) is not installed";
        }
        try {
            String probe = namespace + "probe";
            if (runQuietly("ip", "netns", "add", probe) != 0) {
                return "'ip netns add' failed: network namespaces are not available here";
            }
            runQuietly("ip", "netns", "del", probe);
        } catch (Exception e) {
            return "'ip netns add' could not run: " + e.getMessage();
        }
        return null;
    }

    private void inNamespace(String... command) throws Exception {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(List.of(command));
        run(full.toArray(new String[0]));
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
