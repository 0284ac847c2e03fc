package io.roomlink.testkit;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Linux network namespace joined to this host by a veth pair, both ends addressed and up: a real
 * network for client processes, whose faults the kernel makes ({@code ip link set down}, nft rules,
 * netem) instead of a proxy. Needs root and iproute2; {@link #unavailableReason} says why not
 * otherwise. The SDK's ClientNamespace and the bench's ClientNetns are each one of these, under
 * names and addresses of their own, so that both can run on one machine at once.
 */
public final class NamespaceLink implements AutoCloseable {
    /** The prefix length of both addresses. */
    public static final String PREFIX = "/24";

    public final String namespace;
    public final String hostSide;
    public final String clientSide;

    private NamespaceLink(String names, String suffix) {
        namespace = names + "ns" + suffix;
        hostSide = names + "h" + suffix;
        clientSide = names + "c" + suffix;
    }

    /** Null if a namespace can be made here, else why not; {@code names} as for {@link #create}. */
    public static String unavailableReason(String names) {
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
        String probe = names + "probe" + pidSuffix();
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
     * Makes the namespace and the link, both ends up: {@code hostAddress} on this host's end,
     * {@code clientAddress} inside. The names start with {@code names} and carry this JVM's pid.
     */
    public static NamespaceLink create(String names, String hostAddress, String clientAddress) throws Exception {
        NamespaceLink link = new NamespaceLink(names, pidSuffix());
        run("ip", "netns", "add", link.namespace);
        try {
            run("ip", "link", "add", link.hostSide, "type", "veth", "peer", "name", link.clientSide);
            run("ip", "link", "set", link.clientSide, "netns", link.namespace);
            run("ip", "addr", "add", hostAddress + PREFIX, "dev", link.hostSide);
            run("ip", "link", "set", link.hostSide, "up");
            link.inNamespace("ip", "addr", "add", clientAddress + PREFIX, "dev", link.clientSide);
            link.inNamespace("ip", "link", "set", link.clientSide, "up");
            link.inNamespace("ip", "link", "set", "lo", "up");
        } catch (Exception e) {
            link.close();
            throw e;
        }
        return link;
    }

    /** The command prefix that runs a program inside the namespace. */
    public List<String> exec() {
        return List.of("ip", "netns", "exec", namespace);
    }

    /** Runs {@code command} inside the namespace; throws unless it succeeds. */
    public void inNamespace(String... command) throws Exception {
        List<String> full = new ArrayList<>(exec());
        full.addAll(List.of(command));
        run(full.toArray(new String[0]));
    }

    @Override
    public void close() throws Exception {
        runQuietly("ip", "netns", "del", namespace);
        runQuietly("ip", "link", "del", hostSide);
    }

    /** Runs {@code command}; throws with its output unless it exits 0 within 30 s. */
    public static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
        }
    }

    /** Runs {@code command}, its output discarded; its exit status, -1 if it took over 30 s. */
    public static int runQuietly(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
    }

    private static String pidSuffix() {
        return Long.toString(ProcessHandle.current().pid() % 100_000);
    }
}
