package io.roomlink.bench.harness;

import io.roomlink.server.RoomServer;
import io.roomlink.testkit.TestRoomServer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

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

    public final String namespace;
    public final String hostSide;
    public final String clientSide;

    private ClientNetns(String suffix) {
        namespace = "rlbns" + suffix;
        hostSide = "rlbh" + suffix;
        clientSide = "rlbc" + suffix;
    }

    /** Null if a namespace can be made here, else why not. */
    public static String unavailableReason() {
        if (!System.getProperty("os.name").toLowerCase().contains("linux")) {
            return "not Linux";
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            return "not running as root";
        }
        if (List.of("/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip").stream()
                .noneMatch(p -> Files.isExecutable(Path.of(p)))) {
            return "iproute2 ('ip') is not installed";
        }
        String probe = "rlbprobe" + ProcessHandle.current().pid() % 100_000;
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

    public static ClientNetns create() throws Exception {
        ClientNetns net = new ClientNetns(Long.toString(ProcessHandle.current().pid() % 100_000));
        run("ip", "netns", "add", net.namespace);
        try {
            run("ip", "link", "add", net.hostSide, "type", "veth", "peer", "name", net.clientSide);
            run("ip", "link", "set", net.clientSide, "netns", net.namespace);
            run("ip", "addr", "add", HOST_ADDRESS + "/24", "dev", net.hostSide);
            run("ip", "link", "set", net.hostSide, "up");
            run("ip", "netns", "exec", net.namespace, "ip", "addr", "add", CLIENT_ADDRESS + "/24", "dev", net.clientSide);
            run("ip", "netns", "exec", net.namespace, "ip", "link", "set", net.clientSide, "up");
            run("ip", "netns", "exec", net.namespace, "ip", "link", "set", "lo", "up");
        } catch (Exception e) {
            net.close();
            throw e;
        }
        return net;
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
        String probe = "rlbprobe" + ProcessHandle.current().pid() % 100_000;
        if (runQuietly("ip", "netns", "exec", namespace, "nft", "add", "table", "inet", probe) != 0) {
            return "'nft add table' failed inside the namespace: no nf_tables in this kernel?";
        }
        runQuietly("ip", "netns", "exec", namespace, "nft", "delete", "table", "inet", probe);
        return null;
    }

    /** A plaintext server on the host end of the veth, at the defaults, for engines in the namespace. */
    public static RoomServer startServer() {
        return RoomServer.builder().bindAddress(HOST_ADDRESS).signalPort(0).mediaPort(0)
                .tokenSecret(TestRoomServer.DEFAULT_TOKEN_SECRET).plaintext().start();
    }

    /** The command prefix that runs a program inside the namespace. */
    public List<String> exec() {
        return List.of("ip", "netns", "exec", namespace);
    }

    @Override
    public void close() throws Exception {
        runQuietly("ip", "netns", "del", namespace);
        runQuietly("ip", "link", "del", hostSide);
    }

    public static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
        }
    }

    private static int runQuietly(String... command) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(command));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
    }
}
