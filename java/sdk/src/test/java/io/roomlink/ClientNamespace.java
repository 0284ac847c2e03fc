package io.roomlink;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.roomlink.testkit.NamespaceLink;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
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
    static final String PREFIX = NamespaceLink.PREFIX;
    /** How the names of our namespace and veth start (the bench's ClientNetns has its own). */
    private static final String NAMES = "rl";

    private final NamespaceLink link;
    final String namespace;
    final String hostSide;
    final String clientSide;

    private ClientNamespace(NamespaceLink link) {
        this.link = link;
        namespace = link.namespace;
        hostSide = link.hostSide;
        clientSide = link.clientSide;
    }

    /** Null if namespaces can be made here, else why not. */
    static String unavailableReason() {
        return NamespaceLink.unavailableReason(NAMES);
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
        return new ClientNamespace(NamespaceLink.create(NAMES, SERVER_ADDRESS, CLIENT_ADDRESS));
    }

    void inNamespace(String... command) throws Exception {
        link.inNamespace(command);
    }

    /** Starts a client JVM in the namespace; its callbacks arrive in {@code events}. */
    Client startClient(int serverPort, String token, String channel, long uid, RecordingListener events)
            throws IOException {
        List<String> command = new ArrayList<>(link.exec());
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
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
        link.close();
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
}
