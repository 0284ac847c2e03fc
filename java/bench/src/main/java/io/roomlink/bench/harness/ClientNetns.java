package io.roomlink.bench.harness;

import io.roomlink.server.RoomServer;
import io.roomlink.testkit.NamespaceLink;
import io.roomlink.testkit.TestRoomServer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A Linux network namespace for client JVMs, joined to this host by a veth pair: faults made by
 * the kernel ({@code ip link set down}, nft DROP rules) instead of a proxy. Needs root and iproute2;
 * {@link #unavailableReason()} says why not otherwise, and the scenario reports that instead of a
 * number.
 */
public final class ClientNetns implements AutoCloseable {
    /** Our own test addresses inside our own namespace, never routed anywhere else. */
    public static final String HOST_ADDRESS = "10.231.78.1";
    public static final String CLIENT_ADDRESS = "10.231.78.2";
    /** How the names of our namespace and veth start (the SDK tests' ClientNamespace has its own). */
    private static final String NAMES = "rlb";

    private final NamespaceLink link;
    public final String namespace;
    public final String hostSide;
    public final String clientSide;

    private ClientNetns(NamespaceLink link) {
        this.link = link;
        namespace = link.namespace;
        hostSide = link.hostSide;
        clientSide = link.clientSide;
    }

    /** Null if a namespace can be made here, else why not. */
    public static String unavailableReason() {
        return NamespaceLink.unavailableReason(NAMES);
    }

    public static ClientNetns create() throws Exception {
        return new ClientNetns(NamespaceLink.create(NAMES, HOST_ADDRESS, CLIENT_ADDRESS));
    }

    /**
     * Null if nft can add a table inside this namespace (nftables installed, nf_tables in the
     * kernel), else why not. It adds a probe table and deletes it again.
     */
    public String nftUnavailableReason() throws Exception {
        if (List.of("/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft", "/bin/nft").stream()
                .noneMatch(p -> Files.isExecutable(Path.of(p)))) {
            return "the 'nft' command (nftables) is not installed";
        }
        String probe = NAMES + "probe" + ProcessHandle.current().pid() % 100_000;
        if (NamespaceLink.runQuietly("ip", "netns", "exec", namespace, "nft", "add", "table", "inet", probe) != 0) {
            return "'nft add table' failed inside the namespace: no nf_tables in this kernel?";
        }
        NamespaceLink.runQuietly("ip", "netns", "exec", namespace, "nft", "delete", "table", "inet", probe);
        return null;
    }

    /** A plaintext server on the host end of the veth, at the defaults, for engines in the namespace. */
    public static RoomServer startServer() {
        return RoomServer.builder().bindAddress(HOST_ADDRESS).signalPort(0).mediaPort(0)
                .tokenSecret(TestRoomServer.DEFAULT_TOKEN_SECRET).plaintext().start();
    }

    /** The command prefix that runs a program inside the namespace. */
    public List<String> exec() {
        return link.exec();
    }

    @Override
    public void close() throws Exception {
        link.close();
    }

    /** Runs {@code command}; throws with its output unless it succeeds. */
    public static void run(String... command) throws Exception {
        NamespaceLink.run(command);
    }
}
